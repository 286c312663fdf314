"""A tile's share of the distributed Lagrangian bound: multipliers, column sums, steps.

Every copy of a demand point (its own tile's and each halo copy) holds the same
multiplier ``v_i``: all copies start from the same value and take the same step,
because each copy counts *every* chosen site that sees it, its own tile's through
the coverage block and other tiles' through their coordinates (the coordinator sends
each tile the chosen sites within twice the reach). Sums over points (the
``sum(w - v)`` term, the step's norm) run over owned copies only, so every point
counts once; column sums run over a tile's own sites only, so every site counts once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from planner.coverage.disc import coverage_matrix
from planner.solver.bounds import DEFLECTION, column_sums

__all__ = ["TileDual", "top_rows"]


@njit(cache=True)
def _count(c_ptr, c_idx, columns, seen):
    """Add one to ``seen`` for every point each of ``columns`` sees."""
    for j in columns:
        for e in range(c_ptr[j], c_ptr[j + 1]):
            seen[c_idx[e]] += 1


@njit(cache=True)
def _direction(seen, residual, weights, v, direction, own):
    """Deflected subgradient direction (in place); its squared norm over owned copies.

    As :func:`planner.solver.bounds.deflected_step`: components that would leave
    ``[0, w_i]`` do not count (``w_i`` the weight on residual points, else 0).
    """
    norm = 0.0
    for i in range(len(v)):
        w = weights[i] if residual[i] else 0.0
        g = seen[i] - 1.0 if residual[i] else 0.0
        d = DEFLECTION * g + (1.0 - DEFLECTION) * direction[i]
        direction[i] = d
        if own[i] and not ((v[i] <= 0.0 and d > 0.0) or (v[i] >= w and d < 0.0)):
            norm += d * d
    return norm


@njit(cache=True)
def _move(residual, weights, v, direction, step, own):
    """``v`` moved by ``-step * direction``, projected on ``[0, w]``; ``sum(w - v)`` owned."""
    total = 0.0
    for i in range(len(v)):
        w = weights[i] if residual[i] else 0.0
        d = direction[i]
        if not ((v[i] <= 0.0 and d > 0.0) or (v[i] >= w and d < 0.0)):
            v[i] = min(max(v[i] - step * d, 0.0), w)
        if own[i]:
            total += w - v[i]
    return total


def top_rows(value: np.ndarray, index: np.ndarray, count: int) -> np.ndarray:
    """Positions of the ``count`` largest values, ties to the lower index, in that order."""
    n = value.size
    k = min(int(count), n)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    if k < n:
        threshold = np.partition(value, n - k)[n - k]
        cand = np.flatnonzero(value >= threshold)
    else:
        cand = np.arange(n)
    order = np.lexsort((index[cand], -value[cand]))
    return cand[order[:k]]


class TileDual:
    """The multipliers of one tile's copies of demand points during one descent.

    Starts from ``v = w (1 - q)``, ``w`` the weight of the points the start state
    (existing cameras, forced sites) leaves uncovered and ``q`` the quality now: the
    online bound's multipliers.
    """

    def __init__(self, tile: Any) -> None:  # a planner.distributed.tile.TileState
        self.tile = tile
        weights = tile.problem.weights
        self.residual = (tile.start < 1.0) & (weights > 0)
        self.v = np.where(self.residual, weights, 0.0) * (1.0 - tile.best)
        self.direction = np.zeros(len(self.v))
        self.columns = np.flatnonzero(tile.free)
        self.sums = np.zeros(len(self.columns))
        self._foreign: dict[int, np.ndarray] = {}

    def constant(self) -> float:
        """Owned weight the start state covers."""
        own = self.tile.own
        return float(np.dot(self.tile.problem.weights[own], self.tile.start[own]))

    def slack(self) -> float:
        """``sum(w - v)`` over owned copies."""
        own = self.tile.own
        w = np.where(self.residual, self.tile.problem.weights, 0.0)
        return float(np.sum(w[own] - self.v[own]))

    def tops(self, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The ``count`` largest column sums of ``v`` over free sites: value, index, x, y."""
        csc = self.tile.problem.csc
        self.sums = column_sums(csc.indptr, csc.indices, self.v, self.columns)
        index = self.tile.index[self.columns]
        rows = top_rows(self.sums, index, count)
        local = self.columns[rows]
        xy = self.tile.site_xy
        return self.sums[rows], index[rows], xy[local, 0], xy[local, 1]

    def direction_norm(self, cut: tuple[float, int], foreign: tuple[np.ndarray, np.ndarray]
                       ) -> float:
        """Count the chosen sites seeing each copy; the new direction's norm (owned).

        ``cut`` is the last chosen ``(column sum, index)``: a free site is chosen when its
        sum is larger, or equal with an index not larger. ``foreign`` are the chosen
        sites of other tiles within twice the reach: global indices and coordinates.
        """
        tile = self.tile
        value, last = cut
        index = tile.index[self.columns]
        chosen = self.columns[(self.sums > value) | ((self.sums == value) & (index <= last))]
        seen = np.zeros(len(self.v), dtype=np.int32)
        csc = tile.problem.csc
        _count(csc.indptr, csc.indices, chosen, seen)
        for rows in self._foreign_rows(*foreign):
            seen[rows] += 1
        return float(_direction(seen, self.residual, tile.problem.weights, self.v,
                                self.direction, tile.own))

    def move(self, step: float) -> float:
        """Take the step; ``sum(w - v)`` over owned copies after it."""
        return float(_move(self.residual, self.tile.problem.weights, self.v, self.direction,
                           float(step), self.tile.own))

    def nbytes(self) -> int:
        """Bytes of the multipliers and their direction."""
        cached = sum(r.nbytes for r in self._foreign.values())
        return int(self.v.nbytes * 2 + self.residual.nbytes + self.sums.nbytes
                   + self.columns.nbytes + cached)

    def _foreign_rows(self, index: np.ndarray, xy: np.ndarray) -> list[np.ndarray]:
        """Rows of this tile's copies each foreign site sees (cached by site)."""
        index = np.asarray(index, dtype=np.int64)
        missing = [k for k, j in enumerate(index.tolist()) if j not in self._foreign]
        if missing and len(self.tile.xy):
            block = coverage_matrix(self.tile.xy, np.asarray(xy, dtype=np.float64)[missing],
                                    self.tile.radius_m)
            for col, k in enumerate(missing):
                rows = block.indices[block.indptr[col] : block.indptr[col + 1]]
                self._foreign[int(index[k])] = rows.astype(np.int64)
        return [self._foreign.get(int(j), np.zeros(0, dtype=np.int64)) for j in index.tolist()]
