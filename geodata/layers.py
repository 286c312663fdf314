"""Readers for the layers a plan is built from, one ``load_*`` function per kind.

Each reader reads a file (:func:`geodata.read_layer`, or pyrosm for an OSM
``.pbf``, or networkx for GraphML), checks it with
:func:`geodata.validate_layer` plus the checks of its kind, and raises one
:class:`~geodata.errors.LayerError` that lists every problem found.

| kind | geometry | columns |
|---|---|---|
| demand | points or polygons | a weight |
| districts | polygons | a name; optional population |
| crime | points | optional category (with a severity table) |
| footfall | points | a count |
| population | polygons | a population (or working population) |
| attractors | points (polygons: a point on them) | optional weight |
| streets | lines | (any GDAL format, ``.osm.pbf``, ``.graphml``) |
| buildings | polygons | (any GDAL format, ``.osm.pbf``) |
| exclusions | polygons | |
| mounts | points | optional id, type and cost |
| existing | points | optional owner |
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.errors import CamplanError, LayerError
from geodata.io import read_layer
from geodata.osm import read_graphml, read_osm
from geodata.validate import format_rows, validate_layer

__all__ = [
    "load_attractors",
    "load_buildings",
    "load_crime",
    "load_demand",
    "load_districts",
    "load_exclusions",
    "load_existing",
    "load_footfall",
    "load_mounts",
    "load_population",
    "load_streets",
]

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]


def _read(path: PathLike, role: str, crs: Any | None) -> tuple[gpd.GeoDataFrame, str]:
    return read_layer(path, role=role, crs=crs), f"{role} layer {path}"


def _validated(
    gdf: gpd.GeoDataFrame, source: str, extra: list[str], **checks: Any
) -> gpd.GeoDataFrame:
    """``validate_layer`` with the problems of the caller's own checks merged in."""
    try:
        result = validate_layer(gdf, source=source, **checks)
    except LayerError as err:
        raise LayerError(source, [*err.problems, *extra]) from err
    if extra:
        raise LayerError(source, extra)
    return result


def _is_osm(path: PathLike) -> bool:
    return str(path).lower().endswith(".pbf")


