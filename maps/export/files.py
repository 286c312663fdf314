"""Exports of a plan: GeoJSON (RFC 7946), GeoPackage, CSV and ``summary.json``.

Every function here is deterministic: the same plan gives the same bytes.
The plan's geometry is in its working metric CRS; GeoJSON and the lon/lat
columns of the CSV are reprojected to EPSG:4326 here, at the output boundary.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import importlib.metadata
import json
import logging
import math
import sqlite3
from collections.abc import Iterable, Mapping
from contextlib import closing
from pathlib import Path
from types import MappingProxyType
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from shapely.geometry import mapping

from maps.export.geojson import compact_json, geometry_objects, geometry_texts
from planner.plan.result import Plan

__all__ = [
    "CURVE_COLUMNS",
    "GPKG_TIMESTAMP",
    "curve_to_csv",
    "districts_to_csv",
    "footprints_geojson_text",
    "footprints_to_geojson",
    "plan_geojson_text",
    "plan_summary",
    "plan_to_geojson",
    "sites_to_csv",
    "write_geojson",
    "write_geopackage",
    "write_summary",
]

logger = logging.getLogger(__name__)

WGS84 = "EPSG:4326"
COORD_DECIMALS = 7
"""Decimals kept in lon/lat: 1e-7 degree is about 1 cm."""
METRIC_DECIMALS = 3
"""Decimals kept in metric x/y in CSV: millimetres."""
SITE_COLUMNS = (
    "site_id",
    "rank",
    "phase",
    "marginal_weight",
    "cumulative_weight",
    "cumulative_share",
)
FOOTPRINT_COLUMNS = ("site_id", "rank", "phase")
DISTRICT_COLUMNS = (
    "district",
    "sets",
    "covered_share",
    "population",
    "sets_per_1000",
    "covered_weight",
    "total_weight",
)
CURVE_COLUMNS = ("sets", "covered_weight", "covered_share", "phase")
GPKG_TIMESTAMP = "1970-01-01T00:00:00.000Z"
"""Written to ``gpkg_contents.last_change`` instead of the wall clock, so that
two writes of the same plan are byte-identical."""


# --------------------------------------------------------------------------- JSON values


def json_value(value: Any) -> Any:
    """Turn one cell value into plain JSON: numpy scalars to Python, NaN to ``None``.

    Parameters
    ----------
    value
        Any value read from a data frame or a plan attribute.

    Returns
    -------
    Any
        ``None``, ``bool``, ``int``, a finite ``float``, ``str``, ``list`` or
        ``dict``; anything else becomes its ``str``.
    """
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [json_value(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return None if pd.isna(value) else value.isoformat()
    if _is_missing(value):
        return None
    return str(value)


def _is_missing(value: Any) -> bool:
    """True for ``pd.NA``, ``pd.NaT`` and similar scalar missing values."""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _round_coords(coords: Any) -> Any:
    """Nested coordinate tuples to nested lists, each number rounded."""
    if isinstance(coords, tuple | list) and coords and isinstance(coords[0], int | float):
        return [round(float(c), COORD_DECIMALS) for c in coords]
    return [_round_coords(c) for c in coords]


def _geometry_json(geom: shapely.Geometry | None) -> dict[str, Any] | None:
    """A GeoJSON geometry object with rounded coordinates, or ``None`` when empty."""
    if geom is None or geom.is_empty:
        return None
    obj = mapping(geom)
    if obj["type"] == "GeometryCollection":
        parts = [_geometry_json(g) for g in geom.geoms]
        return {"type": "GeometryCollection", "geometries": [p for p in parts if p]}
    return {"type": obj["type"], "coordinates": _round_coords(obj["coordinates"])}


def _round_array(values: np.ndarray, decimals: int = COORD_DECIMALS) -> np.ndarray:
    """Round every number exactly as Python's ``round(value, decimals)`` does.

    ``np.round`` scales, rounds and scales back; it agrees with Python's
    correctly rounded ``round`` except when the scaled value lies within a few
    units in the last place of a tie (or is too large to scale exactly). Those
    few values are rounded by Python, so the result is the same to the bit.

    Parameters
    ----------
    values
        Floating-point numbers, any shape.
    decimals
        Decimals kept.

    Returns
    -------
    numpy.ndarray
        A new float64 array of the same shape.
    """
    values = np.asarray(values, dtype=float)
    scale = 10.0**decimals
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = values * scale
        out = np.round(scaled) / scale
        slack = np.maximum(1e-6, 8 * np.finfo(float).eps * np.abs(scaled))
        unsure = (np.abs(scaled - np.floor(scaled) - 0.5) <= slack) | ~(np.abs(scaled) < 2.0**52)
    flat, source = out.reshape(-1), values.reshape(-1)
    for i in np.flatnonzero(unsure.reshape(-1)).tolist():
        flat[i] = round(float(source[i]), decimals)
    return out


def _geometries_json(geoms: np.ndarray) -> list[dict[str, Any] | None]:
    """:func:`_geometry_json` of every geometry, vectorised: the same objects, faster."""
    return geometry_objects(geoms, round_values=_round_array, other=_geometry_json)


def _ordered_columns(frame: pd.DataFrame, leading: Iterable[str]) -> list[str]:
    """The leading columns that exist, then every other non-geometry column in frame order."""
    geometry = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    first = [c for c in leading if c in frame.columns]
    rest = [c for c in frame.columns if c not in first and c != geometry]
    return first + rest


def _properties(frame: gpd.GeoDataFrame, leading: Iterable[str]) -> list[dict[str, Any]]:
    """Each feature's properties as plain JSON values, the ``leading`` columns first."""
    columns = _ordered_columns(frame, leading)
    if not columns:
        return [{} for _ in range(len(frame))]
    names = [str(c) for c in columns]
    values = [_json_column(frame[c]) for c in columns]
    return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]


