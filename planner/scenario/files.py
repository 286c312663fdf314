"""Scenarios: every option of a planning run, from a TOML file and/or the command line.

A scenario file holds the same keys as the ``camplan plan`` options, with
underscores (``site_id``, ``min_spacing``). Layer paths are relative to the
scenario file, or to ``data_dir`` when given. Reading checks every layer and
reports every problem of every layer in one error.
"""

from __future__ import annotations

import difflib
import logging
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geodata import fingerprint, read_layer, validate_layer
from geodata.errors import CamplanError, LayerError, OptionError, ScenarioError
from planner.api import About, PlanLayers, PlanOptions, plan_sites
from planner.plan.result import Plan
from planner.scenario.layers import (
    CANDIDATE_KEYS,
    SURFACE_KEYS,
    build_inputs,
    check_table,
    join_population,
    read_extra_layers,
)
from planner.solver.optimise import Progress

__all__ = ["Scenario", "check_layer", "check_scenario", "load_scenario", "run_scenario"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Scenario:
    """A planning run, fully specified. Keys of a scenario file have the same names."""

    demand: Path | None = None
    sites: Path | None = None
    weight: str = "weight"
    site_id: str | None = None
    radius: float | None = None
    sets: int | None = None
    phases: tuple[int, ...] = ()
    existing: tuple[Path, ...] = ()
    owner_column: str = "owner"
    cost_column: str | None = None
    budget: float | None = None
    forced: tuple[str, ...] = ()
    forbidden: tuple[str, ...] = ()
    min_spacing: float = 0.0
    decay: tuple[tuple[float, float], ...] = ()
    districts: Path | None = None
    district_name: str | None = None
    population: str | None = None
    exclusions: Path | None = None
    crs: str | None = None
    exact: bool | None = None
    time_limit: float = 30.0
    local_search: bool = True
    title: str = "camplan plan"
    model: str = "disc"
    buildings: Path | None = None
    streets: Path | None = None
    wall_tolerance: float = 0.5
    max_snap: float = 50.0
    district_population: Path | None = None
    district_population_key: str = "district"
    surface: Mapping[str, Any] = field(default_factory=dict)
    candidates: Mapping[str, Any] = field(default_factory=dict)
    source: str = field(default="command line", compare=False)
    base: Path = field(default=Path("."), compare=False)

    def options(self) -> PlanOptions:
        """The optimiser's options, checked."""
        if self.radius is None:
            raise OptionError("--radius", "is required: the reach of one camera set in metres")
        if self.sets is None and self.budget is None:
            raise OptionError("--sets", "is required (or --budget with --cost-column)")
        exact = "auto" if self.exact is None else "always" if self.exact else "never"
        if not (self.time_limit > 0):
            raise OptionError("--time-limit", f"must be positive seconds, got {self.time_limit}")
        if self.min_spacing < 0:
            raise OptionError("--min-spacing", f"must be >= 0 metres, got {self.min_spacing}")
        return PlanOptions(
            radius_m=float(self.radius),
            sets=self.sets,
            phases=self.phases,
            bands=self.decay,
            min_spacing_m=float(self.min_spacing),
            budget=self.budget,
            forced=self.forced,
            forbidden=self.forbidden,
            local_search=self.local_search,
            exact=exact,
            time_limit=float(self.time_limit),
        )


def _known() -> dict[str, Any]:
    return {f.name: f for f in fields(Scenario) if f.name != "source"}


def _coerce(key: str, value: Any, where: str) -> Any:
    """Check the TOML type of one key and turn it into the Scenario's type."""

    def bad(expected: str) -> ScenarioError:
        return ScenarioError(f"{where}: key {key!r} must be {expected}, got {value!r}")

    if key in ("surface", "candidates"):
        keys = SURFACE_KEYS if key == "surface" else CANDIDATE_KEYS
        problems = check_table(key, value, keys, where)
        if problems:
            raise ScenarioError("; ".join(p.removeprefix(f"{where}: ") for p in problems))
        return dict(value)
    if key in ("radius", "budget", "min_spacing", "time_limit", "wall_tolerance", "max_snap"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad("a number")
        return float(value)
    if key == "sets":
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("a whole number")
        return value
    if key == "phases":
        if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        ):
            raise bad("a list of whole numbers such as [2000, 2000]")
        return tuple(value)
    if key in ("forced", "forbidden"):
        if not isinstance(value, list):
            raise bad("a list of site ids")
        return tuple(str(v) for v in value)
    if key == "existing":
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
            raise bad("a path or a list of paths")
        return tuple(items)
    if key == "decay":
        try:
            return tuple((float(d), float(q)) for d, q in value)
        except (TypeError, ValueError):
            raise bad("a list of [distance, quality] pairs") from None
    if key in ("exact", "local_search"):
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if not isinstance(value, str):
        raise bad("a string")
    return value


def _resolve(path: str | Path, base: Path) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else base / p


def load_scenario(
    path: Path | None,
    overrides: Mapping[str, Any] | None = None,
    *,
    data_dir: Path | None = None,
    problems: list[str] | None = None,
) -> Scenario:
    """Read a scenario file (if any) and apply ``overrides`` (command-line options).

    Parameters
    ----------
    problems
        When given, unknown keys and wrong types are appended here (and skipped)
        instead of raised, so that ``camplan validate`` reports them together
        with every layer problem.

    Raises
    ------
    ScenarioError
        For a missing or malformed file, unknown keys (with a suggestion) or wrong types.
    """
    known = _known()
    values: dict[str, Any] = {}
    source = "command line"
    base = Path.cwd()
    if path is not None:
        source = str(path)
        if not path.is_file():
            raise ScenarioError(f"{path}: no such scenario file")
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            raise ScenarioError(f"{path}: not a valid TOML file: {err}") from err
        found = []
        for key, value in raw.items():
            if key not in known:
                hint = difflib.get_close_matches(key, known, n=1)
                found.append(
                    f"unknown key {key!r}" + (f" (did you mean {hint[0]!r}?)" if hint else "")
                )
                continue
            try:
                values[key] = _coerce(key, value, source)
            except ScenarioError as err:
                found.append(str(err).removeprefix(f"{source}: "))
        if found and problems is None:
            raise ScenarioError(f"{path}: " + "; ".join(found))
        if problems is not None:
            problems.extend(f"{path}: {p}" for p in found)
        base = data_dir or path.parent
    elif data_dir is not None:
        base = data_dir
    for key, value in (overrides or {}).items():
        if key in known and value is not None and value != ():
            values[key] = value
    for key in (
        "demand",
        "sites",
        "districts",
        "exclusions",
        "buildings",
        "streets",
        "district_population",
    ):
        if key in values:
            values[key] = _resolve(values[key], base)
    if "existing" in values:
        values["existing"] = tuple(_resolve(p, base) for p in values["existing"])
    return Scenario(**values, source=source, base=base)


def _read_all(scenario: Scenario) -> tuple[dict[str, Any], list[str]]:
    """Read and validate every layer; collect every problem instead of stopping at one."""
    specs: list[tuple[str, Path, Callable[[gpd.GeoDataFrame, str], gpd.GeoDataFrame]]] = []

    def add(role: str, path: Path | None, check: Callable[..., gpd.GeoDataFrame]) -> None:
        if path is not None:
            specs.append((role, path, check))

    add(
        "demand",
        scenario.demand,
        lambda g, s: validate_layer(
            g, source=s, geometry="point-or-polygon", weight=scenario.weight
        ),
    )
    add(
        "sites",
        scenario.sites,
        lambda g, s: validate_layer(
            g,
            source=s,
            geometry="point",
            id_column=scenario.site_id,
            required=[scenario.cost_column] if scenario.cost_column else (),
        ),
    )
    for i, p in enumerate(scenario.existing):
        add(f"existing{i}", p, lambda g, s: validate_layer(g, source=s, geometry="point"))
    district_columns = (
        scenario.district_name,
        None if scenario.district_population else scenario.population,
    )
    add(
        "districts",
        scenario.districts,
        lambda g, s: validate_layer(
            g, source=s, geometry="polygon", required=[c for c in district_columns if c]
        ),
    )
    add(
        "exclusions",
        scenario.exclusions,
        lambda g, s: validate_layer(g, source=s, geometry="polygon"),
    )
    layers: dict[str, Any] = {}
    problems: list[str] = []
    for role, path, check in specs:
        try:
            gdf = read_layer(path, role=role.rstrip("0123456789"), crs=scenario.crs)
            layers[role] = check(gdf, str(path))
            layers[f"{role}:fingerprint"] = fingerprint(path)
        except CamplanError as err:
            problems.append(str(err))
    return layers, problems


def check_layer(path: Path, *, crs: str | None = None) -> list[str]:
    """Every problem of one layer file (empty when it reads and validates)."""
    try:
        validate_layer(read_layer(path, crs=crs), source=str(path))
    except CamplanError as err:
        return [str(err)]
    return []


def check_scenario(scenario: Scenario) -> list[str]:
    """Every problem of every layer and option of a scenario (empty when it is fine)."""
    problems = []
    try:
        scenario.options()
    except CamplanError as err:
        problems.append(str(err))
    problems += _missing_inputs(scenario)
    _, layer_problems = _read_all(scenario)
    _, extra_problems = _read_extra(scenario)
    return problems + layer_problems + extra_problems


def _missing_inputs(scenario: Scenario) -> list[str]:
    problems = []
    if scenario.demand is None and not scenario.surface:
        problems.append("--demand: is required (a layer file), or a [surface] table")
    if scenario.sites is None and not scenario.candidates:
        problems.append("--sites: is required (a layer file), or a [candidates] table")
    return problems


def _read_extra(scenario: Scenario) -> tuple[dict[str, Any], list[str]]:
    return read_extra_layers(
        surface=scenario.surface,
        candidates=scenario.candidates,
        model=scenario.model,
        buildings=scenario.buildings,
        streets=scenario.streets,
        district_population=scenario.district_population,
        district_population_key=scenario.district_population_key,
        population=scenario.population,
        crs=scenario.crs,
        base=scenario.base,
    )


def run_scenario(scenario: Scenario, *, progress: Progress | None = None) -> Plan:
    """Read, validate and plan a scenario."""
    missing = _missing_inputs(scenario)
    if missing:
        raise OptionError(missing[0].split(":")[0], missing[0].split(": ", 1)[1])
    options = scenario.options()
    t0 = time.perf_counter()
    layers, problems = _read_all(scenario)
    extra, extra_problems = _read_extra(scenario)
    problems += extra_problems
    read_s = time.perf_counter() - t0
    if len(problems) == 1:  # the message already names its file: no scenario prefix
        raise CamplanError(problems[0])
    if problems:
        raise LayerError(scenario.source, problems)
    districts = layers.get("districts")
    if districts is not None and "district_population" in extra:
        districts = join_population(
            districts,
            extra["district_population"],
            name=scenario.district_name or "name",
            key=scenario.district_population_key,
            column=scenario.population or "population",
            source=f"district population table {scenario.district_population}",
        )
    t1 = time.perf_counter()
    built = build_inputs(
        extra,
        demand=layers.get("demand"),
        sites=layers.get("sites"),
        districts=districts,
        exclusions=layers.get("exclusions"),
        surface=scenario.surface,
        candidates=scenario.candidates,
        model=scenario.model,
        population=scenario.population,
        district_name=scenario.district_name,
        wall_tolerance_m=scenario.wall_tolerance,
        max_snap_m=scenario.max_snap,
    )
    build_s = time.perf_counter() - t1
    existing = [layers[k] for k in sorted(layers) if k.startswith("existing") and ":" not in k]
    merged = None
    if existing:
        names = [p.stem for p in scenario.existing]
        merged = _concat_existing(existing, names, scenario.owner_column)
    inputs = {k.split(":")[0]: v for k, v in layers.items() if k.endswith(":fingerprint")}
    inputs.update(built.inputs)
    weight = scenario.weight if scenario.demand is not None else "weight"
    site_id = scenario.site_id if scenario.sites is not None else "site_id"
    sources = {
        "demand": str(scenario.demand),
        "sites": str(scenario.sites),
        "districts": str(scenario.districts),
        "exclusions": str(scenario.exclusions),
    }
    plan = plan_sites(
        built.demand,
        built.sites,
        options,
        weight=weight,
        site_id=site_id,
        layers=PlanLayers(
            existing=merged,
            cost_column=scenario.cost_column,
            districts=built.districts,
            district_name=scenario.district_name,
            population=scenario.population,
            exclusions=layers.get("exclusions"),
            coverage=built.coverage,
        ),
        about=About(
            title=scenario.title, sources=sources, inputs=inputs, parameters=built.parameters
        ),
        progress=progress,
    )
    return replace(plan, timings={"read": read_s, "build": build_s, **plan.timings})


def _concat_existing(
    layers: list[gpd.GeoDataFrame], names: list[str], owner_column: str
) -> gpd.GeoDataFrame:
    """One layer of existing cameras with an ``owner`` column (the file name when none)."""
    parts = []
    for gdf, name in zip(layers, names, strict=True):
        gdf = gdf.to_crs(layers[0].crs)
        owner = (
            gdf[owner_column].astype(str)
            if owner_column in gdf.columns
            else pd.Series(name, index=gdf.index)
        )
        parts.append(
            gpd.GeoDataFrame(
                {"owner": owner.to_numpy()}, geometry=gdf.geometry.to_numpy(), crs=gdf.crs
            )
        )
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=layers[0].crs)
