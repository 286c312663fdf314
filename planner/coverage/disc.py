"""The coverage relation: which candidate site sees which demand point, and how well.

Coverage is a sparse ``n_demand x n_sites`` matrix whose entries are coverage
*qualities* in (0, 1]: 1 everywhere for the plain disc model, lower for far
points when distance decay bands are used. It is built from a grid of the
sites (cells at least the reach wide: a point's sites lie in its own cell or
the eight around it), compiled with numba, never as a
dense array; its pairs are counted, and its memory checked, before it is built.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numba import njit
from scipy import sparse

from geodata.errors import CoverageTooLargeError, OptionError

__all__ = [
    "DecayBands",
    "baseline_quality",
    "coverage_matrix",
    "estimate_coverage_bytes",
]

logger = logging.getLogger(__name__)

#: Bytes per stored pair while building and solving: the distances, the row-wise
#: and column-wise copies the optimiser keeps (float64 data + int32 index each),
#: and the site-wise transpose it uses for gains.
BYTES_PER_PAIR = 8 + 2 * (8 + 4) + (8 + 4) + 12

DecayBands = Sequence[tuple[float, float]]
"""Distance bands ``((d1, q1), (d2, q2), ...)``: quality ``q_k`` up to ``d_k`` metres."""


def _quality(distance: np.ndarray, radius_m: float, bands: DecayBands | None) -> np.ndarray:
    if not bands:
        return np.ones_like(distance)
    q = np.zeros_like(distance)
    # Walk the bands from the farthest inwards so the nearest band wins.
    for reach, quality in sorted(bands, reverse=True):
        q[distance <= reach] = quality
    return q


def _check_bands(radius_m: float, bands: DecayBands | None) -> None:
    if not bands:
        return
    dists = [d for d, _ in bands]
    quals = [q for _, q in bands]
    if any(not (0 < d <= radius_m) for d in dists):
        raise OptionError("--decay", f"band distances must lie in (0, radius={radius_m:g}] m")
    if any(not (0 < q <= 1) for q in quals):
        raise OptionError("--decay", "band qualities must lie in (0, 1]")
    order = np.argsort(dists)
    if np.any(np.diff(np.asarray(quals)[order]) > 0):
        raise OptionError("--decay", "qualities must not rise with distance")


def _as_xy(points: np.ndarray) -> np.ndarray:
    points = np.asarray(points)
    if points.dtype == object:
        return shapely.get_coordinates(points)
    return points.astype(np.float64, copy=False)


#: Most grid cells per candidate site: cells are the reach wide, or wider when the
#: sites are spread over an area that would need more cells than this.
CELLS_PER_SITE = 4


@dataclass(frozen=True)
class _SiteGrid:
    """Sites binned on a square grid of cells at least the reach wide (internal).

    Cells are numbered row by row, so the three cells of one grid row around a
    point are one contiguous run of the sorted sites.
    """

    x0: float
    y0: float
    cell: float
    nx: int
    ny: int
    start: np.ndarray  # first position of each cell in the sorted sites, plus the end
    order: np.ndarray  # site indices, cell after cell, ascending within a cell
    x: np.ndarray  # site coordinates in that order
    y: np.ndarray

    @classmethod
    def build(cls, site_xy: np.ndarray, radius_m: float) -> _SiteGrid:
        finite = np.isfinite(site_xy).all(axis=1)
        xy = site_xy[finite] if not finite.all() else site_xy
        if not len(xy):
            xy = np.zeros((1, 2))
        x0, y0 = float(xy[:, 0].min()), float(xy[:, 1].min())
        width = max(float(xy[:, 0].max()) - x0, 0.0)
        height = max(float(xy[:, 1].max()) - y0, 0.0)
        cells = CELLS_PER_SITE * len(site_xy) + 1024
        cell = max(radius_m, float(np.sqrt(width * height / cells)))
        nx, ny = int(width // cell) + 1, int(height // cell) + 1
        key = np.full(len(site_xy), nx * ny, dtype=np.int64)  # non-finite: past the end
        ix = np.minimum(((site_xy[finite, 0] - x0) // cell).astype(np.int64), nx - 1)
        iy = np.minimum(((site_xy[finite, 1] - y0) // cell).astype(np.int64), ny - 1)
        key[finite] = iy * nx + ix
        order = np.argsort(key, kind="stable")
        start = np.searchsorted(key[order], np.arange(nx * ny + 1)).astype(np.int64)
        sorted_xy = site_xy[order]
        return cls(x0, y0, cell, nx, ny, start, order.astype(np.int64),
                   np.ascontiguousarray(sorted_xy[:, 0]), np.ascontiguousarray(sorted_xy[:, 1]))

    def args(self) -> tuple:
        return (self.x0, self.y0, self.cell, self.nx, self.ny, self.start, self.order,
                self.x, self.y)


# Distances are sqrt(dx² + dy²): a point is within reach when dx² + dy² <= r², which
# is the same test as sqrt(...) <= r (sqrt is correctly rounded and monotone).


@njit(cache=True)
def _count_pairs(demand_xy, x0, y0, cell, nx, ny, start, order, sx, sy, radius):  # noqa: PLR0913
    """How many sites lie within ``radius`` of each demand point."""
    counts = np.zeros(len(demand_xy), dtype=np.int64)
    r2 = radius * radius
    for i in range(len(demand_xy)):
        x, y = demand_xy[i, 0], demand_xy[i, 1]
        if not (np.isfinite(x) and np.isfinite(y)):
            continue
        fx, fy = np.floor((x - x0) / cell), np.floor((y - y0) / cell)
        if fx < -1.0 or fx > nx or fy < -1.0 or fy > ny:
            continue  # no site within reach (and no integer overflow)
        cx, cy = int(fx), int(fy)
        found = 0
        for gy in range(max(cy - 1, 0), min(cy + 1, ny - 1) + 1):
            lo = start[gy * nx + max(cx - 1, 0)]
            hi = start[gy * nx + min(cx + 1, nx - 1) + 1]
            for t in range(lo, hi):
                dx, dy = x - sx[t], y - sy[t]
                if dx * dx + dy * dy <= r2:
                    found += 1
        counts[i] = found
    return counts


@njit(cache=True)
def _fill_pairs(demand_xy, x0, y0, cell, nx, ny, start, order, sx, sy, radius, indptr):  # noqa: PLR0913
    """Site indices (ascending) and distances of every point's sites within ``radius``."""
    indices = np.empty(indptr[-1], dtype=np.int32)
    dist = np.empty(indptr[-1])
    r2 = radius * radius
    for i in range(len(demand_xy)):
        first = indptr[i]
        if first == indptr[i + 1]:
            continue
        x, y = demand_xy[i, 0], demand_xy[i, 1]
        cx, cy = int(np.floor((x - x0) / cell)), int(np.floor((y - y0) / cell))
        k = first
        for gy in range(max(cy - 1, 0), min(cy + 1, ny - 1) + 1):
            lo = start[gy * nx + max(cx - 1, 0)]
            hi = start[gy * nx + min(cx + 1, nx - 1) + 1]
            for t in range(lo, hi):
                dx, dy = x - sx[t], y - sy[t]
                d2 = dx * dx + dy * dy
                if d2 <= r2:
                    # Insertion into the sorted run: a row holds a few dozen sites.
                    j = order[t]
                    p = k
                    while p > first and indices[p - 1] > j:
                        indices[p] = indices[p - 1]
                        dist[p] = dist[p - 1]
                        p -= 1
                    indices[p] = j
                    dist[p] = np.sqrt(d2)
                    k += 1
    return indices, dist