def _json_column(values: pd.Series) -> list[Any]:
    """:func:`json_value` of every value of a column, a whole column at a time when plain.

    Booleans and integers are already plain once listed; floats are too, but for
    NaN and infinity (``None``). Any other column goes value by value.
    """
    dtype = values.dtype
    if not isinstance(dtype, np.dtype) or dtype.kind not in "biuf":
        return [json_value(v) for v in values.tolist()]
    array = values.to_numpy()
    out = array.tolist()
    if dtype.kind == "f" and not np.isfinite(array).all():
        for i in np.flatnonzero(~np.isfinite(array)).tolist():
            out[i] = None
    return out


def _cell_texts(values: pd.Series) -> list[str]:
    """:func:`format_cell` of every value of a column, a whole column at a time when plain."""
    dtype = values.dtype
    if not isinstance(dtype, np.dtype) or dtype.kind not in "biuf":
        return [format_cell(v) for v in values.tolist()]
    listed = _json_column(values)
    if dtype.kind == "b":
        return ["true" if v else "false" for v in listed]
    if dtype.kind == "f":
        return ["" if v is None else repr(v) for v in listed]
    return [str(v) for v in listed]


def _feature_collection(frame: gpd.GeoDataFrame, leading: Iterable[str]) -> dict[str, Any]:
    """Features of ``frame`` (already in EPSG:4326) with properties in a stable order."""
    geometries = _geometries_json(frame.geometry.to_numpy())
    features = []
    for properties, geometry in zip(_properties(frame, leading), geometries, strict=True):
        feature: dict[str, Any] = {"type": "Feature"}
        if "site_id" in properties:
            feature["id"] = properties["site_id"]
        feature["geometry"] = geometry
        feature["properties"] = properties
        features.append(feature)
    return {"type": "FeatureCollection", "features": features}


def _feature_collection_text(frame: gpd.GeoDataFrame, leading: Iterable[str]) -> str:
    """``dumps_json(_feature_collection(frame, leading))``, written without the nested lists.

    For a city's footprints (hundreds of thousands of vertices) building the lists
    of Python floats and serialising them is most of the time; here the geometry
    text comes from :func:`maps.geojson.geometry_texts` instead.
    """
    geometries = geometry_texts(
        frame.geometry.to_numpy(),
        decimals=COORD_DECIMALS,
        round_values=_round_array,
        other=_geometry_json,
    )
    features = []
    for properties, geometry in zip(_properties(frame, leading), geometries, strict=True):
        identity = f'"id":{compact_json(properties["site_id"])},' if "site_id" in properties else ""
        features.append(
            f'{{"type":"Feature",{identity}"geometry":{geometry},'
            f'"properties":{compact_json(properties)}}}'
        )
    return '{"type":"FeatureCollection","features":[' + ",".join(features) + "]}\n"


# --------------------------------------------------------------------------- GeoJSON


def plan_to_geojson(plan: Plan) -> dict[str, Any]:
    """The chosen camera sets as an RFC 7946 FeatureCollection.

    One Point per set, in rank order, in EPSG:4326 lon/lat rounded to 7
    decimals, with no ``crs`` member. Properties: ``site_id``, ``rank``,
    ``phase``, ``marginal_weight``, ``cumulative_weight``,
    ``cumulative_share``, then the site's own attributes. NaN and infinity
    become ``null``.

    Parameters
    ----------
    plan
        The plan to export.

    Returns
    -------
    dict
        A JSON-serialisable FeatureCollection.
    """
    return _feature_collection(_sites_wgs84(plan), SITE_COLUMNS)


