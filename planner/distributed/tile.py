"""One spatial tile of a distributed plan: its coverage block and its greedy state.

A tile owns the candidate sites inside its rectangle and holds every demand point
within the reach of that rectangle (its own points and a halo of its neighbours'),
so each of its sites sees all of its demand. The block is built with the compiled
grid kernels of :mod:`planner.coverage.disc`; the greedy state is the lazy heap of
:mod:`planner.solver.greedy`, run speculatively on a copy (:meth:`TileState.propose`)
and committed only for the picks the coordinator accepts.

Demand rows are in the canonical order of :func:`planner.api.plan_sites` (x, then y,
then input row) and sites in global canonical index order, so every gain is summed
in the same order as on one machine: the same floating-point value, the same picks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from planner.coverage.disc import DecayBands, coverage_matrix
from planner.solver.gains import column_gain
from planner.solver.greedy import column_gain_kernel, greedy_steps
from planner.solver.heap import heapify
from planner.solver.problem import CoverageProblem

if TYPE_CHECKING:
    from planner.distributed.dual import TileDual

__all__ = ["Proposal", "TileData", "TileState"]


@njit(cache=True)
def _column_gains(c_ptr, c_idx, c_q, w, best):
    """Gains of all columns, each summed in storage order (as the greedy sums them)."""
    out = np.empty(len(c_ptr) - 1)
    for j in range(len(c_ptr) - 1):
        out[j] = column_gain_kernel(c_ptr, c_idx, c_q, w, best, j)
    return out


@dataclass(frozen=True)
class TileData:
    """The inputs of one tile (plain arrays, as they arrive from the shuffle).

    Attributes
    ----------
    demand
        ``x``, ``y``, ``w``, ``row`` (global input row) and ``own`` (the tile owns
        the point; ``False`` for halo copies) per demand point, any order.
    sites
        ``x``, ``y`` and ``index`` (global canonical site index) per owned site.
    """

    demand: dict[str, np.ndarray]
    sites: dict[str, np.ndarray]


@dataclass(frozen=True)
class Proposal:
    """A tile's next greedy picks, were no other tile to pick near it.

    ``index`` and ``gain`` in pick order (gains never rise); ``dry`` is True when the
    tile has no site left that adds weight after these picks.
    """

    index: np.ndarray
    gain: np.ndarray
    x: np.ndarray
    y: np.ndarray
    dry: bool


class TileState:
    """A tile's coverage block and greedy state (lives on a worker, in an actor)."""

    def __init__(
        self,
        data: TileData,
        radius_m: float,
        bands: DecayBands | None,
        cameras: Mapping[str, np.ndarray],
        forbidden: np.ndarray,
    ) -> None:
        d = data.demand
        order = np.lexsort((d["row"], d["w"], d["y"], d["x"]))
        self.xy = np.ascontiguousarray(np.column_stack([d["x"][order], d["y"][order]]))
        self.own = np.asarray(d["own"], dtype=bool)[order]
        weights = np.asarray(d["w"], dtype=np.float64)[order]
        s = data.sites
        sorder = np.argsort(s["index"], kind="stable")
        self.index = np.asarray(s["index"], dtype=np.int64)[sorder]
        self.site_xy = np.ascontiguousarray(np.column_stack([s["x"][sorder], s["y"][sorder]]))
        self.radius_m, self.bands = float(radius_m), bands
        base = np.zeros(len(self.xy))
        self.owners: dict[str, float] = {}
        for name in sorted(cameras):
            q = self._quality(np.asarray(cameras[name], dtype=np.float64).reshape(-1, 2))
            self.owners[name] = float(np.dot(weights[self.own], q[self.own]))
            np.maximum(base, q, out=base)
        csc = coverage_matrix(self.xy, self.site_xy, radius_m, bands=bands)
        csc.eliminate_zeros()  # sorted, no duplicates: as CoverageProblem.from_matrix leaves it
        # Only the column-wise matrix: the row-wise copies of from_matrix would triple memory.
        self.problem = CoverageProblem(csc=csc, csr=None, weights=weights, baseline=base)
        self.best = base.copy()
        self.start = base.copy()
        self.available = ~np.isin(self.index, forbidden)
        self.eligible = self.available.copy()
        self.free = self.available.copy()  # sites the bound may add: not forbidden nor forced
        gains = self._gains(self.best)
        live = np.flatnonzero(self.available & (gains > 0))
        self.keys = np.empty(len(live) + 1)
        self.heap_sites = np.empty(len(live) + 1, dtype=np.int64)
        self.keys[: len(live)], self.heap_sites[: len(live)] = -gains[live], live
        heapify(self.keys[: len(live)], self.heap_sites[: len(live)])
        self.size = len(live)
        self.stamp = np.full(len(self.index), -1, dtype=np.int64)
        self.exact = np.zeros(len(self.index))
        self.step = 0
        self._proposed = np.empty(0, dtype=np.int64)
        self._unit = np.ones(len(self.index))
        self._k_ptr = np.zeros(len(self.index) + 1, dtype=self.problem.csc.indptr.dtype)
        self.dual: TileDual | None = None  # multipliers during a Lagrangian descent

    # --- what the coordinator asks ---------------------------------------------------------

    def summary(self) -> dict[str, float | int]:
        """Sizes and the weight owned and covered by existing cameras (owned points only)."""
        w = self.problem.weights[self.own]
        return {
            "demand": int(self.own.sum()),
            "halo": int((~self.own).sum()),
            "sites": len(self.index),
            "pairs": int(self.problem.csc.nnz),
            "total": float(w.sum()),
            "covered": float(np.dot(w, self.best[self.own])),
            "bytes": self.nbytes(),
        }

    def nbytes(self) -> int:
        """Bytes held by the tile's arrays (and its multipliers during a descent)."""
        csc = self.problem.csc
        arrays = (csc.data, csc.indices, csc.indptr, self.xy, self.best, self.problem.weights,
                  self.problem.baseline, self.start, self.own, self.keys, self.heap_sites,
                  self.stamp, self.exact, self.site_xy, self.index, self.available,
                  self.eligible, self.free, self._unit, self._k_ptr, self._proposed)
        dual = self.dual.nbytes() if self.dual is not None else 0
        return int(sum(a.nbytes for a in arrays)) + dual

    def propose(self, count: int) -> Proposal:
        """The next ``count`` greedy picks of this tile, on a copy of its state."""
        heap = (self.keys.copy(), self.heap_sites.copy(), self.stamp.copy(), self.exact.copy())
        picks, gains, _, n = self._steps(heap, self.best.copy(), self.available.copy(), count)
        self._proposed = picks[:n].copy()
        local = self._proposed
        return Proposal(self.index[local], gains[:n].copy(), self.site_xy[local, 0].copy(),
                        self.site_xy[local, 1].copy(), dry=n < count)

    def commit(self, n_own: int, foreign_xy: np.ndarray) -> None:
        """Take the first ``n_own`` proposed picks, and the coverage of other tiles' picks.

        The picks are replayed on the real heap (greedy is deterministic, so they are
        the proposed ones), which leaves its keys fresh for the next proposal.
        """
        if n_own:
            heap = (self.keys, self.heap_sites, self.stamp, self.exact)
            picks, _, size, n = self._steps(heap, self.best, self.available, n_own)
            if n != n_own or not np.array_equal(picks[:n], self._proposed[:n_own]):
                raise RuntimeError("a tile replayed other picks than it proposed")
            self.size = size
            self.step += n
        self._proposed = self._proposed[n_own:]
        foreign_xy = np.asarray(foreign_xy, dtype=np.float64).reshape(-1, 2)
        if len(foreign_xy):
            self._proposed = self._proposed[:0]
            np.maximum(self.best, self._quality(foreign_xy), out=self.best)
            self.step += 1  # every exact gain in the heap is stale now

    def force(self, index: int) -> float:
        """Pick the site with global ``index`` now (a forced site); returns its gain."""
        local = int(np.searchsorted(self.index, index))
        gain = column_gain(self.problem, local, self.best)
        self._take(local)
        self.step += 1
        return gain

    def top_gains(self, count: int) -> tuple[np.ndarray, float]:
        """The ``count`` largest gains of eligible sites now, and the owned covered weight."""
        gains = self._gains(self.best)
        gains[~self.eligible] = 0.0
        k = min(count, gains.size)
        top = np.partition(gains, gains.size - k)[gains.size - k :] if k else gains[:0]
        w = self.problem.weights[self.own]
        return np.sort(top)[::-1].copy(), float(np.dot(w, self.best[self.own]))

    def mark_start(self) -> None:
        """Remember the qualities now (existing cameras and forced sites): the start state."""
        self.start = self.best.copy()
        self.free = self.available.copy()

    def covered_points(self) -> dict[str, np.ndarray]:
        """Owned points with their weight and reached quality (for summaries)."""
        return {"x": self.xy[self.own, 0], "y": self.xy[self.own, 1],
                "w": self.problem.weights[self.own], "q": self.best[self.own]}

    # --- internal --------------------------------------------------------------------------

    def _steps(
        self, heap: tuple[np.ndarray, ...], best: np.ndarray, available: np.ndarray, count: int
    ) -> tuple[np.ndarray, np.ndarray, int, int]:
        """Run the compiled lazy greedy for ``count`` picks on the given state arrays."""
        keys, sites, stamp, exact = heap
        picks, gains = np.empty(count, dtype=np.int64), np.empty(count)
        csc = self.problem.csc
        size, _, _, n = greedy_steps(
            keys, sites, self.size, stamp, exact, self.step, self.step + count,
            csc.indptr, csc.indices, csc.data, self.problem.weights, best,
            available, self._unit, np.inf, 0.0, self._k_ptr, csc.indices[:0], picks, gains,
        )  # fmt: skip
        return picks, gains, size, n

    def _gains(self, best: np.ndarray) -> np.ndarray:
        """Every site's gain, summed as :func:`planner.solver.gains.all_gains` sums it."""
        csc = self.problem.csc
        return _column_gains(csc.indptr, csc.indices, csc.data, self.problem.weights, best)

    def _take(self, local: int) -> None:
        csc = self.problem.csc
        lo, hi = csc.indptr[local], csc.indptr[local + 1]
        rows = csc.indices[lo:hi]
        self.best[rows] = np.maximum(self.best[rows], csc.data[lo:hi])
        self.available[local] = False

    def _quality(self, points_xy: np.ndarray) -> np.ndarray:
        """Best quality every demand point gets from ``points_xy`` (same kernel as sites)."""
        if not len(points_xy) or not len(self.xy):
            return np.zeros(len(self.xy))
        matrix = coverage_matrix(self.xy, points_xy, self.radius_m, bands=self.bands)
        coo = matrix.tocoo()
        best = np.zeros(len(self.xy))
        np.maximum.at(best, coo.row, coo.data)
        return best
