"""Scenario layers beyond a ready demand layer: a demand surface, candidates, a coverage model.

A scenario may describe its demand as a ``[surface]`` table of layers
(land, population, attractors, footfall counts, crime) instead of a ready
``demand`` layer, its candidates as a ``[candidates]`` table (a grid, street
intersections) instead of a ``sites`` inventory, and its coverage ``model``
(``disc``, ``sightline`` with ``buildings``, ``network`` with ``streets``).
This module checks those keys, reads every layer they name (collecting every
problem of every layer), and builds the demand, the sites and the model.

``[surface]`` keys (defaults in brackets; distances in metres):

- ``points``: ``"grid"`` [default] or ``"streets"`` (points along ``streets``);
- ``cell``: grid cell size [100]; ``street_spacing``: spacing along streets [25];
- ``area``: study-area polygons, a land mask [the districts];
- ``population``: ``"districts"`` (their population column) or a polygon
  layer; ``population_column``: its column [the scenario's ``population``];
- ``attractors``: attractor points; ``attractor_weight``: their weight
  column [1 each]; ``attractor_decay``: exponential decay [250];
- ``counts``: pedestrian counts at points; ``count_column`` [``count``];
  ``footfall_bandwidth``: their kernel [100];
- ``betweenness``: model footfall from street betweenness (needs ``streets``) [false];
- ``footfall_mix``: weight of each footfall component [1 each];
- ``crime``: incident points; ``crime_category``: category column;
  ``severity``: ``{category = weight}``; ``bandwidth``: kernel [150];
- ``crime_counts``: a table of counts per district (``crime_key``,
  ``crime_column``), spread over each district by footfall;
- ``rule``, ``crime_exponent``, ``footfall_exponent``, ``crime_share``: see
  :func:`planner.demand.combine` [product, 1, 1, 0.5].

``[candidates]`` keys: ``from`` (``"inventory"`` with ``sites``, else
``"grid"``; or ``"intersections"``), ``spacing`` [100], ``tolerance`` [10],
``min_degree`` [3]. Candidates are kept inside the surface ``area`` when there
is one, and outside the ``exclusions``.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

from geodata import fingerprint, to_metric
from geodata.errors import LayerError, ScenarioError
from geodata.layers import (
    collect,
    load_attractors,
    load_buildings,
    load_crime,
    load_footfall,
    load_population,
    load_streets,
)
from geodata.tables import join_key, read_table
from planner.coverage.models import MODELS, CoverageModel, DiscModel
from planner.demand.surface import SurfaceLayers, SurfaceOptions, build_surface
from planner.sites.candidates import (
    candidates_from_grid,
    candidates_from_intersections,
    clip_to_area,
)

__all__ = [
    "CANDIDATE_KEYS",
    "SURFACE_KEYS",
    "BuiltInputs",
    "build_inputs",
    "check_table",
    "join_population",
    "read_extra_layers",
]

logger = logging.getLogger(__name__)

_NUM, _STR, _BOOL, _MAP = "a number", "a string", "true or false", "a table"
SURFACE_KEYS: dict[str, str] = {
    "points": _STR, "cell": _NUM, "street_spacing": _NUM, "area": _STR,
    "population": _STR, "population_column": _STR,
    "attractors": _STR, "attractor_weight": _STR, "attractor_decay": _NUM,
    "counts": _STR, "count_column": _STR, "footfall_bandwidth": _NUM,
    "betweenness": _BOOL, "footfall_mix": _MAP,
    "crime": _STR, "crime_category": _STR, "severity": _MAP, "bandwidth": _NUM,
    "crime_counts": _STR, "crime_key": _STR, "crime_column": _STR,
    "rule": _STR, "crime_exponent": _NUM, "footfall_exponent": _NUM, "crime_share": _NUM,
}
CANDIDATE_KEYS: dict[str, str] = {
    "from": _STR, "spacing": _NUM, "tolerance": _NUM, "min_degree": _NUM,
}
PATH_KEYS = ("area", "population", "attractors", "counts", "crime", "crime_counts")


def check_table(name: str, raw: Any, keys: Mapping[str, str], where: str) -> list[str]:
    """Every problem of a ``[name]`` table: not a table, unknown keys, wrong types."""
    if not isinstance(raw, Mapping):
        return [f"{where}: [{name}] must be a table of keys"]
    problems = []
    for key, value in raw.items():
        expected = keys.get(key)
        if expected is None:
            hint = difflib.get_close_matches(key, keys, n=1)
            problems.append(f"{where}: unknown key {key!r} in [{name}]"
                            + (f" (did you mean {hint[0]!r}?)" if hint else ""))
            continue
        ok = {
            _NUM: isinstance(value, (int, float)) and not isinstance(value, bool),
            _STR: isinstance(value, str),
            _BOOL: isinstance(value, bool),
            _MAP: isinstance(value, Mapping),
        }[expected]
        if not ok:
            problems.append(f"{where}: key {key!r} in [{name}] must be {expected}, got {value!r}")
    return problems


def _path(value: str | None, base: Path) -> Path | None:
    if value is None or value == "districts":
        return None
    p = Path(value).expanduser()
    return p if p.is_absolute() else base / p


@dataclass(frozen=True)
class BuiltInputs:
    """Demand, sites and coverage model built from a scenario's layers."""

    demand: gpd.GeoDataFrame | None
    sites: gpd.GeoDataFrame | None
    coverage: CoverageModel | None
    districts: gpd.GeoDataFrame | None
    inputs: dict[str, str]
    parameters: dict[str, Any]