def plan_geojson_text(plan: Plan) -> str:
    """:func:`plan_to_geojson` as the text :func:`write_geojson` writes for it (faster).

    Parameters
    ----------
    plan
        The plan to export.

    Returns
    -------
    str
        ``dumps_json(plan_to_geojson(plan))``.
    """
    return _feature_collection_text(_sites_wgs84(plan), SITE_COLUMNS)


def footprints_to_geojson(plan: Plan) -> dict[str, Any]:
    """The area each chosen set watches, as an RFC 7946 FeatureCollection.

    Polygons follow the right-hand rule (exterior rings counter-clockwise,
    holes clockwise), in EPSG:4326 lon/lat rounded to 7 decimals.

    Parameters
    ----------
    plan
        The plan to export.

    Returns
    -------
    dict
        A JSON-serialisable FeatureCollection.
    """
    return _feature_collection(_footprints_wgs84(plan), FOOTPRINT_COLUMNS)


def footprints_geojson_text(plan: Plan) -> str:
    """:func:`footprints_to_geojson` as the text :func:`write_geojson` writes for it (faster).

    Parameters
    ----------
    plan
        The plan to export.

    Returns
    -------
    str
        ``dumps_json(footprints_to_geojson(plan))``.
    """
    return _feature_collection_text(_footprints_wgs84(plan), FOOTPRINT_COLUMNS)


def _sites_wgs84(plan: Plan) -> gpd.GeoDataFrame:
    """The chosen sets in EPSG:4326."""
    return plan.sites.to_crs(WGS84)


def _footprints_wgs84(plan: Plan) -> gpd.GeoDataFrame:
    """The footprints in EPSG:4326, oriented by the right-hand rule."""
    frame = plan.footprints.to_crs(WGS84)
    oriented = shapely.orient_polygons(frame.geometry.to_numpy(), exterior_cw=False)
    return frame.set_geometry(gpd.GeoSeries(oriented, index=frame.index, crs=WGS84))


def dumps_json(obj: Any, *, indent: int | None = None) -> str:
    """Serialise ``obj`` deterministically; NaN or infinity raise ``ValueError``."""
    if indent is None:
        return compact_json(obj) + "\n"
    text = json.dumps(
        obj, ensure_ascii=False, allow_nan=False, separators=(",", ": "), indent=indent
    )
    return text + "\n"



def write_geojson(obj: Mapping[str, Any] | str, path: str | Path) -> Path:
    """Write a GeoJSON object as compact UTF-8 JSON with a trailing newline.

    Parameters
    ----------
    obj
        From :func:`plan_to_geojson` or :func:`footprints_to_geojson`, or the
        text of either from :func:`plan_geojson_text` or
        :func:`footprints_geojson_text` (the same bytes, written faster).
    path
        The file to write (replaced when it exists).

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    if not isinstance(obj, str):
        return _write_json(obj, path)
    path.write_bytes(obj.encode("utf-8"))
    logger.debug("wrote %s", path)
    return path


def _write_json(obj: Any, path: Path, *, indent: int | None = None) -> Path:
    """Write :func:`dumps_json` of ``obj`` as UTF-8."""
    path.write_bytes(dumps_json(obj, indent=indent).encode("utf-8"))
    logger.debug("wrote %s", path)
    return path


# --------------------------------------------------------------------------- GeoPackage


def _gpkg_layers(plan: Plan) -> dict[str, gpd.GeoDataFrame]:
    """Every layer of the GeoPackage, by name, in the order written."""
    layers: dict[str, gpd.GeoDataFrame | None] = {
        "sites": plan.sites,
        "footprints": plan.footprints,
        "demand": plan.demand,
        "districts": plan.districts,
        "existing": plan.existing,
        "exclusions": plan.exclusions,
    }
    return {name: frame for name, frame in layers.items() if frame is not None}


def _gpkg_frame(frame: gpd.GeoDataFrame, crs: str) -> gpd.GeoDataFrame:
    """``frame`` in ``crs`` with object columns OGR cannot store turned into text."""
    frame = frame.to_crs(crs) if frame.crs != crs else frame.copy()
    geometry = frame.geometry.name
    for column in frame.columns:
        if column == geometry or frame[column].dtype != object:
            continue
        values = frame[column]
        if not values.map(lambda v: v is None or isinstance(v, str)).all():
            frame[column] = values.map(
                lambda v: None if _is_missing(v) else dumps_json(json_value(v)).rstrip("\n")
            )
    return frame


#: Layers with more features than this are written without a spatial index.
GPKG_INDEX_LIMIT = 200_000

GPKG_OPTIONS: Mapping[str, str] = MappingProxyType({"VERSION": "1.2"})
"""GeoPackage 1.2: what GDAL 3.x, QGIS and ArcGIS of the last years all read without a
"partially supported" warning (newer GDAL would write 1.4)."""


def write_geopackage(plan: Plan, path: str | Path) -> Path:
    """Write the plan's layers to one GeoPackage in the working metric CRS.

    Layers: ``sites``, ``footprints``, ``demand``, then ``districts``,
    ``existing`` and ``exclusions`` when the plan has them. The
    ``gpkg_contents.last_change`` timestamps are set to :data:`GPKG_TIMESTAMP`
    so that two writes of the same plan give the same bytes.

    Parameters
    ----------
    plan
        The plan to export.
    path
        The ``.gpkg`` file to write; an existing file is replaced.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    path.unlink(missing_ok=True)
    for name, frame in _gpkg_layers(plan).items():
        # GDAL builds the R-tree row by row: for a city's worth of demand points that is
        # most of the write. Such a layer goes without one; QGIS and ogr2ogr build it
        # on request (e.g. `ogrinfo plan.gpkg -sql "SELECT CreateSpatialIndex('demand', 'geom')"`).
        index = "NO" if len(frame) > GPKG_INDEX_LIMIT else "YES"
        _write_gpkg_layer(_gpkg_frame(frame, plan.crs), path, name, SPATIAL_INDEX=index)
    _fix_gpkg_timestamps(path)
    logger.debug("wrote %s", path)
    return path