def _pair_counts(
    demand_xy: np.ndarray, site_xy: np.ndarray, radius_m: float
) -> tuple[_SiteGrid, np.ndarray]:
    grid = _SiteGrid.build(site_xy, radius_m)
    return grid, _count_pairs(demand_xy, *grid.args(), float(radius_m))


def estimate_coverage_bytes(
    demand_xy: np.ndarray, site_xy: np.ndarray, radius_m: float
) -> tuple[int, int]:
    """The non-zeros and the bytes of a coverage matrix, counted before it is built.

    Counting is a pass over the site grid that stores one number per demand
    point, so it is cheap next to the matrix itself.

    Returns
    -------
    (nnz, bytes)
    """
    if len(site_xy) == 0 or len(demand_xy) == 0:
        return 0, 0
    _, counts = _pair_counts(_as_xy(demand_xy), _as_xy(site_xy), radius_m)
    nnz = int(counts.sum())
    return nnz, nnz * BYTES_PER_PAIR


def _memory_limit() -> int:
    try:
        avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):  # pragma: no cover - non-POSIX
        avail = 8 * 2**30
    return int(avail * 0.6)


def coverage_matrix(
    demand: np.ndarray,
    sites: np.ndarray,
    radius_m: float,
    *,
    bands: DecayBands | None = None,
    max_bytes: int | None = None,
) -> sparse.csc_array:
    """Sparse coverage qualities of every site over every demand point within reach.

    Parameters
    ----------
    demand, sites
        Coordinates in a projected CRS, metres, shapes ``(n, 2)`` and ``(m, 2)``,
        or arrays of shapely points.
    radius_m
        Reach of one camera set, metres: a site covers a point at distance <= reach.
    bands
        Optional distance-decay bands ``((d, q), ...)``; without them quality is 1.
    max_bytes
        Memory allowed for building the matrix; default 60 % of free memory.

    Raises
    ------
    CoverageTooLargeError
        When the estimated size exceeds ``max_bytes``.
    """
    if not np.isfinite(radius_m) or radius_m <= 0:
        raise OptionError("--radius", f"must be a positive number of metres, got {radius_m!r}")
    _check_bands(radius_m, bands)
    n, m = len(demand), len(sites)
    if n == 0 or m == 0:
        return sparse.csc_array((n, m), dtype=np.float64)
    demand_xy = np.ascontiguousarray(_as_xy(demand))
    site_xy = np.ascontiguousarray(_as_xy(sites))
    grid, counts = _pair_counts(demand_xy, site_xy, radius_m)
    nnz = int(counts.sum())
    need = nnz * BYTES_PER_PAIR
    limit = _memory_limit() if max_bytes is None else max_bytes
    if need > limit:
        raise CoverageTooLargeError(
            f"the coverage of {m:,} sites over {n:,} demand points at {radius_m:g} m would hold "
            f"{nnz:,} pairs ({need / 2**30:.1f} GiB), more than the {limit / 2**30:.1f} GiB "
            "allowed: use a smaller --radius, a coarser demand grid or fewer candidate sites"
        )
    logger.info("coverage: %d demand x %d sites, r=%g m, %d pairs", n, m, radius_m, nnz)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    indices, dist = _fill_pairs(demand_xy, *grid.args(), float(radius_m), indptr)
    data = _quality(dist, radius_m, bands)
    if nnz < np.iinfo(np.int32).max:
        indptr = indptr.astype(np.int32)
    rows = sparse.csr_array((data, indices, indptr), shape=(n, m))
    rows.has_sorted_indices = True
    return rows.tocsc()


def baseline_quality(
    demand_xy: np.ndarray,
    camera_xy: np.ndarray,
    radius_m: float,
    *,
    bands: DecayBands | None = None,
) -> np.ndarray:
    """Quality each demand point already has from existing cameras (0 where unseen)."""
    n = len(demand_xy)
    if len(camera_xy) == 0:
        return np.zeros(n)
    matrix = coverage_matrix(demand_xy, camera_xy, radius_m, bands=bands)
    best = np.zeros(n)
    coo = matrix.tocoo()
    np.maximum.at(best, coo.row, coo.data)
    return best