def read_extra_layers(
    *,
    surface: Mapping[str, Any],
    candidates: Mapping[str, Any],
    model: str,
    buildings: Path | None,
    streets: Path | None,
    district_population: Path | None,
    district_population_key: str,
    population: str | None,
    crs: str | None,
    base: Path,
) -> tuple[dict[str, Any], list[str]]:
    """Read every layer the surface, candidates and model name; collect every problem."""
    problems: list[str] = []
    if model not in MODELS:
        problems.append(f"model: {model!r} is not a coverage model; use one of "
                        f"{', '.join(MODELS)}")
    if model == "sightline" and buildings is None:
        problems.append("model 'sightline' needs a buildings layer (key buildings)")
    if model == "network" and streets is None:
        problems.append("model 'network' needs a streets layer (key streets)")
    needs_streets = (surface.get("points") == "streets" or surface.get("betweenness")
                     or candidates.get("from") == "intersections")
    if needs_streets and streets is None:
        problems.append("points along streets, betweenness and intersections need a streets "
                        "layer (key streets)")
    loaders: dict[str, Callable[[], Any]] = {}
    s = {k: _path(surface.get(k), base) for k in PATH_KEYS}
    if s["area"] is not None:
        loaders["area"] = lambda: _load_area(s["area"], crs)
    if s["population"] is not None:
        column = surface.get("population_column") or population or "population"
        loaders["population"] = lambda: load_population(s["population"], column=column, crs=crs)
    if s["attractors"] is not None:
        loaders["attractors"] = lambda: load_attractors(
            s["attractors"], weight=surface.get("attractor_weight"), crs=crs)
    if s["counts"] is not None:
        loaders["counts"] = lambda: load_footfall(
            s["counts"], count=surface.get("count_column", "count"), crs=crs)
    if s["crime"] is not None:
        loaders["crime"] = lambda: load_crime(
            s["crime"], category=surface.get("crime_category"), severity=surface.get("severity"),
            crs=crs)
    if s["crime_counts"] is not None:
        loaders["crime_counts"] = lambda: read_table(
            s["crime_counts"], key=surface.get("crime_key", "district"),
            columns=[surface.get("crime_column", "count")], role="crime counts")
    if streets is not None:
        loaders["streets"] = lambda: load_streets(streets, crs=crs)
    if buildings is not None:
        loaders["buildings"] = lambda: load_buildings(buildings, crs=crs)
    if district_population is not None:
        loaders["district_population"] = lambda: read_table(
            district_population, key=district_population_key,
            columns=[population or "population"], role="district population")
    layers, found = collect(loaders)
    paths = {**{k: v for k, v in s.items() if v is not None}, "streets": streets,
             "buildings": buildings, "district_population": district_population}
    for role in list(layers):
        path = paths.get(role)
        if path is not None and Path(path).is_file():
            layers[f"{role}:fingerprint"] = fingerprint(path)
    return layers, problems + found


