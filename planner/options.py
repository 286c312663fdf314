"""Every option of a planning run, declared once: name, type, default, unit, range, help, flag, key.

The command line (:mod:`maps.cli`), the scenario reader (:mod:`planner.scenario`),
``camplan validate``, the error messages and the README's option tables are all
made from :data:`OPTIONS`, in the spirit of geopandas' ``_config.py``: one
declaration per option, with its validator. A key of a scenario table is
written ``"table.key"`` (``"surface.cell"`` is ``cell`` in ``[surface]``).

Messages name an option the way the user wrote it: ``--radius`` on the command
line, ``radius`` in a scenario file, ``[surface] cell`` in a table.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "OPTIONS",
    "TABLES",
    "Option",
    "column_options",
    "label",
    "lookup",
    "markdown_table",
    "parse",
    "readme_with_tables",
    "suggest",
]

Kind = Literal[
    "number", "count", "text", "flag", "path", "paths", "counts", "ids", "bands", "choice",
    "weights", "table", "crs", "layers", "texts", "tables",
]

#: What a value of each kind must be, in messages.
_EXPECTED: dict[str, str] = {
    "number": "a number",
    "count": "a whole number",
    "text": "a string",
    "flag": "true or false",
    "path": "a path (string)",
    "paths": "a path or a list of paths",
    "counts": "a list of whole numbers such as [2000, 2000]",
    "ids": "a list of site ids",
    "bands": "a list of [distance, quality] pairs",
    "choice": "one of the listed words",
    "weights": "a table of names = numbers",
    "table": "a table of keys",
    "layers": "a path, or a list of paths or of tables { layer = path, owner = name }",
    "texts": "a list of strings",
    "tables": "a list of tables ([[table]] blocks)",
    "crs": "a CRS such as 'EPSG:2326'",
}

#: Scenario tables and what they are for.
TABLES: dict[str, str] = {
    "surface": "how the demand surface is built from layers (instead of a `demand` layer)",
    "candidates": "where candidate sites come from (instead of, or besides, a `sites` layer)",
}


@dataclass(frozen=True)
class Option:
    """One option: its scenario key, command-line flag, type, default, unit, range and help.

    Attributes
    ----------
    key
        Scenario key; ``"table.key"`` for a key of a scenario table.
    kind
        The type of the value (see :data:`_EXPECTED`).
    help
        One sentence for ``--help``, the README and messages.
    default
        The value when the option is not given (``None``: not set).
    unit
        ``"m"`` (metres) or ``"s"`` (seconds) for numbers, else empty.
    low, high
        The allowed range of numbers (``None``: unbounded); ``low_open`` /
        ``high_open`` exclude the end itself.
    choices
        The words a ``choice`` may be.
    flag
        The command-line flag; ``""`` derives ``--key-with-dashes``, ``None``
        makes a scenario-only option.
    column_of
        The layer role whose column this option names (``demand``, ``sites``, ...),
        so that ``camplan validate`` checks the column exists.
    """

    key: str
    kind: Kind
    help: str
    default: Any = None
    unit: str = ""
    low: float | None = None
    low_open: bool = False
    high: float | None = None
    high_open: bool = False
    choices: tuple[str, ...] = ()
    flag: str | None = ""
    column_of: str | None = None
    fields: tuple[Option, ...] = ()
    required: bool = False

    @property
    def table(self) -> str | None:
        """The scenario table the key belongs to, or ``None`` for a top-level key."""
        return self.key.split(".", 1)[0] if "." in self.key else None

    @property
    def name(self) -> str:
        """The key within its table (the whole key at the top level)."""
        return self.key.rsplit(".", 1)[-1]

    @property
    def cli(self) -> str | None:
        """The command-line flag, or ``None`` for a scenario-only option."""
        if self.flag is None:
            return None
        return self.flag or "--" + self.name.replace("_", "-")

    def expected(self) -> str:
        """What a value must be, in words (with the range and unit)."""
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        text = _EXPECTED[self.kind]
        bounds = []
        if self.low is not None:
            bounds.append(f"{'above' if self.low_open else 'at least'} {self.low:g}")
        if self.high is not None:
            bounds.append(f"{'below' if self.high_open else 'at most'} {self.high:g}")
        if bounds:
            text += " " + " and ".join(bounds)
        units = {"m": "metres", "s": "seconds"}
        return text + (f" ({units.get(self.unit, self.unit)})" if self.unit else "")

    def check(self, value: Any) -> str | None:
        """The problem with a parsed ``value`` (range, choices), or ``None``."""
        if value is None:
            return None
        if self.kind == "choice" and value not in self.choices:
            return f"must be {self.expected()}, got {value!r}"
        if self.kind in ("number", "count"):
            return self._range(value)
        if self.kind == "counts":
            bad = next((v for v in value if self._range(v)), None)
            return None if bad is None else f"every value {self._range(bad)}"
        if self.kind == "weights":
            bad_w = {k: v for k, v in value.items() if not (math.isfinite(v) and v >= 0)}
            return f"weights must be numbers >= 0, got {bad_w}" if bad_w else None
        return None

    def _range(self, value: float) -> str | None:
        ok = math.isfinite(value)
        if ok and self.low is not None:
            ok = value > self.low if self.low_open else value >= self.low
        if ok and self.high is not None:
            ok = value < self.high if self.high_open else value <= self.high
        return None if ok else f"must be {self.expected()}, got {value!r}"


def _opt(key: str, kind: Kind, help: str, **more: Any) -> Option:
    return Option(key, kind, help, **more)


_M = {"unit": "m"}
_POSITIVE_M = {"unit": "m", "low": 0.0, "low_open": True}

#: Every option, in the order of ``--help`` and the README tables.
OPTIONS: tuple[Option, ...] = (
    # -- layers and their columns
    _opt("demand", "path", "Demand points or polygons (any GDAL format or CSV); polygons stand "
         "at an interior point."),
    _opt("weight", "text", "Demand weight column.", default="weight", column_of="demand"),
    _opt("sites", "path", "Candidate mounting sites (points); their ids appear unchanged in the "
         "output."),
    _opt("site_id", "text", "Column of unique site ids.", column_of="sites"),
    _opt("existing", "layers", "Existing camera sets (repeatable); what they cover counts first, "
         "reported per owner. In a scenario file a layer may name its owner: "
         "{ layer = path, owner = name }."),
    _opt("existing_owners", "texts", "Owner of each existing layer, in order (set by "
         "existing = [{ layer, owner }]; default: the owner column, else the file's name).",
         flag=None),
    _opt("owner_column", "text", "Column naming the owner of existing cameras (default: the "
         "file's name when the layer has no such column).", default="owner",
         column_of="existing"),
    _opt("districts", "path", "District polygons for the per-district table."),
    _opt("district_name", "text", "District name column.", column_of="districts"),
    _opt("population", "text", "District population column (of the districts, or of the "
         "district_population table).", column_of="districts"),
    _opt("district_population", "path", "A CSV of population per district, joined to the "
         "districts by name.", flag=None),
    _opt("district_population_key", "text", "The district-name column of district_population.",
         default="district", flag=None, column_of="district_population"),
    _opt("exclusions", "path", "Privacy exclusion zones: sites inside are removed."),
    _opt("crs", "crs", "CRS of CSV coordinates that are not longitude/latitude, e.g. EPSG:2326."),
    _opt("title", "text", "Title of the plan (map, report).", default="camplan plan"),
    _opt("tiles", "text", "Base tiles of map.html: your tile server's URL template (e.g. "
         "https://tiles.example.org/{z}/{x}/{y}.png), a provider name, or none (the land, "
         "streets and buildings are drawn instead).", default="OpenStreetMap"),
    _opt("tiles_attribution", "text", "Copyright line of the tile server (default: its host "
         "name)."),
    _opt("demand_layer", "choice", "Demand points written to plan.gpkg's demand layer: all, "
         "covered (those the plan reaches, with their coverage quality; the others are the "
         "input's points at quality 0), uncovered (the gaps) or none. The map, report and "
         "tables always use every point.", default="covered",
         choices=("all", "covered", "uncovered", "none")),
    # -- the plan
    _opt("radius", "number", "Reach of one camera set.", **_POSITIVE_M),
    _opt("sets", "count", "Number of new camera sets.", low=1),
    _opt("phases", "counts", "Phase sizes adding up to at most the sets (the rest is a last "
         "phase), e.g. 2000,2000.", low=1),
    _opt("cost_column", "text", "Site cost column (with budget).", column_of="sites"),
    _opt("budget", "number", "Total cost allowed, instead of a number of sets.", low=0.0,
         low_open=True),
    _opt("forced", "ids", "Site ids that must be chosen (comma-separated on the command line)."),
    _opt("forbidden", "ids", "Site ids that must never be chosen."),
    _opt("min_spacing", "number", "Minimum distance between two chosen sets.", default=0.0,
         low=0.0, **_M),
    _opt("decay", "bands", "Distance-decay bands DIST:QUALITY, e.g. 25:1,50:0.6,100:0.3 "
         "(identify / recognise / observe)."),
    _opt("model", "choice", "Coverage model: straight-line disc, line of sight past buildings, "
         "or walking distance along streets.", default="disc",
         choices=("disc", "sightline", "network")),
    _opt("buildings", "path", "Building polygons (sightline model)."),
    _opt("streets", "path", "Street lines (any GDAL format, OSM .pbf, GraphML)."),
    _opt("wall_tolerance", "number", "Sightline: metres a line of sight may graze a wall.",
         default=0.5, low=0.0, **_M),
    _opt("max_snap", "number", "Network: farthest snap of a point to the street graph.",
         default=50.0, **_POSITIVE_M),
    # -- directional cameras (any of camera, resolution, hfov, focal_mm turns them on)
    _opt("camera", "text", "Camera type from the catalogue (e.g. 1080p-4mm, 4k-8mm) or from "
         "camera_types: sets of directional cameras with DORI reach instead of discs."),
    _opt("resolution", "count", "Horizontal pixels of each camera (overrides the type's).",
         low=1),
    _opt("hfov", "number", "Horizontal field of view of each camera, degrees (or focal_mm with "
         "sensor_mm).", low=0.0, low_open=True, high=180.0, high_open=True),
    _opt("focal_mm", "number", "Lens focal length, millimetres.", low=0.0, low_open=True),
    _opt("sensor_mm", "number", "Sensor width, millimetres.", low=0.0, low_open=True),
    _opt("cameras_per_set", "count", "Cameras on one mount, each with its own pan.", default=1,
         low=1, high=4),
    _opt("pan_step", "number", "Pans tried, every this many degrees from north (divides 360).",
         default=15.0, low=0.0, low_open=True, high=180.0),
    _opt("level", "choice", "Count a point only when seen at this DORI level or better "
         "(default: value by the best level seen, see level_weights).",
         choices=("detect", "observe", "recognise", "identify")),
    _opt("level_weights", "weights", "Value of a point seen at each DORI level, e.g. "
         "{ identify = 1, recognise = 0.8, observe = 0.5, detect = 0.25 } (the default).",
         flag=None),
    _opt("spread", "number", "Fix the cameras of a set this many degrees apart (e.g. 180: back "
         "to back); default: independent pans.", low=0.0, low_open=True, high=360.0,
         high_open=True),
    _opt("mount_height", "number", "Camera height above the ground (with tilt: the blind zone "
         "under the pole).", **_POSITIVE_M),
    _opt("tilt", "number", "Camera tilt below the horizontal, degrees.", low=0.0, high=90.0),
    _opt("camera_types", "table", "Your own camera types, e.g. [camera_types.my-cam] with "
         "resolution_px and hfov_deg (or focal_mm and sensor_mm).", flag=None),
    # -- the optimiser
    _opt("exact", "flag", "Always (true) / never (false) solve the MIP with HiGHS; default: "
         "when the instance is small.", flag="--exact/--no-exact"),
    _opt("time_limit", "number", "Time allowed to each HiGHS solve: a safety net; exact_nodes "
         "(MIPs) and fixed iteration counts (LPs) are the budget.", default=30.0, unit="s",
         low=0.0, low_open=True),
    _opt("exact_nodes", "count", "Branch-and-bound nodes each HiGHS MIP solve may explore: the "
         "budget of exact solving, counted (not timed) so a plan does not depend on the "
         "machine's load.", default=1000, low=1),
    _opt("windows", "count", "Windows each phase may re-solve exactly after its swaps: a few "
         "neighbouring sites freed at once and placed anew by a small HiGHS MIP (each under "
         "exact_nodes). Default: 50 where the exact stage leaves a gap, none above 2.5 "
         "million coverage pairs, where each window takes about a second; 0: none.", low=0),
    _opt("window_size", "count", "Most chosen sites freed together in one window (fewer where "
         "the window would exceed 30,000 coverage pairs).", default=20, low=1),
    _opt("local_search", "flag", "Improve each phase by swapping sites (false: plain greedy).",
         default=True, flag="--local-search/--no-local-search"),
    # -- the engine (planner.distributed)
    _opt("cluster", "text", "Plan on the Dask cluster at this scheduler address, e.g. "
         "tcp://host:8786: plain greedy, the same plan as one machine."),
    _opt("workers", "count", "Plan on a local Dask cluster of this many worker processes, "
         "started and stopped by camplan.", low=1),
    _opt("worker_memory", "text", "Memory limit of each local worker, e.g. 4GB (with "
         "workers)."),
    # -- [surface]
    _opt("surface.points", "choice", "Demand points: a grid of cells clipped to the area, "
         "points along the streets, or the populated cells (touching the area) of the "
         "population raster, each with its own people.", default="grid",
         choices=("grid", "streets", "raster"), flag=None),
    _opt("surface.cell", "number", "Grid cell size.", default=100.0, flag=None, **_POSITIVE_M),
    _opt("surface.street_spacing", "number", "Spacing of demand points along streets.",
         default=25.0, flag=None, **_POSITIVE_M),
    _opt("surface.area", "path", "Land or study-area polygons (default: the districts).",
         flag=None),
    _opt("surface.population", "path", "Population or working population per polygon, spread "
         "by areal weighting: a layer, or 'districts' for the district table; or a raster "
         "(.tif, any format GDAL reads, any CRS; nodata, NaN and negative cells skipped) whose "
         "cells give their people to the demand cells they overlap, by overlap area, or to the "
         "nearest point when they overlap none (the total is kept).", flag=None),
    _opt("surface.population_column", "text", "Population column of that layer (default: the "
         "scenario's population).", flag=None, column_of="population"),
    _opt("surface.attractors", "path", "Attractor points such as metro exits.", flag=None),
    _opt("surface.attractor_weight", "text", "Attractor weight column (default: 1 each).",
         flag=None, column_of="attractors"),
    _opt("surface.attractor_decay", "number", "Exponential distance decay of attractors.",
         default=250.0, flag=None, **_POSITIVE_M),
    _opt("surface.counts", "path", "Pedestrian counts at points, or a raster of counts (moved "
         "onto the demand by area, like a population raster).", flag=None),
    _opt("surface.count_column", "text", "Count column of the counts layer.", default="count",
         flag=None, column_of="counts"),
    _opt("surface.footfall_bandwidth", "number", "Kernel smoothing the counts.", default=100.0,
         flag=None, **_POSITIVE_M),
    _opt("surface.betweenness", "flag", "Model footfall from street betweenness (networkx) "
         "when nothing is measured.", default=False, flag=None),
    _opt("surface.footfall_mix", "weights", "Weight of each footfall component, e.g. "
         "{ population = 1, attractors = 1 }.", flag=None),
    _opt("surface.crime", "path", "Crime incident points.", flag=None),
    _opt("surface.crime_category", "text", "Category column of the incidents.", flag=None,
         column_of="crime"),
    _opt("surface.severity", "weights", "Severity weight per crime category.", flag=None),
    _opt("surface.bandwidth", "number", "Crime kernel bandwidth.", default=150.0, flag=None,
         **_POSITIVE_M),
    _opt("surface.crime_counts", "path", "A table of crime counts per district, spread over each "
         "district by footfall.", flag=None),
    _opt("surface.crime_key", "text", "District-name column of crime_counts.",
         default="district", flag=None, column_of="crime_counts"),
    _opt("surface.crime_column", "text", "Count column of crime_counts.", default="count",
         flag=None, column_of="crime_counts"),
    _opt("surface.rule", "choice", "product: high only where crime and footfall are both high; "
         "sum: weighted by crime_share.", default="product", choices=("product", "sum"),
         flag=None),
    _opt("surface.crime_exponent", "number", "Exponent of normalised crime.", default=1.0,
         low=0.0, low_open=True, flag=None),
    _opt("surface.footfall_exponent", "number", "Exponent of normalised footfall.", default=1.0,
         low=0.0, low_open=True, flag=None),
    _opt("surface.crime_share", "number", "Share of crime in the sum rule.", default=0.5,
         low=0.0, high=1.0, flag=None),
    # -- [candidates]
    _opt("candidates.from", "choice", "inventory (the sites layer), grid (every spacing metres "
         "over the land), intersections (street intersections) or inventories (the typed "
         "registers of [[candidates.inventory]] and the [candidates.fill] grid; the default "
         "when they are given).",
         choices=("inventory", "grid", "intersections", "inventories"), flag=None),
    _opt("candidates.spacing", "number", "Grid spacing.", default=100.0, flag=None,
         **_POSITIVE_M),
    _opt("candidates.tolerance", "number", "Intersections within this distance merge into one.",
         default=10.0, low=0.0, flag=None, **_M),
    _opt("candidates.min_degree", "count", "Fewest street segments meeting at an intersection.",
         default=3, low=1, flag=None),
    _opt("candidates.inventory", "tables", "Typed mount registers, one [[candidates.inventory]] "
         "block each: several at once, every site keeps its mount_type.", flag=None,
         fields=(
             _opt("layer", "path", "Points, or polygons such as buildings (one mount each).",
                  required=True),
             _opt("mount_type", "text", "What the mounts are: smart lamppost, police station, "
                  "...", required=True),
             _opt("cost", "number", "Cost of one mount of this type (then every register and "
                  "the fill need one).", low=0.0, low_open=True),
             _opt("id_column", "text", "Column of ids; site ids are mount_type:id (default: "
                  "the row number)."),
         )),
    _opt("candidates.buildings", "path", "Building polygons: the register points on or inside "
         "one building give one mount (the first register wins).", flag=None),
    _opt("candidates.fill", "table", "A grid of sites where the registers leave gaps "
         "([candidates.fill]).", flag=None,
         fields=(
             _opt("spacing", "number", "Grid spacing.", required=True, **_POSITIVE_M),
             _opt("mount_type", "text", "The grid sites' mount type.",
                  default="lamppost grid"),
             _opt("cost", "number", "Cost of one grid site.", low=0.0, low_open=True),
             _opt("gap", "number", "No grid site within this distance of a register mount.",
                  default=0.0, low=0.0, **_M),
             _opt("near", "number", "Only grid sites within this distance of a populated demand "
                  "point (default: everywhere).", **_POSITIVE_M),
         )),
)

_BY_KEY: dict[str, Option] = {o.key: o for o in OPTIONS}


def lookup(key: str) -> Option:
    """The option with scenario key ``key`` (``"table.key"`` inside a table)."""
    return _BY_KEY[key]


def suggest(key: str, table: str | None = None) -> str:
    """`` (did you mean 'x'?)`` for an unknown key, or an empty string."""
    prefix = f"{table}." if table else ""
    known = [o.name for o in OPTIONS if o.key.startswith(prefix) and (table or not o.table)]
    known += [] if table else list(TABLES)
    hint = difflib.get_close_matches(key, known, n=1)
    return f" (did you mean {hint[0]!r}?)" if hint else ""


def label(option: Option, *, cli: bool) -> str:
    """The option as the user wrote it: its flag, its key, or ``[table] key``."""
    if cli and option.cli is not None:
        return option.cli.split("/")[0]
    return f"[{option.table}] {option.name}" if option.table else option.name


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse(option: Option, value: Any) -> tuple[Any, str | None]:
    """Turn a scenario (TOML) value into the option's type: ``(value, problem or None)``."""
    kind, bad = option.kind, (None, f"must be {option.expected()}, got {value!r}")
    if kind == "number":
        return (float(value), option.check(float(value))) if _is_number(value) else bad
    if kind == "count":
        return (value, option.check(value)) if _is_int(value) else bad
    if kind in ("text", "path", "choice", "crs"):
        return (value, option.check(value)) if isinstance(value, str) else bad
    if kind == "flag":
        return (value, None) if isinstance(value, bool) else bad
    if kind in ("paths", "layers", "texts", "tables") or option.fields:
        return _parse_nested(option, value)
    if kind == "counts":
        ok = isinstance(value, list) and all(_is_int(v) for v in value)
        return (tuple(value), option.check(value)) if ok else bad
    if kind == "ids":
        return (tuple(str(v) for v in value), None) if isinstance(value, list) else bad
    if kind == "bands":
        try:
            return tuple((float(d), float(q)) for d, q in value), None
        except (TypeError, ValueError):
            return bad
    if kind == "weights":
        ok = isinstance(value, Mapping) and all(_is_number(v) for v in value.values())
        if not ok:
            return bad
        weights = {str(k): float(v) for k, v in value.items()}
        return weights, option.check(weights)
    return (dict(value), None) if isinstance(value, Mapping) else bad


