"""GeoJSON (RFC 7946) exports of a plan: the chosen sets and their footprints.

The plan's geometry is in its working metric CRS; it is reprojected to EPSG:4326
here, at the output boundary, and coordinates are rounded to 7 decimals.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping

from maps.export.geojson import compact_json, geometry_objects, geometry_texts
from maps.export.lonlat import WGS84
from maps.export.values import json_column, write_json
from planner.plan.result import Plan

__all__ = [
    "COORD_DECIMALS",
    "FOOTPRINT_COLUMNS",
    "SITE_COLUMNS",
    "footprints_geojson_text",
    "footprints_to_geojson",
    "ordered_columns",
    "plan_geojson_text",
    "plan_to_geojson",
    "write_geojson",
]

logger = logging.getLogger(__name__)

COORD_DECIMALS = 7
"""Decimals kept in lon/lat: 1e-7 degree is about 1 cm."""
SITE_COLUMNS = (
    "site_id",
    "rank",
    "phase",
    "marginal_weight",
    "cumulative_weight",
    "cumulative_share",
)
FOOTPRINT_COLUMNS = ("site_id", "rank", "phase")


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


def ordered_columns(frame: pd.DataFrame, leading: Iterable[str]) -> list[str]:
    """The leading columns that exist, then every other non-geometry column in frame order."""
    geometry = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    first = [c for c in leading if c in frame.columns]
    rest = [c for c in frame.columns if c not in first and c != geometry]
    return first + rest


def _properties(frame: gpd.GeoDataFrame, leading: Iterable[str]) -> list[dict[str, Any]]:
    """Each feature's properties as plain JSON values, the ``leading`` columns first."""
    columns = ordered_columns(frame, leading)
    if not columns:
        return [{} for _ in range(len(frame))]
    names = [str(c) for c in columns]
    values = [json_column(frame[c]) for c in columns]
    return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]


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
        return write_json(obj, path)
    path.write_bytes(obj.encode("utf-8"))
    logger.debug("wrote %s", path)
    return path
