"""Coordinates in a metric CRS to EPSG:4326 longitude and latitude, at the output boundary.

:func:`lonlat_bounds` gives the extent of many points in longitude and latitude
exactly as reprojecting every point would, while reprojecting only the few
points that can lie on its edges: for a million demand points, a few hundred
instead of a million.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyproj

__all__ = ["WGS84", "lonlat", "lonlat_bounds"]

WGS84 = "EPSG:4326"

_CELLS = 32
"""Cells per side of the grid on which longitude and latitude are interpolated."""
_SAFETY = 4.0
"""The interpolation error allowed for: this many times the largest error measured."""
_SLACK_DEG = 1e-9
"""Added to every margin, in degrees: rounding in the interpolation itself."""
_MIN_POINTS = 20_000
"""Fewer points than this are all reprojected: the grid would not pay for itself."""


def lonlat(x: np.ndarray, y: np.ndarray, crs: Any) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates in ``crs`` reprojected to EPSG:4326 longitude and latitude.

    Parameters
    ----------
    x, y
        Coordinates in ``crs``.
    crs
        Anything :class:`pyproj.CRS` accepts.

    Returns
    -------
    tuple of numpy.ndarray
        Longitudes and latitudes in degrees (infinite where a point cannot be
        reprojected).
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if not len(x):
        return x, y
    return _transform(pyproj.Transformer.from_crs(crs, WGS84, always_xy=True), x, y)


def _transform(
    transformer: pyproj.Transformer, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = transformer.transform(x, y)
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def lonlat_bounds(
    x: np.ndarray, y: np.ndarray, crs: Any, *, min_points: int = _MIN_POINTS
) -> tuple[float, float, float, float] | None:
    """The extent in degrees of points reprojected to EPSG:4326, ignoring unprojectable ones.

    The result is exactly (to the bit) ``(lon.min(), lat.min(), lon.max(), lat.max())``
    over every point that reprojects to finite coordinates. Above ``min_points``
    points, longitude and latitude are first interpolated bilinearly from their exact
    values on a 32 x 32 grid over the points' extent; the interpolation error is
    measured at the midpoints of the grid's edges (where it peaks for a smooth
    projection), and only the points whose interpolated value lies within four times
    that error of an extreme are reprojected. When the grid cannot be used (a point
    outside the projection's domain, an extent along a line, a layer across the
    antimeridian), every point is reprojected.

    Parameters
    ----------
    x, y
        Coordinates in ``crs``.
    crs
        Anything :class:`pyproj.CRS` accepts.
    min_points
        Below this many points, every point is reprojected.

    Returns
    -------
    tuple of float or None
        ``(west, south, east, north)``, or ``None`` when no point reprojects.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if not len(x):
        return None
    transformer = pyproj.Transformer.from_crs(crs, WGS84, always_xy=True)
    rows = None
    if len(x) >= min_points:
        rows = _extreme_candidates(x, y, transformer)
    if rows is not None:
        lon, lat = _transform(transformer, x[rows], y[rows])
        if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
            rows = None
    if rows is None:
        lon, lat = _transform(transformer, x, y)
        keep = np.isfinite(lon) & np.isfinite(lat)
        if not keep.all():
            lon, lat = lon[keep], lat[keep]
    if not len(lon):
        return None
    return float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())


def _extreme_candidates(
    x: np.ndarray, y: np.ndarray, transformer: pyproj.Transformer
) -> np.ndarray | None:
    """Rows of the points that can hold the least or greatest longitude or latitude.

    ``None`` when the interpolation grid cannot be trusted (see :func:`lonlat_bounds`).
    """
    located = np.isfinite(x) & np.isfinite(y)
    if not located.all():
        return None
    x0, x1, y0, y1 = x.min(), x.max(), y.min(), y.max()
    if not (x1 > x0 and y1 > y0):
        return None
    gx, gy = np.linspace(x0, x1, _CELLS + 1), np.linspace(y0, y1, _CELLS + 1)
    mx, my = (gx[:-1] + gx[1:]) / 2, (gy[:-1] + gy[1:]) / 2
    # exact values at the grid nodes, at the midpoints of horizontal and vertical edges
    nodes = _transform(transformer, *(a.ravel() for a in np.meshgrid(gx, gy)))
    across = _transform(transformer, *(a.ravel() for a in np.meshgrid(mx, gy)))
    along = _transform(transformer, *(a.ravel() for a in np.meshgrid(gx, my)))
    if not all(np.isfinite(v).all() for v in (*nodes, *across, *along)):
        return None
    if np.ptp(nodes[0]) >= 180:  # across the antimeridian longitude jumps
        return None
    # each point's cell; then, for each coordinate, the cells that can hold an extreme:
    # within a cell the interpolation lies between its corners' values, and the
    # exact values within the margin of it
    fx = np.minimum((x - x0) * (_CELLS / (x1 - x0)), _CELLS)
    fy = np.minimum((y - y0) * (_CELLS / (y1 - y0)), _CELLS)
    i = np.minimum(fx.astype(np.intp), _CELLS - 1)
    j = np.minimum(fy.astype(np.intp), _CELLS - 1)
    cell = j * _CELLS + i
    held = np.bincount(cell, minlength=_CELLS * _CELLS) > 0
    grids, margins = [], []
    kept_cells = np.zeros(_CELLS * _CELLS, dtype=bool)
    for exact, exact_across, exact_along in zip(nodes, across, along, strict=True):
        grid = exact.reshape(_CELLS + 1, _CELLS + 1)
        # bilinear error at edge midpoints: along x (rows of nodes) and along y
        err_x = np.abs(exact_across.reshape(_CELLS + 1, _CELLS) - (grid[:, :-1] + grid[:, 1:]) / 2)
        err_y = np.abs(exact_along.reshape(_CELLS, _CELLS + 1) - (grid[:-1, :] + grid[1:, :]) / 2)
        margin = _SAFETY * (err_x.max() + err_y.max()) + _SLACK_DEG
        corners = np.stack([grid[:-1, :-1], grid[:-1, 1:], grid[1:, :-1], grid[1:, 1:]])
        low, high = corners.min(axis=0).ravel() - margin, corners.max(axis=0).ravel() + margin
        kept_cells |= held & (low <= high[held].min())  # can hold the least value
        kept_cells |= held & (high >= low[held].max())  # can hold the greatest value
        grids.append(exact)
        margins.append(margin)
    # the points of those cells whose interpolated value lies near an extreme
    sub = np.flatnonzero(kept_cells[cell])
    tx, ty = fx[sub] - i[sub], fy[sub] - j[sub]
    corner = j[sub] * (_CELLS + 1) + i[sub]  # the node at the cell's lower left
    above = corner + _CELLS + 1
    rows = np.zeros(len(sub), dtype=bool)
    for flat, margin in zip(grids, margins, strict=True):
        low = flat[corner] + tx * (flat[corner + 1] - flat[corner])
        high = flat[above] + tx * (flat[above + 1] - flat[above])
        approx = low + ty * (high - low)
        rows |= approx <= approx.min() + 2 * margin
        rows |= approx >= approx.max() - 2 * margin
    return sub[rows]
