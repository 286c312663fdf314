"""Scenario layers beyond a ready demand layer: a demand surface, candidates, a coverage model.

A scenario may describe its demand as a ``[surface]`` table of layers (land,
population, attractors, footfall counts, crime) instead of a ready ``demand``
layer, its candidates as a ``[candidates]`` table (a grid, street
intersections) instead of a ``sites`` inventory, and its coverage ``model``
(``disc``, ``sightline`` with ``buildings``, ``network`` with ``streets``).
This module reads every layer those keys name (collecting every problem of
every layer) and builds the demand, the sites and the model. The keys, their
defaults and ranges are declared in :mod:`planner.options`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

from geodata import fingerprint, to_metric
from geodata.crs import metric_choice
from geodata.errors import LayerError, OptionError, ScenarioError
from geodata.layers import (
    collect,
    load_attractors,
    load_buildings,
    load_crime,
    load_footfall,
    load_population,
    load_streets,
)
from geodata.raster import RasterCells, is_raster, read_raster
from geodata.tables import join_key, read_table
from planner.coverage.models import CoverageModel, DiscModel
from planner.demand.surface import SurfaceLayers, SurfaceOptions, build_surface
from planner.scenario.cameras import camera_options
from planner.sites.candidates import (
    candidates_from_grid,
    candidates_from_intersections,
    clip_to_area,
)
from planner.sites.inventory import GridFill, Inventory, mounts_from_inventories

__all__ = ["BuiltInputs", "build_inputs", "join_population", "read_extra_layers"]

logger = logging.getLogger(__name__)

PATH_KEYS = ("area", "population", "attractors", "counts", "crime", "crime_counts")


@dataclass(frozen=True)
class BuiltInputs:
    """Demand, sites and coverage model built from a scenario's layers."""

    demand: gpd.GeoDataFrame | None
    sites: gpd.GeoDataFrame | None
    coverage: CoverageModel | None
    districts: gpd.GeoDataFrame | None
    inputs: dict[str, str]
    parameters: dict[str, Any]


def _labels(scenario: Any, *keys: str) -> dict[str, str]:
    out = {}
    for key in keys:
        value = scenario.get(key)
        if isinstance(value, str):
            out[value] = scenario.label(key)
    return out


def _surface_loaders(scenario: Any, s: Mapping[str, Path | None]) -> dict[str, Callable[[], Any]]:
    get, crs = scenario.get, scenario.crs
    loaders: dict[str, Callable[[], Any]] = {}
    if s["area"] is not None:
        loaders["area"] = lambda: _load_area(s["area"], crs)
    if s["population"] is not None and is_raster(s["population"]):
        loaders["population"] = lambda: read_raster(s["population"], role="population", crs=crs)
    elif s["population"] is not None:
        column = get("surface.population_column") or scenario.population or "population"
        loaders["population"] = lambda: load_population(
            s["population"], column=column, crs=crs,
            labels=_labels(scenario, "surface.population_column", "population"))
    if s["attractors"] is not None:
        loaders["attractors"] = lambda: load_attractors(
            s["attractors"], weight=get("surface.attractor_weight"), crs=crs,
            labels=_labels(scenario, "surface.attractor_weight"))
    if s["counts"] is not None and is_raster(s["counts"]):
        loaders["counts"] = lambda: read_raster(s["counts"], role="footfall counts", crs=crs)
    elif s["counts"] is not None:
        loaders["counts"] = lambda: load_footfall(
            s["counts"], count=get("surface.count_column"), crs=crs,
            labels=_labels(scenario, "surface.count_column"))
    if s["crime"] is not None:
        loaders["crime"] = lambda: load_crime(
            s["crime"], category=get("surface.crime_category"), severity=get("surface.severity"),
            crs=crs, labels=_labels(scenario, "surface.crime_category"))
    if s["crime_counts"] is not None:
        loaders["crime_counts"] = lambda: read_table(
            s["crime_counts"], key=get("surface.crime_key"),
            columns=[get("surface.crime_column")], role="crime counts")
    return loaders


def read_extra_layers(scenario: Any) -> tuple[dict[str, Any], list[str]]:
    """Read every layer the surface, candidates and model of ``scenario`` name.

    Returns the layers by role (with ``role:fingerprint`` entries) and every problem.
    """
    crs = scenario.crs
    s = {k: scenario.get(f"surface.{k}") for k in PATH_KEYS}
    s = {k: None if v == "districts" else v for k, v in s.items()}
    loaders = _surface_loaders(scenario, s)
    mounts = _mount_paths(scenario)
    for role, path in mounts.items():
        loaders[role] = _mount_loader(role, path, crs)
    if scenario.streets is not None:
        loaders["streets"] = lambda: load_streets(scenario.streets, crs=crs)
    if scenario.buildings is not None:
        loaders["buildings"] = lambda: load_buildings(scenario.buildings, crs=crs)
    if scenario.district_population is not None:
        loaders["district_population"] = lambda: read_table(
            scenario.district_population, key=scenario.district_population_key,
            columns=[scenario.population or "population"], role="district population")
    layers, found = collect(loaders)
    paths = {**{k: v for k, v in s.items() if v is not None}, **mounts,
             "streets": scenario.streets,
             "buildings": scenario.buildings, "district_population": scenario.district_population}
    for role in list(layers):
        path = paths.get(role)
        if path is not None and Path(path).is_file():
            layers[f"{role}:fingerprint"] = fingerprint(path)
    return layers, found


