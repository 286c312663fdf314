"""A Lagrangian bound for camera sets, tightened by subgradient steps.

With the distinct qualities ``t_1 < ... < t_L`` and the baseline ``b_i``, a plan's
value is ``C + sum_il W_il y_il`` where ``y_il`` says point ``i`` is seen at level
``l`` or better and ``W_il = w_i (t_l - max(t_{l-1}, b_i))`` for ``t_l > b_i``
(:mod:`planner.solver.sets_mip`). Relaxing ``y_il <= sum_{c: q_ic >= t_l} x_c`` with
multipliers ``0 <= v_il <= W_il`` gives, for *any* such ``v``::

    OPT <= C + sum_il (W_il - v_il) + max_{x, z} sum_c x_c s_c(v),
    s_c(v) = sum_{i, l: q_ic >= t_l} v_il

and the inner maximum over ``p`` mounts with ``k`` cameras each is the sum of the ``p``
largest per-mount sums of the ``k`` largest ``s_c`` (a fixed spread: the largest sum
over one configuration). With ``v_il = W_il`` on the levels a plan leaves unreached
this is the online bound of :mod:`planner.solver.sets`; projected subgradient steps
(Polyak, towards the plan's value; Fisher 1981) lower it. A fixed number of steps,
never a time limit: the same bound on every machine.
"""

from __future__ import annotations

import logging

import numpy as np
from numba import njit, prange

from planner.solver.bounds import lagrangian_steps
from planner.solver.problem import CoverageProblem
from planner.solver.sets import SetLayout

__all__ = ["set_lagrangian_bound", "set_lagrangian_steps"]

logger = logging.getLogger(__name__)


@njit(cache=True, parallel=True)
def _column_sums(
    indptr: np.ndarray, indices: np.ndarray, lev: np.ndarray, prefix: np.ndarray, out: np.ndarray
) -> None:
    for c in prange(len(indptr) - 1):
        total = 0.0
        for e in range(indptr[c], indptr[c + 1]):
            total += prefix[indices[e], lev[e]]
        out[c] = total


@njit(cache=True)
def _mount_values(  # noqa: C901 - a compiled kernel
    sums: np.ndarray, n_pans: int, k: int, offsets: np.ndarray, spread: int, eligible: np.ndarray,
    picks: np.ndarray,
) -> np.ndarray:
    """Each mount's best ``k`` cameras by ``sums`` (free pans) or best configuration."""
    m = len(eligible)
    values = np.zeros(m)
    for j in range(m):
        for r in range(picks.shape[1]):
            picks[j, r] = -1
        if not eligible[j]:
            continue
        row = sums[j * n_pans:(j + 1) * n_pans]
        if spread < 0:
            for r in range(min(k, n_pans)):  # the k largest, ties to the lower pan
                top, at = 0.0, -1
                for p in range(n_pans):
                    taken = False
                    for s in range(r):
                        if picks[j, s] == p:
                            taken = True
                    if not taken and row[p] > top:
                        top, at = row[p], p
                if at < 0:
                    break
                values[j] += top
                picks[j, r] = at
        else:
            for p in range(n_pans):
                total = 0.0
                for r in range(len(offsets)):
                    total += row[(p + offsets[r]) % n_pans]
                if total > values[j]:
                    values[j] = total
                    for r in range(len(offsets)):
                        picks[j, r] = (p + offsets[r]) % n_pans
    return values