def _parse_nested(option: Option, value: Any) -> tuple[Any, str | None]:
    """Lists of paths, layers or strings, and tables whose keys are the option's ``fields``."""
    if option.fields:
        return _parse_tables(option, value)
    bad = (None, f"must be {option.expected()}, got {value!r}")
    if option.kind == "paths":
        items = [value] if isinstance(value, str) else value
        ok = isinstance(items, list) and all(isinstance(v, str) for v in items)
        return (tuple(items), None) if ok else bad
    if option.kind == "layers":
        items = [value] if isinstance(value, str) else value
        ok = isinstance(items, list) and all(_is_layer_entry(v) for v in items)
        return (tuple(items), None) if ok else bad
    ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    return (tuple(value), None) if ok else bad


def _is_layer_entry(value: Any) -> bool:
    if isinstance(value, str):
        return True
    return (isinstance(value, Mapping) and set(value) <= {"layer", "owner"}
            and isinstance(value.get("layer"), str) and isinstance(value.get("owner", ""), str))


def _parse_tables(option: Option, value: Any) -> tuple[Any, str | None]:
    """A table (or list of tables) whose keys are the option's ``fields``, each parsed."""
    many = option.kind == "tables"
    entries = value if many else [value]
    if not (isinstance(entries, list) and all(isinstance(e, Mapping) for e in entries)):
        return None, f"must be {option.expected()}, got {value!r}"
    by_name = {f.key: f for f in option.fields}
    parsed, problems = [], []
    for i, entry in enumerate(entries):
        where = f"[{option.key}] #{i + 1}" if many else f"[{option.key}]"
        out: dict[str, Any] = {}
        for key, raw in entry.items():
            field = by_name.get(key)
            if field is None:
                hint = difflib.get_close_matches(key, list(by_name), n=1)
                problems.append(f"{where}: unknown key {key!r}"
                                + (f" (did you mean {hint[0]!r}?)" if hint else ""))
                continue
            out[key], problem = parse(field, raw)
            if problem is not None:
                problems.append(f"{where}: key {key!r} {problem}")
        problems += [f"{where} needs the key {f.key!r}" for f in option.fields
                     if f.required and f.key not in entry]
        parsed.append(out)
    if problems:
        return None, "; ".join(problems)
    return (tuple(parsed) if many else parsed[0]), None