def _mount_paths(scenario: Any) -> dict[str, Path]:
    """The layer of each ``[[candidates.inventory]]`` (roles ``inventory1``, ...) and buildings."""
    paths = {f"inventory{i + 1}": Path(entry["layer"])
             for i, entry in enumerate(scenario.get("candidates.inventory"))}
    if scenario.get("candidates.buildings") is not None:
        paths["mount_buildings"] = Path(scenario.get("candidates.buildings"))
    return paths


def _mount_loader(role: str, path: Path, crs: str | None) -> Callable[[], gpd.GeoDataFrame]:
    if role == "mount_buildings":
        return lambda: load_buildings(path, crs=crs)

    def load() -> gpd.GeoDataFrame:
        from geodata import read_layer, validate_layer

        return validate_layer(read_layer(path, role="mounts", crs=crs),
                              source=f"mounts layer {path}", geometry="point-or-polygon")

    return load


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


def _coverage_model(scenario: Any, layers: Mapping[str, Any], streets: Any, metric: Any
                    ) -> CoverageModel | None:
    cameras = camera_options(scenario)
    if cameras is not None:  # directional camera sets: disc or sightline geometry
        from planner.coverage.camera_model import DirectionalModel

        if scenario.model == "network":
            raise OptionError(scenario.label("model"), "'network' (walking distance) has no "
                              "direction: directional cameras work with 'disc' or 'sightline'")
        buildings = None
        if scenario.model == "sightline":
            buildings = np.asarray(metric("buildings", layers["buildings"]).geometry.array)
        return DirectionalModel(cameras, buildings=buildings,
                                wall_tolerance_m=scenario.wall_tolerance)
    if scenario.model == "sightline":
        from planner.coverage.sightline import SightlineModel

        buildings = metric("buildings", layers["buildings"])
        return SightlineModel(np.asarray(buildings.geometry.array),
                              wall_tolerance_m=scenario.wall_tolerance)
    if scenario.model == "network":
        from planner.coverage.network import NetworkModel

        return NetworkModel(streets, max_snap_m=scenario.max_snap)
    return DiscModel()


