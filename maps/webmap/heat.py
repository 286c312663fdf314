"""Demand as a heat map, summed on a grid when there are too many points."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import offlinefolium as folium
import shapely

from maps.export.lonlat import lonlat
from maps.webmap.colours import HEAT_GRADIENT
from maps.webmap.elements import HeatMap

logger = logging.getLogger(__name__)


def _heat_points(demand: gpd.GeoDataFrame, *, max_points: int) -> np.ndarray:
    """Demand as ``[lat, lon, weight]`` rows with weights normalised to a maximum of 1.

    When there are more than ``max_points`` points, weights are summed on a square grid
    in the metric CRS (cells from 25 m, doubled until few enough) at the weighted centre
    of each cell.
    """
    w = demand["weight"].to_numpy(dtype=float)
    positive = w > 0
    if not positive.any():
        return np.empty((0, 3))
    geoms = demand.geometry.to_numpy()[positive]
    areal = shapely.get_type_id(geoms) != 0  # polygon demand: heat at an interior point
    if areal.any():
        geoms = geoms.copy()
        geoms[areal] = shapely.point_on_surface(geoms[areal])
    xy, w = shapely.get_coordinates(geoms), w[positive]
    if len(xy) == len(geoms):  # all points, none empty: one coordinate pair each, in order
        x, y = xy[:, 0], xy[:, 1]
    else:
        x, y = shapely.get_x(geoms), shapely.get_y(geoms)
    located = np.isfinite(x) & np.isfinite(y)
    if not located.all():
        x, y, w = x[located], y[located], w[located]
    if not len(w):
        return np.empty((0, 3))
    n_points, cell = len(w), 25.0
    while len(w) > max_points:
        summed = _grid_sums(x, y, w, cell_m=cell, max_cells=max_points)
        if summed is not None:
            x, y, w = summed
            logger.info("heat map: %d demand points summed on a %g m grid", n_points, cell)
            break
        cell *= 2
    lon, lat = lonlat(x, y, demand.crs)
    weight = np.round(w / w.max(), 4)
    return np.column_stack([np.round(lat, 5), np.round(lon, 5), weight])


def _grid_sums(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, *, cell_m: float, max_cells: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Weights summed on a square grid of ``cell_m`` metres, at each cell's weighted centre.

    Cells come in (column, row) order; ``None`` when more than ``max_cells`` cells hold weight.
    """
    i, j = np.floor(x / cell_m), np.floor(y / cell_m)
    i0, j0 = i.min(), j.min()
    rows, n_keys = j.max() - j0 + 1, (i.max() - i0 + 1) * (j.max() - j0 + 1)
    if n_keys >= 2.0**62:  # too many cells for one int64 key
        return None
    key = (i - i0).astype(np.int64) * np.int64(rows) + (j - j0).astype(np.int64)
    if n_keys <= _DENSE_KEYS:
        # the cells holding weight, counted on a bitmap of every cell: no sort needed
        # to find that there are too many, and the same cells and sums as np.unique
        held = np.zeros(int(n_keys), dtype=bool)
        held[key] = True
        n_cells = np.count_nonzero(held)
        if n_cells > max_cells:
            return None
        inverse = (np.cumsum(held, dtype=np.int32) - 1)[key]
        n_cells = int(n_cells)
    else:
        cells, inverse = np.unique(key, return_inverse=True)
        n_cells = len(cells)
        if n_cells > max_cells:
            return None
    total = np.bincount(inverse, weights=w, minlength=n_cells)
    wx = np.bincount(inverse, weights=w * x, minlength=n_cells)
    wy = np.bincount(inverse, weights=w * y, minlength=n_cells)
    return wx / total, wy / total, total


_DENSE_KEYS = 1 << 24
"""Grids of at most this many cells are counted on a bitmap (16 MB, and 64 MB of ranks)."""


def _add_heat(m: folium.Map, demand: gpd.GeoDataFrame, *, max_points: int) -> None:
    """Demand as a heat map layer."""
    data = _heat_points(demand, max_points=max_points)
    if not len(data):
        return
    HeatMap(
        data,
        name="Demand (heat map)",
        min_opacity=0.15,
        radius=12,
        blur=10,
        gradient=dict(HEAT_GRADIENT),
        # Leaflet's layer control greys out layers whose maxZoom is below the
        # current zoom; this heat plugin normalises per view, so set it high.
        max_zoom=22,
    ).add_to(m)