def _write_gpkg_layer(frame: gpd.GeoDataFrame, path: Path, name: str, **options: str) -> None:
    """Add ``frame`` to the GeoPackage as layer ``name``, through Arrow (the same file
    GDAL writes feature by feature, faster for a city's demand)."""
    pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG", use_arrow=True,
                            dataset_options=dict(GPKG_OPTIONS), **options)


def _fix_gpkg_timestamps(path: Path) -> None:
    """Replace the wall-clock ``last_change`` of every layer by :data:`GPKG_TIMESTAMP`.

    GDAL stamps ``gpkg_contents.last_change`` with the current time (the only
    part of the file that differs between two writes). The ``OGR_CURRENT_DATE``
    configuration option does the same, but it is process-wide GDAL state;
    this touches nothing but the file.
    """
    with closing(sqlite3.connect(path)) as con, con:
        con.execute("UPDATE gpkg_contents SET last_change = ?", (GPKG_TIMESTAMP,))


# --------------------------------------------------------------------------- CSV


def format_cell(value: Any) -> str:
    """One CSV cell: shortest round-trip ``repr`` for floats, empty for missing values."""
    value = json_value(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | dict):
        return dumps_json(value).rstrip("\n")
    return str(value)


def _fixed(values: Iterable[float], decimals: int) -> list[str]:
    """Numbers with a fixed number of decimals; empty for NaN."""
    return ["" if not math.isfinite(v) else f"{v:.{decimals}f}" for v in values]