def load_demand(
    path: PathLike,
    *,
    weight: str = "weight",
    crs: Any | None = None,
    labels: Mapping[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """Demand points or polygons with a non-negative ``weight`` column."""
    gdf, source = _read(path, "demand", crs)
    return _validated(gdf, source, [], geometry="point-or-polygon", weight=weight, labels=labels)


def load_districts(
    path: PathLike,
    *,
    name: str,
    population: str | None = None,
    crs: Any | None = None,
    labels: Mapping[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """District polygons with a unique ``name`` and optional non-negative ``population``.

    Several polygons of one name (a district's islands) are merged into one.
    """
    gdf, source = _read(path, "districts", crs)
    extra = []
    if name in gdf.columns:
        blank = gdf[name].isna() | (gdf[name].astype(str).str.strip() == "")
        if blank.any():
            extra.append(
                f"name column {name!r} is empty at "
                f"{format_rows(np.flatnonzero(blank.to_numpy()) + 1)}"
            )
    result = _validated(gdf, source, extra, geometry="polygon", weight=population,
                        required=[name], labels=labels)
    dup = result[name].duplicated(keep=False)
    if dup.any():
        # Several polygons of one district (islands) are merged, not an error.
        result = result.dissolve(by=name, as_index=False, sort=False)
    return result


def load_crime(
    path: PathLike,
    *,
    category: str | None = None,
    severity: Mapping[str, float] | None = None,
    crs: Any | None = None,
    labels: Mapping[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """Crime incidents (points) with a ``severity`` column (1 without a severity table).

    Parameters
    ----------
    category
        Column naming each incident's category; needed with ``severity``.
    severity
        Weight per category (a murder weighs more than a pickpocketing); every
        category present must be listed.
    """
    gdf, source = _read(path, "crime", crs)
    extra: list[str] = []
    if severity is not None and category is None:
        extra.append("a severity table needs crime_category: the column naming categories")
    bad = {
        k: v
        for k, v in (severity or {}).items()
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not v >= 0
    }
    if bad:
        extra.append(f"severity weights must be numbers >= 0; got {bad}")
    if category is not None and category in gdf.columns and severity is not None:
        unknown = sorted(set(gdf[category].dropna().astype(str)) - set(map(str, severity)))
        if unknown:
            extra.append(
                f"categories {', '.join(map(repr, unknown[:10]))} have no severity; "
                "add them to the severity table"
            )
    result = _validated(
        gdf, source, extra, geometry="point", required=[category] if category else (),
        labels=labels,
    )
    if severity is not None and category is not None:
        weights = result[category].astype(str).map({str(k): float(v) for k, v in severity.items()})
        result["severity"] = weights.fillna(0.0).to_numpy(dtype=np.float64)
    else:
        result["severity"] = 1.0
    return result


def load_footfall(
    path: PathLike, *, count: str, crs: Any | None = None, labels: Mapping[str, str] | None = None
) -> gpd.GeoDataFrame:
    """Pedestrian counts at points, in the ``count`` column (non-negative)."""
    gdf, source = _read(path, "footfall", crs)
    return _validated(gdf, source, [], geometry="point", weight=count, labels=labels)


def load_population(
    path: PathLike, *, column: str, crs: Any | None = None, labels: Mapping[str, str] | None = None
) -> gpd.GeoDataFrame:
    """Population (or working population) per polygon, in ``column``."""
    gdf, source = _read(path, "population", crs)
    return _validated(gdf, source, [], geometry="polygon", weight=column, labels=labels)


def load_attractors(
    path: PathLike,
    *,
    weight: str | None = None,
    crs: Any | None = None,
    labels: Mapping[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """Footfall attractors (metro exits, shops, ...) as points with a ``weight`` column.

    Polygons stand at a point on their surface. Without ``weight`` every
    attractor weighs 1. An OSM ``.pbf`` gives its points of interest.
    """
    if _is_osm(path):
        gdf, source = read_osm(path, "pois"), f"attractors layer {path}"
    else:
        gdf, source = _read(path, "attractors", crs)
    result = _validated(gdf, source, [], geometry="any", weight=weight, labels=labels)
    geoms = np.asarray(result.geometry.array)
    points = np.where(shapely.get_type_id(geoms) == 0, geoms, shapely.point_on_surface(geoms))
    result = result.set_geometry(gpd.GeoSeries(points, index=result.index, crs=result.crs))
    result["weight"] = 1.0 if weight is None else result[weight].to_numpy(dtype=np.float64)
    return result


def load_streets(
    path: PathLike, *, crs: Any | None = None, network_type: str = "walking"
) -> gpd.GeoDataFrame:
    """Street lines from any GDAL format, an OSM ``.pbf`` (pyrosm) or a ``.graphml`` graph."""
    source = f"streets layer {path}"
    suffix = Path(path).suffix.lower()
    if _is_osm(path):
        gdf = read_osm(path, "streets", network_type=network_type)
    elif suffix == ".graphml":
        gdf = read_graphml(path, crs=crs)
    else:
        gdf = read_layer(path, role="streets", crs=crs)
    return _validated(gdf, source, [], geometry="line")


def load_buildings(path: PathLike, *, crs: Any | None = None) -> gpd.GeoDataFrame:
    """Building footprints (polygons), from any GDAL format or an OSM ``.pbf``."""
    source = f"buildings layer {path}"
    gdf = (
        read_osm(path, "buildings")
        if _is_osm(path)
        else read_layer(path, role="buildings", crs=crs)
    )
    return _validated(gdf, source, [], geometry="polygon")


def load_exclusions(path: PathLike, *, crs: Any | None = None) -> gpd.GeoDataFrame:
    """Privacy exclusion zones (polygons): no camera set is placed inside."""
    gdf, source = _read(path, "exclusions", crs)
    return _validated(gdf, source, [], geometry="polygon")


def load_mounts(
    path: PathLike,
    *,
    id_column: str | None = None,
    type_column: str | None = None,
    cost_column: str | None = None,
    crs: Any | None = None,
    labels: Mapping[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """A mount inventory: points (lamp posts, poles, ...) with unique ids, a type and costs.

    Costs, when named, must be positive numbers.
    """
    gdf, source = _read(path, "sites", crs)
    extra = []
    if cost_column is not None and cost_column in gdf.columns:
        costs = pd.to_numeric(gdf[cost_column], errors="coerce").to_numpy(dtype=np.float64)
        bad = ~(np.isfinite(costs) & (costs > 0))
        if bad.any():
            extra.append(
                f"cost column {cost_column!r} must hold positive numbers; not at "
                f"{format_rows(np.flatnonzero(bad) + 1)}"
            )
    required = [c for c in (type_column, cost_column) if c]
    return _validated(gdf, source, extra, geometry="point", id_column=id_column,
                      required=required, labels=labels)


def load_existing(
    path: PathLike,
    *,
    owner: str | None = None,
    name: str | None = None,
    crs: Any | None = None,
    labels: Mapping[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """Existing camera sets (points) with an ``owner`` column.

    ``name`` is the owner of every camera of the layer ("Transport Department").
    Without it, ``owner`` names the column telling whose each camera is; it must
    exist. Without either, the layer's own ``owner`` column is used when it has
    one, else the file's name.
    """
    gdf, source = _read(path, "existing", crs)
    column = owner if owner is not None else ("owner" if "owner" in gdf.columns else None)
    extra = []
    if column is not None and column in gdf.columns and gdf[column].isna().any():
        extra.append(
            f"owner column {column!r} is empty at "
            f"{format_rows(np.flatnonzero(gdf[column].isna().to_numpy()) + 1)}"
        )
    result = _validated(gdf, source, extra, geometry="point",
                        required=[owner] if owner is not None else (), labels=labels)
    if name is not None:
        result["owner"] = name
    else:
        result["owner"] = Path(path).stem if column is None else result[column].astype(str)
    return result


def collect(loaders: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Run every ``role -> zero-argument loader``; return the layers and every problem.

    A failing loader does not stop the others, so one run reports the problems
    of every layer.
    """
    layers: dict[str, Any] = {}
    problems: list[str] = []
    for role, load in loaders.items():
        try:
            layers[role] = load()
        except CamplanError as err:
            problems.append(str(err))
    return layers, problems
