"""The coverage relation: which candidate site sees which demand point, and how well.

Coverage is a sparse ``n_demand x n_sites`` matrix whose entries are coverage
*qualities* in (0, 1]: 1 everywhere for the plain disc model, lower for far
points when distance decay bands are used. It is built with a shapely 2
STRtree ``dwithin`` query, never as a dense array, and its memory is estimated
before it is built.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from scipy import sparse

from geodata.errors import CoverageTooLargeError, OptionError

__all__ = [
    "CoverageProblem",
    "DecayBands",
    "baseline_quality",
    "coverage_matrix",
    "estimate_coverage_bytes",
]

logger = logging.getLogger(__name__)

#: Bytes per stored pair while building: the STRtree result (2 x int64), the
#: distances, the CSC and the CSR copies (float64 data + int32 index each).
BYTES_PER_PAIR = 16 + 8 + 2 * (8 + 4) + 8

DecayBands = Sequence[tuple[float, float]]
"""Distance bands ``((d1, q1), (d2, q2), ...)``: quality ``q_k`` up to ``d_k`` metres."""


@dataclass(frozen=True)
class CoverageProblem:
    """A weighted maximal-coverage instance on a sparse quality matrix.

    Attributes
    ----------
    csc
        ``n x m`` coverage qualities by site (column) — for greedy gains.
    csr
        The same matrix by demand point (row) — for local search.
    weights
        Demand weights ``w_i >= 0``.
    baseline
        Quality each demand point already has from existing cameras (0..1).
    """

    csc: sparse.csc_array
    csr: sparse.csr_array
    weights: np.ndarray
    baseline: np.ndarray

    @classmethod
    def from_matrix(
        cls,
        matrix: sparse.sparray | sparse.spmatrix | np.ndarray,
        weights: np.ndarray,
        *,
        baseline: np.ndarray | None = None,
    ) -> CoverageProblem:
        """Build a problem from any ``n x m`` matrix of qualities in [0, 1]."""
        csc = sparse.csc_array(matrix, dtype=np.float64)
        csc.eliminate_zeros()
        csc.sum_duplicates()
        csc.sort_indices()
        n, _ = csc.shape
        w = np.ascontiguousarray(weights, dtype=np.float64)
        if w.shape != (n,):
            raise OptionError("weights", f"expected {n} weights, got {w.shape[0]}")
        if csc.nnz and (csc.data.max() > 1.0 or csc.data.min() < 0.0):
            raise OptionError("coverage", "coverage qualities must lie in [0, 1]")
        base = np.zeros(n) if baseline is None else np.asarray(baseline, dtype=np.float64)
        if base.shape != (n,):
            raise OptionError("baseline", f"expected {n} qualities, got shape {base.shape}")
        csr = sparse.csr_array(csc)
        csr.sort_indices()
        return cls(csc=csc, csr=csr, weights=w, baseline=base)

    @functools.cached_property
    def entry_columns(self) -> np.ndarray:
        """Column (site) of every stored entry of :attr:`csc`, in storage order."""
        return np.repeat(np.arange(self.csc.shape[1]), np.diff(self.csc.indptr))

    @functools.cached_property
    def by_site(self) -> sparse.csr_array:
        """The transpose (sites x demand), for column sums as one sparse product."""
        return sparse.csr_array(self.csc.T)

    @property
    def n_demand(self) -> int:
        return self.csc.shape[0]

    @property
    def n_sites(self) -> int:
        return self.csc.shape[1]

    @functools.cached_property
    def binary(self) -> bool:
        """True when every quality is 1 (plain coverage, no distance decay)."""
        return bool(np.all(self.csc.data == 1.0)) and bool(
            np.all((self.baseline == 0.0) | (self.baseline == 1.0))
        )

    def value(self, best: np.ndarray) -> float:
        """Covered weight ``sum_i w_i * best_i`` for per-point qualities ``best``."""
        # A pairwise sum, not BLAS: deterministic and free of thread start-up costs.
        return float(np.sum(self.weights * best))

    def best_quality(self, chosen: np.ndarray) -> np.ndarray:
        """Per-point quality reached by the baseline and the ``chosen`` columns."""
        best = self.baseline.copy()
        for j in np.asarray(chosen, dtype=np.int64):
            lo, hi = self.csc.indptr[j], self.csc.indptr[j + 1]
            rows = self.csc.indices[lo:hi]
            np.maximum.at(best, rows, self.csc.data[lo:hi])
        return best


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


def _as_points(xy: np.ndarray) -> np.ndarray:
    """Shapely points from ``(n, 2)`` coordinates (or shapely points, as they are)."""
    xy = np.asarray(xy)
    if xy.dtype == object:
        return xy
    xy = xy.astype(np.float64, copy=False)
    return shapely.points(xy[:, 0], xy[:, 1])


def _as_xy(points: np.ndarray) -> np.ndarray:
    points = np.asarray(points)
    if points.dtype == object:
        return shapely.get_coordinates(points)
    return points.astype(np.float64, copy=False)


def _candidate_pairs(
    tree: shapely.STRtree, site_xy: np.ndarray, radius_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (site, demand) whose envelopes meet: a square of side 2r around each site."""
    boxes = shapely.box(
        site_xy[:, 0] - radius_m,
        site_xy[:, 1] - radius_m,
        site_xy[:, 0] + radius_m,
        site_xy[:, 1] + radius_m,
    )
    site_idx, demand_idx = tree.query(boxes)
    return site_idx, demand_idx