def build_inputs(
    scenario: Any,
    layers: Mapping[str, Any],
    main: Mapping[str, Any],
    districts: gpd.GeoDataFrame | None,
) -> BuiltInputs:
    """Project every layer to one metric CRS and build the demand surface, sites and model.

    ``layers`` are the ``[surface]``/``[candidates]``/model layers, ``main`` the
    scenario's own (``demand``, ``sites``), ``districts`` with their population.
    """
    demand, sites = main.get("demand"), main.get("sites")
    anchor = next(g for g in (demand, districts, layers.get("area"), layers.get("streets"),
                              sites) if g is not None)
    choice = metric_choice(anchor, source="layers")  # the input's CRS decides, and says why
    crs = choice.crs

    def metric(role: str, gdf: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
        return None if gdf is None else to_metric(gdf, source=role, crs=crs)

    districts = metric("districts", districts)
    area = metric("area", layers.get("area"))
    streets = metric("streets", layers.get("streets"))
    parameters: dict[str, Any] = {"coverage_model": scenario.model, "crs_reason": choice.reason}
    if demand is None:
        demand, described = _surface(scenario, layers, districts, area, streets, metric)
        parameters["surface"] = described
    if sites is None:
        region = area if area is not None else districts
        if scenario.get("candidates.inventory") or scenario.given("candidates.fill"):
            sites, described = _inventories(scenario, layers, region,
                                            metric("demand", demand), metric)
        else:
            sites, described = _candidates(scenario, region, streets)
        parameters["candidates"] = described
    elif area is not None:
        sites = clip_to_area(to_metric(sites, source="sites", crs=crs), area)
    coverage = _coverage_model(scenario, layers, streets, metric)
    inputs = {k.split(":")[0]: v for k, v in layers.items() if k.endswith(":fingerprint")}
    return BuiltInputs(demand=demand, sites=sites, coverage=coverage, districts=districts,
                       inputs=inputs, parameters=parameters)


def _population(scenario: Any, layers: Mapping[str, Any], districts: Any, metric: Any) -> Any:
    column = scenario.get("surface.population_column") or scenario.population
    if isinstance(layers.get("population"), RasterCells):
        return None
    if scenario.get("surface.population") == "districts":
        return districts[[column, "geometry"]].rename(columns={column: "population"})
    if "population" in layers:
        column = column or "population"
        return metric("population", layers["population"]).rename(
            columns={column: "population"})
    return None


def _crime_districts(scenario: Any, layers: Mapping[str, Any], districts: Any) -> Any:
    if "crime_counts" not in layers:
        return None
    column = scenario.get("surface.crime_column")
    return join_population(
        districts, layers["crime_counts"], name=scenario.district_name,
        key=scenario.get("surface.crime_key"), column=column, source="crime counts table",
    ).rename(columns={column: "crime_count"})


def surface_options(scenario: Any) -> SurfaceOptions:
    """The demand surface's options from the scenario's ``[surface]`` keys (or defaults)."""
    get = scenario.get
    return SurfaceOptions(
        points=get("surface.points"),
        cell_m=float(get("surface.cell")),
        street_spacing_m=float(get("surface.street_spacing")),
        bandwidth_m=float(get("surface.bandwidth")),
        footfall_bandwidth_m=float(get("surface.footfall_bandwidth")),
        attractor_decay_m=float(get("surface.attractor_decay")),
        footfall_mix=dict(get("surface.footfall_mix") or {}),
        rule=get("surface.rule"),
        crime_exponent=float(get("surface.crime_exponent")),
        footfall_exponent=float(get("surface.footfall_exponent")),
        crime_share=float(get("surface.crime_share")),
    )


def _surface(
    scenario: Any,
    layers: Mapping[str, Any],
    districts: gpd.GeoDataFrame | None,
    area: gpd.GeoDataFrame | None,
    streets: gpd.GeoDataFrame | None,
    metric: Callable[[str, gpd.GeoDataFrame | None], gpd.GeoDataFrame | None],
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    if not scenario.surface:
        raise ScenarioError("give a demand layer (key demand) or a [surface] table to build one")
    rasters = {k: layers.get(k) for k in ("population", "counts")
               if isinstance(layers.get(k), RasterCells)}
    counts = None if "counts" in rasters else metric("counts", layers.get("counts"))
    if counts is not None:
        counts = counts.rename(columns={scenario.get("surface.count_column"): "count"})
    options = surface_options(scenario)
    surface_layers = SurfaceLayers(
        area=area if area is not None else districts,
        population=_population(scenario, layers, districts, metric),
        population_raster=rasters.get("population"), counts_raster=rasters.get("counts"),
        attractors=metric("attractors", layers.get("attractors")), counts=counts,
        streets=streets, betweenness=bool(scenario.get("surface.betweenness")),
        crime=metric("crime", layers.get("crime")),
        crime_districts=_crime_districts(scenario, layers, districts),
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
    scenario: Any, area: gpd.GeoDataFrame | None, streets: gpd.GeoDataFrame | None
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    kind = scenario.get("candidates.from") or "grid"
    if kind == "grid":
        spacing = float(scenario.get("candidates.spacing"))
        sites = candidates_from_grid(area, spacing_m=spacing)
        return sites, {"from": "grid", "spacing_m": spacing, "n_sites": len(sites)}
    tolerance = float(scenario.get("candidates.tolerance"))
    sites = candidates_from_intersections(streets, tolerance_m=tolerance,
                                          min_degree=int(scenario.get("candidates.min_degree")))
    if area is not None:
        sites = clip_to_area(sites, area)
    return sites, {"from": "intersections", "tolerance_m": tolerance, "n_sites": len(sites)}


def _populated(demand: gpd.GeoDataFrame) -> np.ndarray:
    """The demand points with people: a population component > 0, else a weight > 0."""
    column = "footfall_population" if "footfall_population" in demand.columns else "weight"
    pts = np.asarray(demand.geometry.array)
    if column not in demand.columns:
        return pts
    return pts[demand[column].to_numpy(dtype=np.float64) > 0]


def _inventories(
    scenario: Any,
    layers: Mapping[str, Any],
    area: gpd.GeoDataFrame | None,
    demand: gpd.GeoDataFrame | None,
    metric: Callable[[str, gpd.GeoDataFrame | None], gpd.GeoDataFrame | None],
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Candidates from ``[[candidates.inventory]]`` registers and a ``[candidates.fill]`` grid."""
    inventories = [
        Inventory(metric(f"inventory {i + 1}", layers[f"inventory{i + 1}"]),
                  mount_type=entry["mount_type"], cost=entry.get("cost"),
                  id_column=entry.get("id_column"), source=str(entry["layer"]))
        for i, entry in enumerate(scenario.get("candidates.inventory"))
    ]
    fill = None
    if scenario.given("candidates.fill"):
        f = scenario.get("candidates.fill")
        near = f.get("near")
        fill = GridFill(spacing_m=float(f["spacing"]),
                        mount_type=f.get("mount_type", "lamppost grid"), cost=f.get("cost"),
                        gap_m=float(f.get("gap", 0.0)),
                        near=None if demand is None or near is None else _populated(demand),
                        near_m=None if near is None else float(near))
    sites = mounts_from_inventories(inventories, area=area, fill=fill,
                                    buildings=metric("buildings", layers.get("mount_buildings")))
    types = sites["mount_type"].value_counts(sort=False)
    described: dict[str, Any] = {"from": "inventories", "n_sites": len(sites),
                                 "mount_types": {str(k): int(v) for k, v in types.items()}}
    if fill is not None:
        described["fill"] = {"spacing_m": fill.spacing_m, "gap_m": fill.gap_m,
                             "near_m": fill.near_m}
    return sites, described