def _load_area(path: Path, crs: str | None) -> gpd.GeoDataFrame:
    from geodata import read_layer, validate_layer

    return validate_layer(read_layer(path, role="area", crs=crs), source=f"area layer {path}",
                          geometry="polygon")


def join_population(
    districts: gpd.GeoDataFrame,
    table: Any,
    *,
    name: str,
    key: str,
    column: str,
    source: str,
) -> gpd.GeoDataFrame:
    """Join a population table to the districts by name (case and ``&``/``and`` ignored).

    Raises
    ------
    LayerError
        When a district has no row in the table, or a row matches no district.
    """
    left = join_key(districts[name])
    right = dict(zip(join_key(table[key]), table[column], strict=True))
    missing = sorted(districts[name][~left.isin(list(right))].astype(str))
    unused = sorted(set(right) - set(left))
    problems = []
    if missing:
        problems.append(f"no row for the districts {', '.join(map(repr, missing))}; "
                        f"add them to column {key!r}")
    if unused:
        problems.append(f"rows {', '.join(map(repr, unused))} match no district {name!r}; "
                        "check the spelling")
    if problems:
        raise LayerError(source, problems)
    return districts.assign(**{column: left.map(right).to_numpy(dtype=np.float64)})


def build_inputs(
    layers: Mapping[str, Any],
    *,
    demand: gpd.GeoDataFrame | None,
    sites: gpd.GeoDataFrame | None,
    districts: gpd.GeoDataFrame | None,
    exclusions: gpd.GeoDataFrame | None,
    surface: Mapping[str, Any],
    candidates: Mapping[str, Any],
    model: str,
    population: str | None,
    district_name: str | None,
    wall_tolerance_m: float = 0.5,
    max_snap_m: float = 50.0,
) -> BuiltInputs:
    """Project every layer to one metric CRS and build the demand surface, sites and model."""
    anchor = next(g for g in (demand, districts, layers.get("area"), layers.get("streets"),
                              sites) if g is not None)
    crs = to_metric(anchor, source="layers").crs

    def metric(role: str, gdf: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
        return None if gdf is None else to_metric(gdf, source=role, crs=crs)

    districts = metric("districts", districts)
    area = metric("area", layers.get("area"))
    streets = metric("streets", layers.get("streets"))
    parameters: dict[str, Any] = {"coverage_model": model}
    if demand is None:
        demand, described = _surface(layers, surface, districts, area, streets, population,
                                     district_name, metric)
        parameters["surface"] = described
    if sites is None:
        sites, described = _candidates(candidates, area if area is not None else districts,
                                       streets)
        parameters["candidates"] = described
    elif area is not None:
        sites = clip_to_area(to_metric(sites, source="sites", crs=crs), area)
    coverage: CoverageModel | None = None
    if model == "sightline":
        from planner.coverage.sightline import SightlineModel

        buildings = metric("buildings", layers["buildings"])
        coverage = SightlineModel(np.asarray(buildings.geometry.array),
                                  wall_tolerance_m=wall_tolerance_m)
    elif model == "network":
        from planner.coverage.network import NetworkModel

        coverage = NetworkModel(streets, max_snap_m=max_snap_m)
    elif model == "disc":
        coverage = DiscModel()
    inputs = {k.split(":")[0]: v for k, v in layers.items() if k.endswith(":fingerprint")}
    return BuiltInputs(demand=demand, sites=sites, coverage=coverage, districts=districts,
                       inputs=inputs, parameters=parameters)


def _surface(
    layers: Mapping[str, Any],
    spec: Mapping[str, Any],
    districts: gpd.GeoDataFrame | None,
    area: gpd.GeoDataFrame | None,
    streets: gpd.GeoDataFrame | None,
    population: str | None,
    district_name: str | None,
    metric: Callable[[str, gpd.GeoDataFrame | None], gpd.GeoDataFrame | None],
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    if not spec:
        raise ScenarioError("give a demand layer (key demand) or a [surface] table to build one")
    pop = None
    if spec.get("population") == "districts":
        column = spec.get("population_column") or population
        if districts is None or column is None or column not in districts.columns:
            raise ScenarioError("[surface] population = 'districts' needs districts with a "
                                "population column (keys districts and population)")
        pop = districts[[column, "geometry"]].rename(columns={column: "population"})
    elif "population" in layers:
        column = spec.get("population_column") or population or "population"
        pop = metric("population", layers["population"]).rename(columns={column: "population"})
    attractors = metric("attractors", layers.get("attractors"))
    counts = metric("counts", layers.get("counts"))
    if counts is not None:
        counts = counts.rename(columns={spec.get("count_column", "count"): "count"})
    crime_districts = None
    if "crime_counts" in layers:
        if districts is None or district_name is None:
            raise ScenarioError("[surface] crime_counts needs districts and district_name")
        crime_districts = join_population(
            districts, layers["crime_counts"], name=district_name,
            key=spec.get("crime_key", "district"), column=spec.get("crime_column", "count"),
            source="crime counts table",
        ).rename(columns={spec.get("crime_column", "count"): "crime_count"})
    options = SurfaceOptions(
        points=spec.get("points", "grid"),
        cell_m=float(spec.get("cell", 100.0)),
        street_spacing_m=float(spec.get("street_spacing", 25.0)),
        bandwidth_m=float(spec.get("bandwidth", 150.0)),
        footfall_bandwidth_m=float(spec.get("footfall_bandwidth", 100.0)),
        attractor_decay_m=float(spec.get("attractor_decay", 250.0)),
        footfall_mix=dict(spec.get("footfall_mix", {})),
        rule=spec.get("rule", "product"),
        crime_exponent=float(spec.get("crime_exponent", 1.0)),
        footfall_exponent=float(spec.get("footfall_exponent", 1.0)),
        crime_share=float(spec.get("crime_share", 0.5)),
    )
    surface_layers = SurfaceLayers(
        area=area if area is not None else districts, population=pop, attractors=attractors,
        counts=counts, streets=streets, betweenness=bool(spec.get("betweenness", False)),
        crime=metric("crime", layers.get("crime")), crime_districts=crime_districts,
    )
    demand = build_surface(surface_layers, options=options)
    described = {"points": options.points, "cell_m": options.cell_m,
                 "components": [c.removeprefix("footfall_") for c in demand.columns
                                if c.startswith("footfall_")],
                 "crime": "crime" in demand.columns, "rule": options.rule,
                 "attractor_decay_m": options.attractor_decay_m,
                 "n_points": len(demand)}
    return demand, described


def _candidates(
    spec: Mapping[str, Any], area: gpd.GeoDataFrame | None, streets: gpd.GeoDataFrame | None
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    kind = spec.get("from", "grid")
    if kind == "grid":
        if area is None:
            raise ScenarioError("[candidates] from = 'grid' needs an area or districts")
        spacing = float(spec.get("spacing", 100.0))
        sites = candidates_from_grid(area, spacing_m=spacing)
        return sites, {"from": "grid", "spacing_m": spacing, "n_sites": len(sites)}
    if kind == "intersections":
        tolerance = float(spec.get("tolerance", 10.0))
        sites = candidates_from_intersections(streets, tolerance_m=tolerance,
                                              min_degree=int(spec.get("min_degree", 3)))
        if area is not None:
            sites = clip_to_area(sites, area)
        return sites, {"from": "intersections", "tolerance_m": tolerance, "n_sites": len(sites)}
    if kind == "inventory":
        raise ScenarioError("[candidates] from = 'inventory' needs a sites layer (key sites)")
    raise ScenarioError(f"[candidates] from = {kind!r}: use 'inventory', 'grid' or "
                        "'intersections'")