def _pairs_within(
    tree: shapely.STRtree, demand_xy: np.ndarray, site_xy: np.ndarray, radius_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact (site, demand, distance) pairs within ``radius_m``: STRtree, then distances."""
    site_idx, demand_idx = _candidate_pairs(tree, site_xy, radius_m)
    delta = demand_xy[demand_idx] - site_xy[site_idx]
    dist = np.hypot(delta[:, 0], delta[:, 1])
    keep = dist <= radius_m
    return site_idx[keep], demand_idx[keep], dist[keep]


def estimate_coverage_bytes(
    demand_xy: np.ndarray,
    site_xy: np.ndarray,
    radius_m: float,
    *,
    sample: int = 2000,
    tree: shapely.STRtree | None = None,
) -> tuple[int, int]:
    """Estimate the non-zeros and the bytes of a coverage matrix before building it.

    Queries an evenly spaced sample of at most ``sample`` sites and scales up.

    Returns
    -------
    (nnz, bytes)
    """
    m = len(site_xy)
    if m == 0 or len(demand_xy) == 0:
        return 0, 0
    step = max(1, m // sample)
    probe = _as_xy(site_xy)[::step]
    if tree is None:
        tree = shapely.STRtree(_as_points(demand_xy))
    found = len(_pairs_within(tree, _as_xy(demand_xy), probe, radius_m)[0])
    nnz = round(found * m / len(probe))
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
    demand_xy, site_xy = _as_xy(demand), _as_xy(sites)
    tree = shapely.STRtree(_as_points(demand))
    nnz, need = estimate_coverage_bytes(demand_xy, site_xy, radius_m, tree=tree)
    limit = _memory_limit() if max_bytes is None else max_bytes
    if need > limit:
        raise CoverageTooLargeError(
            f"the coverage of {m:,} sites over {n:,} demand points at {radius_m:g} m would hold "
            f"about {nnz:,} pairs ({need / 2**30:.1f} GiB), more than the {limit / 2**30:.1f} GiB "
            "allowed: use a smaller --radius, a coarser demand grid or fewer candidate sites"
        )
    logger.info("coverage: %d demand x %d sites, r=%g m, ~%d pairs", n, m, radius_m, nnz)
    site_idx, demand_idx, dist = _pairs_within(tree, demand_xy, site_xy, radius_m)
    data = _quality(dist, radius_m, bands)
    matrix = sparse.csc_array((data, (demand_idx, site_idx)), shape=(n, m))
    matrix.eliminate_zeros()
    matrix.sum_duplicates()
    matrix.sort_indices()
    return matrix


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