def _write_csv(path: Path, header: list[str], rows: Iterable[Iterable[str]]) -> Path:
    """Write UTF-8 CSV with ``\\n`` line endings."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    logger.debug("wrote %s", path)
    return path


def sites_to_csv(plan: Plan, path: str | Path) -> Path:
    """Write the chosen sets as CSV, one row per set in rank order.

    Columns: ``site_id``, ``rank``, ``phase``, ``lon``, ``lat``, ``x``, ``y``,
    the weights and shares, then the site's own attributes.

    ``lon``/``lat`` are EPSG:4326 with 7 decimals; ``x``/``y`` are in the
    plan's metric CRS in metres with 3 decimals; other floats use the
    shortest text that reads back to the same number.

    Parameters
    ----------
    plan
        The plan to export.
    path
        The file to write (replaced when it exists).

    Returns
    -------
    Path
        ``path``.
    """
    sites = plan.sites
    columns = _ordered_columns(sites, SITE_COLUMNS)
    lonlat = sites.geometry.to_crs(WGS84)
    coords = [
        _fixed(lonlat.x, COORD_DECIMALS),
        _fixed(lonlat.y, COORD_DECIMALS),
        _fixed(sites.geometry.x, METRIC_DECIMALS),
        _fixed(sites.geometry.y, METRIC_DECIMALS),
    ]
    head = [c for c in columns if c in SITE_COLUMNS[:3]]
    tail = [c for c in columns if c not in head]
    header = [*head, "lon", "lat", "x", "y", *tail]
    cells = {c: _cell_texts(sites[c]) for c in columns}
    rows = zip(*(cells[c] for c in head), *coords, *(cells[c] for c in tail), strict=True)
    return _write_csv(Path(path), [str(h) for h in header], rows)


def districts_to_csv(plan: Plan, path: str | Path) -> Path:
    """Write per-district coverage as CSV.

    Columns: ``district``, ``sets``, ``covered_share``, ``population``,
    ``sets_per_1000``, ``covered_weight``, ``total_weight``.

    Parameters
    ----------
    plan
        A plan with districts.
    path
        The file to write (replaced when it exists).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ValueError
        When the plan has no districts.
    """
    if plan.districts is None:
        raise ValueError("the plan has no districts; pass districts to the planner")
    frame = plan.districts
    columns = [c for c in DISTRICT_COLUMNS if c in frame.columns]
    rows = ([format_cell(v) for v in row] for row in frame[columns].itertuples(index=False))
    return _write_csv(Path(path), columns, rows)


def curve_to_csv(plan: Plan, path: str | Path) -> Path:
    """Write the coverage curve as CSV: one row per number of new sets, from 0.

    Columns: ``sets``, ``covered_weight``, ``covered_share``, ``phase``. Row
    ``k`` holds the weight covered by the existing cameras and the first ``k``
    new sets (``plan.curve[k]``); ``phase`` is the phase of the ``k``-th set
    (0 in the first row: existing cameras only).

    Parameters
    ----------
    plan
        The plan to export.
    path
        The file to write (replaced when it exists).

    Returns
    -------
    Path
        ``path``.
    """
    curve = np.asarray(plan.curve, dtype=float)
    phases = plan.sites.sort_values("rank")["phase"].to_numpy() if plan.n_sets else []
    phase_of = [0, *(int(p) for p in phases)]
    total = plan.total_weight
    rows = (
        [str(k), format_cell(float(w)), format_cell(_ratio(float(w), total)),
         str(phase_of[k]) if k < len(phase_of) else ""]
        for k, w in enumerate(curve)
    )
    return _write_csv(Path(path), list(CURVE_COLUMNS), rows)


# --------------------------------------------------------------------------- summary.json


def camplan_version() -> str:
    """The installed camplan version, or ``"unknown"`` when run from a bare checkout."""
    try:
        return importlib.metadata.version("camplan")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _ratio(numerator: float, denominator: float, *, default: float = 0.0) -> float:
    """``numerator / denominator``, ``default`` when the denominator is not positive."""
    return numerator / denominator if denominator > 0 else default


def plan_summary(plan: Plan) -> dict[str, Any]:
    """The contents of ``summary.json``: the plan's numbers, inputs and timings.

    ``timings`` is the last key and the only one that differs between two
    runs of the same inputs.

    Parameters
    ----------
    plan
        The plan to summarise.

    Returns
    -------
    dict
        Plain JSON values, in a fixed key order.
    """
    cert = plan.certificate
    summary: dict[str, Any] = {
        "title": plan.title,
        "n_sets": plan.n_sets,
        "radius_m": plan.radius_m,
        "covered_weight": plan.covered_weight,
        "total_weight": plan.total_weight,
        "coverage_share": plan.coverage_share,
        "existing_weight": plan.existing_weight,
        "new_weight": plan.covered_weight - plan.existing_weight,
        "owners": dict(plan.owners),
        "upper_bound": cert.upper_bound,
        "upper_bound_share": _ratio(cert.upper_bound, plan.total_weight),
        "share_of_best_possible": _ratio(plan.covered_weight, cert.upper_bound, default=1.0),
        "gap": cert.gap,
        "bound_method": cert.method,
        "proven_optimal": cert.proven_optimal,
        "phases": [dataclasses.asdict(p) for p in plan.phases],
        "parameters": dict(plan.parameters),
        "inputs": dict(plan.inputs),
        "crs": plan.crs,
        "camplan_version": camplan_version(),
    }
    summary = json_value(summary)
    summary["timings"] = json_value(dict(plan.timings))
    return summary


def write_summary(plan: Plan, path: str | Path) -> Path:
    """Write :func:`plan_summary` as indented UTF-8 JSON with a trailing newline.

    Parameters
    ----------
    plan
        The plan to summarise.
    path
        The file to write (replaced when it exists).

    Returns
    -------
    Path
        ``path``.
    """
    return _write_json(plan_summary(plan), Path(path), indent=2)
