"""GeoPackage export of a plan: every layer in the working metric CRS, the same bytes each write."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping
from contextlib import closing
from pathlib import Path
from types import MappingProxyType

import geopandas as gpd
import numpy as np
import pyogrio

from geodata.errors import OptionError
from maps.export.styles import add_layer_styles, plan_styles
from maps.export.values import dumps_json, is_missing, json_value
from planner.options import lookup
from planner.plan.result import Plan

__all__ = [
    "DEMAND_LAYER_CHOICES",
    "DEMAND_LAYER_DEFAULT",
    "GPKG_INDEX_LIMIT",
    "GPKG_OPTIONS",
    "GPKG_TIMESTAMP",
    "demand_layer_choice",
    "demand_layer_note",
    "gpkg_demand",
    "write_geopackage",
]

logger = logging.getLogger(__name__)

GPKG_TIMESTAMP = "1970-01-01T00:00:00.000Z"
"""Written to ``gpkg_contents.last_change`` instead of the wall clock, so that
two writes of the same plan are byte-identical."""

DEMAND_LAYER_CHOICES: tuple[str, ...] = lookup("demand_layer").choices
DEMAND_LAYER_DEFAULT: str = lookup("demand_layer").default
"""The registry's ``demand_layer``: what a plan without one writes (a plan from the Python API)."""

#: Layers with more features than this are written without a spatial index.
GPKG_INDEX_LIMIT = 200_000

GPKG_OPTIONS: Mapping[str, str] = MappingProxyType({"VERSION": "1.2"})
"""GeoPackage 1.2: what GDAL 3.x, QGIS and ArcGIS of the last years all read without a
"partially supported" warning (newer GDAL would write 1.4)."""


def demand_layer_choice(plan: Plan) -> str:
    """Which demand points go into ``plan.gpkg`` (the plan's ``demand_layer``, else the default)."""
    choice = plan.parameters.get("demand_layer") or DEMAND_LAYER_DEFAULT
    if choice not in DEMAND_LAYER_CHOICES:
        raise OptionError("demand_layer", f"must be one of {', '.join(DEMAND_LAYER_CHOICES)}, "
                          f"got {choice!r}")
    return str(choice)


def gpkg_demand(plan: Plan) -> gpd.GeoDataFrame | None:
    """The demand points of ``plan.gpkg``: all, the covered, the uncovered, or none of them.

    A point counts as covered when its ``covered`` quality is above 0; a point whose
    quality is unknown (NaN) is kept by ``covered`` and ``uncovered`` alike.
    """
    choice = demand_layer_choice(plan)
    demand = plan.demand
    if choice == "all" or demand is None:
        return demand
    if choice == "none":
        return None
    quality = demand["covered"].to_numpy(dtype=np.float64) if "covered" in demand \
        else np.full(len(demand), np.nan)
    keep = ~(quality <= 0) if choice == "covered" else ~(quality > 0)
    return demand if keep.all() else demand.iloc[np.flatnonzero(keep)].reset_index(drop=True)


def demand_layer_note(plan: Plan) -> dict[str, object]:
    """What ``plan.gpkg``'s demand layer holds: the choice, points written, points in all."""
    written = gpkg_demand(plan)
    return {"choice": demand_layer_choice(plan), "points": 0 if written is None else len(written),
            "of": 0 if plan.demand is None else len(plan.demand)}


def _gpkg_layers(plan: Plan) -> dict[str, gpd.GeoDataFrame]:
    """Every layer of the GeoPackage, by name, in the order written."""
    layers: dict[str, gpd.GeoDataFrame | None] = {
        "sites": plan.sites,
        "footprints": plan.footprints,
        "demand": gpkg_demand(plan),
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
                lambda v: None if is_missing(v) else dumps_json(json_value(v)).rstrip("\n")
            )
    return frame


def write_geopackage(plan: Plan, path: str | Path) -> Path:
    """Write the plan's layers to one GeoPackage in the working metric CRS.

    Layers: ``sites``, ``footprints``, ``demand`` (the points the plan's
    ``demand_layer`` asks for, see :func:`gpkg_demand`; no layer with ``none``), then ``districts``,
    ``existing`` and ``exclusions`` when the plan has them, each with its QGIS
    style as the default in the ``layer_styles`` table (:mod:`maps.export.styles`),
    so that the file opens styled in QGIS. The ``gpkg_contents.last_change`` and
    style timestamps are set to :data:`GPKG_TIMESTAMP` so that two writes of the
    same plan give the same bytes.

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
    add_layer_styles(path, plan_styles(plan), timestamp=GPKG_TIMESTAMP)
    logger.debug("wrote %s", path)
    return path


def _write_gpkg_layer(frame: gpd.GeoDataFrame, path: Path, name: str, **options: str) -> None:
    """Add ``frame`` to the GeoPackage as layer ``name``, through Arrow.

    The same file GDAL writes feature by feature, faster for a city's demand.
    """
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
