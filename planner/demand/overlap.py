"""Exact overlap areas of convex quadrilaterals with axis-aligned rectangles, vectorised.

Moving a population raster onto a grid of demand cells needs the area of every
(raster cell, demand cell) overlap; hundreds of thousands of general polygon
intersections dominate that. A reprojected raster cell is a convex quadrilateral
and an uncut demand cell is a rectangle, so each overlap is the quadrilateral
clipped by four half-planes (Sutherland-Hodgman), done here for all pairs at once.
"""

from __future__ import annotations

import numpy as np

__all__ = ["quad_rect_area"]

#: A convex quadrilateral clipped by 4 half-planes has at most 8 vertices.
_MAX_VERTICES = 8


def _clip(poly: np.ndarray, count: np.ndarray, axis: int, bound: np.ndarray,
          keep_above: bool) -> tuple[np.ndarray, np.ndarray]:
    """Clip every polygon (rows of ``poly``, ``count`` vertices each) by one half-plane."""
    n = len(poly)
    rows = np.arange(n)
    out = np.zeros_like(poly)
    out_count = np.zeros(n, dtype=np.int64)
    sign = 1.0 if keep_above else -1.0
    for k in range(_MAX_VERTICES):
        active = k < count
        if not active.any():
            break
        r = rows[active]
        p = poly[r, k]
        q = poly[r, (k + 1) % count[r]]
        dp = sign * (p[:, axis] - bound[r])
        dq = sign * (q[:, axis] - bound[r])
        inside_p, inside_q = dp >= 0, dq >= 0
        emit = r[inside_p]
        out[emit, out_count[emit]] = p[inside_p]
        out_count[emit] += 1
        cross = inside_p != inside_q
        if cross.any():
            t = (dp[cross] / (dp[cross] - dq[cross]))[:, None]
            point = p[cross] + t * (q[cross] - p[cross])
            rc = r[cross]
            out[rc, out_count[rc]] = point
            out_count[rc] += 1
    return out, out_count


def quad_rect_area(quads: np.ndarray, rects: np.ndarray) -> np.ndarray:
    """Area of each convex quadrilateral's overlap with its rectangle.

    Parameters
    ----------
    quads
        ``(n, 4, 2)`` corners of convex quadrilaterals, in order around each.
    rects
        ``(n, 4)`` rectangles as ``xmin, ymin, xmax, ymax``.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` overlap areas (0 where they do not overlap).
    """
    n = len(quads)
    poly = np.zeros((n, _MAX_VERTICES, 2))
    poly[:, :4] = quads
    count = np.full(n, 4, dtype=np.int64)
    for axis, column, keep_above in ((0, 0, True), (0, 2, False), (1, 1, True), (1, 3, False)):
        poly, count = _clip(poly, count, axis, rects[:, column], keep_above)
    area = np.zeros(n)
    rows = np.arange(n)
    for k in range(_MAX_VERTICES):
        active = k < count
        r = rows[active]
        p = poly[r, k]
        q = poly[r, (k + 1) % count[r]]
        area[r] += p[:, 0] * q[:, 1] - q[:, 0] * p[:, 1]
    return np.abs(area) / 2.0