def column_options(role: str) -> list[Option]:
    """The options that name a column of the layer of ``role``."""
    return [o for o in OPTIONS if o.column_of == role]


def _default_text(option: Option) -> str:
    if option.default is None or option.default == "":
        return ""
    if isinstance(option.default, bool):
        return "true" if option.default else "false"
    if isinstance(option.default, float):
        return f"{option.default:g}"
    return str(option.default)


def markdown_table(options: Iterable[Option], *, cli: bool) -> str:
    """A Markdown table of ``options`` (the README's option tables are made by this)."""
    head = "| option | key | meaning | value | default |" if cli else \
        "| key | meaning | value | default |"
    lines = [head, "|---" * head.count(" | ") + "|---|"]
    for o in options:
        default = _default_text(o)
        cells = [o.help, o.expected(), f"`{default}`" if default else ""]
        if cli:
            cells = [f"`{o.cli}`" if o.cli else "", f"`{o.name}`", *cells]
        else:
            cells = [f"`{o.name}`", *cells]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


#: The README's option tables: marker name -> the options it lists.
README_TABLES: dict[str, tuple[tuple[Option, ...], bool]] = {
    "plan": (tuple(o for o in OPTIONS if o.cli is not None), True),
    "scenario": (tuple(o for o in OPTIONS if o.cli is None and o.table is None), False),
    **{
        name: (tuple(o for o in OPTIONS if o.table == name), False)
        for name in TABLES
    },
}


def readme_with_tables(text: str) -> str:
    """``text`` (the README) with every ``<!-- options:NAME -->`` block made from the registry.

    A block runs from ``<!-- options:NAME -->`` to the next ``<!-- /options -->``.
    """
    out, rest = [], text
    while "<!-- options:" in rest:
        head, _, tail = rest.partition("<!-- options:")
        name, _, tail = tail.partition(" -->")
        _, end, tail = tail.partition("<!-- /options -->")
        if not end or name not in README_TABLES:
            raise ValueError(f"README: unknown or unclosed option table {name!r}")
        options, cli = README_TABLES[name]
        out.append(f"{head}<!-- options:{name} -->\n{markdown_table(options, cli=cli)}"
                   "<!-- /options -->")
        rest = tail
    return "".join(out) + rest


def _main(argv: list[str]) -> int:
    """``python -m planner.options README.md``: rewrite the README's option tables."""
    from pathlib import Path

    for name in argv:
        path = Path(name)
        path.write_text(readme_with_tables(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(_main(sys.argv[1:]))