@njit(cache=True)
def _step(
    indptr: np.ndarray, indices: np.ndarray, lev: np.ndarray, cols: np.ndarray, cap: np.ndarray,
    v: np.ndarray, size: float,
) -> float:
    """Projected subgradient step on ``v`` (in place); returns ``sum(v)``, -1 at a zero gradient."""
    n, n_lev = v.shape
    seen = np.zeros((n, n_lev), dtype=np.int32)
    for c in cols:
        for e in range(indptr[c], indptr[c + 1]):
            for lv in range(lev[e] + 1):
                seen[indices[e], lv] += 1
    norm = 0.0
    for i in range(n):
        for lv in range(n_lev):
            g = seen[i, lv] - 1.0 if cap[i, lv] > 0 else 0.0
            if not ((v[i, lv] <= 0.0 and g > 0.0) or (v[i, lv] >= cap[i, lv] and g < 0.0)):
                norm += g * g
    if norm <= 0.0:
        return -1.0
    total = 0.0
    for i in range(n):
        for lv in range(n_lev):
            g = seen[i, lv] - 1.0 if cap[i, lv] > 0 else 0.0
            if not ((v[i, lv] <= 0.0 and g > 0.0) or (v[i, lv] >= cap[i, lv] and g < 0.0)):
                v[i, lv] = min(max(v[i, lv] - size / norm * g, 0.0), cap[i, lv])
            total += v[i, lv]
    return total


def set_lagrangian_steps(nnz: int) -> int:
    """Subgradient steps for ``nnz`` camera-point pairs: about 1e8 pair visits, 10 to 60.

    The first ten do most of the tightening.
    """
    return max(10, min(60, int(1e8 / max(nnz, 1))))


def _levels(problem: CoverageProblem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Level of every stored entry, and the caps ``W_il`` (points x levels)."""
    csc = problem.csc
    levels = np.unique(csc.data)
    lev = np.searchsorted(levels, csc.data).astype(np.int64)
    base = problem.baseline[:, None]
    below = np.concatenate([[0.0], levels[:-1]])[None, :]
    gain = np.where(levels[None, :] > base, levels[None, :] - np.maximum(below, base), 0.0)
    cap = problem.weights[:, None] * gain
    return levels, lev, cap


def set_lagrangian_bound(problem: CoverageProblem, layout: SetLayout, *, count: int,
                         eligible: np.ndarray, lower: float, best: np.ndarray,
                         iterations: int | None = None) -> float:
    """The bound of the module doc for plans of ``count`` mounts among ``eligible``.

    ``best`` are the qualities a known plan of value ``lower`` reaches (the start).
    """
    csc = problem.csc
    if csc.nnz == 0 or count <= 0:
        return problem.value(problem.baseline)
    levels, lev, cap = _levels(problem)
    v = np.where(levels[None, :] > best[:, None], cap, 0.0)  # the online bound at the plan
    constant = problem.value(problem.baseline) + float(cap.sum())
    sums = np.empty(csc.shape[1])
    picks = np.full((len(eligible), max(layout.per_set, len(layout.offsets()))), -1,
                    dtype=np.int64)
    offsets, spread = layout.offsets(), layout.spread_code
    p = min(int(count), int(eligible.sum()))
    v_total, bound, scale, stale = float(v.sum()), np.inf, 2.0, 0
    steps = lagrangian_steps(csc.nnz) if iterations is None else iterations
    for _ in range(steps):
        prefix = np.cumsum(v, axis=1)
        _column_sums(csc.indptr, csc.indices, lev, prefix, sums)
        values = _mount_values(sums, layout.n_pans, layout.per_set, offsets, spread, eligible,
                               picks)
        top = np.argpartition(values, len(values) - p)[len(values) - p:]
        value = constant - v_total + float(values[top].sum())
        if value < bound - 1e-12 * max(value, 1.0):
            bound, stale = value, 0
        else:
            stale += 1
            if stale >= 10:
                scale, stale = scale / 2, 0
        if bound - lower <= 1e-6 * max(lower, 1.0) or scale < 1e-4:
            break
        chosen = picks[top]
        cols = (top[:, None] * layout.n_pans + chosen)[chosen >= 0].astype(np.int64)
        v_total = _step(csc.indptr, csc.indices, lev, cols, cap, v, scale * (value - lower))
        if v_total < 0:
            break
    logger.info("set Lagrangian bound: %.6g (plan %.6g)", bound, lower)
    return bound
