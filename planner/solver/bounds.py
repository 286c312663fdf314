"""Certificates: upper bounds on the best achievable coverage.

Two bounds, both valid for any monotone submodular coverage objective ``f``
(the first) or for plain binary coverage (the second):

* the **online bound** (Nemhauser, Wolsey & Fisher 1978; Leskovec et al.
  2007): for any set ``S`` and budget ``p``,
  ``OPT_p <= f(S) + (sum of the p largest marginal gains with respect to S)``.
  Evaluated at checkpoints of the greedy run and at the final plan, the best
  (smallest) value is kept. With costs, the sum becomes a fractional knapsack
  of gains within the budget, which still bounds ``OPT``.
* the **Lagrangian bound** of binary coverage, tightened by deflected subgradient
  steps from a dual-ascent start, which approaches the LP relaxation of the maximal
  covering location problem (Church & ReVelle 1974) without solving it; the LP and
  MIP themselves, with HiGHS, are in :mod:`planner.solver.mclp`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from planner.solver.gains import all_gains
from planner.solver.greedy import GreedyState
from planner.solver.problem import CoverageProblem

__all__ = [
    "ASCENT_TRIALS",
    "OnlineBound",
    "StepSchedule",
    "ascent_order",
    "column_sums",
    "dual_ascent",
    "lagrangian_bound",
    "lagrangian_steps",
    "top_sum",
]

logger = logging.getLogger(__name__)

#: Weight of the new subgradient in the step direction (the rest: the previous direction).
DEFLECTION = 0.1
#: Steps without a better bound before the step size is halved.
STALL_STEPS = 20
#: Site prices tried by the dual ascent (golden-section search on a log scale).
ASCENT_TRIALS = 6
#: Coverage pairs from which the column sums run on several threads (below, start-up dominates).
PARALLEL_NNZ = 1_000_000
#: Demand rows per chunk of a parallel subgradient step.
STEP_CHUNK = 8192


def top_sum(gains: np.ndarray, budget: float, *, costs: np.ndarray | None = None) -> float:
    """The most gain any ``budget`` sites (or sites costing ``budget``) can add.

    Without costs, the sum of the ``budget`` largest gains; with costs, the
    fractional knapsack optimum, an upper bound on the integer one.
    """
    if budget <= 0 or gains.size == 0:
        return 0.0
    if costs is None:
        p = min(int(budget), gains.size)
        return float(np.partition(gains, gains.size - p)[gains.size - p :].sum())
    order = np.lexsort((np.arange(gains.size), -gains / costs))
    cum = np.cumsum(costs[order])
    full = int(np.searchsorted(cum, budget, side="right"))
    total = float(gains[order[:full]].sum())
    if full < gains.size:
        spare = budget - (cum[full - 1] if full else 0.0)
        total += float(gains[order[full]]) * spare / float(costs[order[full]])
    return total


class OnlineBound:
    """Accumulates the online submodular bound over observed states.

    Parameters
    ----------
    problem
        The coverage instance.
    budgets
        For every budget of interest, how many sites (or how much cost) may be
        added beyond the fixed sites the observed states all contain.
    eligible
        Sites a plan may contain (not forbidden).
    costs
        Site costs when budgets are costs.
    """

    def __init__(
        self,
        problem: CoverageProblem,
        budgets: Sequence[float],
        *,
        eligible: np.ndarray,
        costs: np.ndarray | None = None,
    ) -> None:
        self._problem = problem
        self._budgets = list(budgets)
        self._eligible = eligible
        self._costs = costs
        self.bounds = np.full(len(self._budgets), np.inf)
        self.evaluations = 0

    def observe(self, state: GreedyState) -> None:
        """Tighten every budget's bound with the state's gains."""
        gains = all_gains(self._problem, state.best)
        gains[~self._eligible] = 0.0
        value = self._problem.value(state.best)
        for t, budget in enumerate(self._budgets):
            bound = value + top_sum(gains, budget, costs=self._costs)
            self.bounds[t] = min(self.bounds[t], bound)
        self.evaluations += 1


@njit(cache=True, parallel=True)
def _column_sums_parallel(
    indptr: np.ndarray, indices: np.ndarray, v: np.ndarray, columns: np.ndarray
) -> np.ndarray:
    """``sum_i v_i`` over the points each of ``columns`` sees (binary coverage)."""
    out = np.empty(len(columns))
    for t in prange(len(columns)):
        j = columns[t]
        total = 0.0
        for e in range(indptr[j], indptr[j + 1]):
            total += v[indices[e]]
        out[t] = total
    return out


@njit(cache=True)
def _column_sums_serial(
    indptr: np.ndarray, indices: np.ndarray, v: np.ndarray, columns: np.ndarray
) -> np.ndarray:
    """:func:`_column_sums_parallel` on one thread: the same sums, in the same order."""
    out = np.empty(len(columns))
    for t in range(len(columns)):
        j = columns[t]
        total = 0.0
        for e in range(indptr[j], indptr[j + 1]):
            total += v[indices[e]]
        out[t] = total
    return out


def column_sums(
    indptr: np.ndarray, indices: np.ndarray, v: np.ndarray, columns: np.ndarray
) -> np.ndarray:
    """Column sums of ``v``; threads only pay for themselves on large instances."""
    if indices.size >= PARALLEL_NNZ:
        return _column_sums_parallel(indptr, indices, v, columns)
    return _column_sums_serial(indptr, indices, v, columns)


@dataclass(frozen=True)
class _Dual:
    constant: float  # weight the fixed sites already cover
    w: np.ndarray  # residual weights (0 on covered points)
    residual: np.ndarray  # points not yet fully covered
    v: np.ndarray  # multipliers, updated in place


@njit(cache=True, inline="always")
def _chunk(c: int, n: int) -> tuple[int, int]:
    """Rows ``[lo, hi)`` of chunk ``c`` of ``n`` rows (``STEP_CHUNK`` rows a chunk)."""
    return c * STEP_CHUNK, min(n, (c + 1) * STEP_CHUNK)


@njit(cache=True, inline="always")
def _moves(v: float, w: float, d: float) -> bool:
    """Whether a step along ``-d`` moves ``v`` (it is not pinned at 0 or ``w`` by ``d``)."""
    return not ((v <= 0.0 and d > 0.0) or (v >= w and d < 0.0))


@njit(cache=True)
def _recount(
    indptr: np.ndarray, indices: np.ndarray, entering: np.ndarray, leaving: np.ndarray,
    seen: np.ndarray,
) -> None:  # fmt: skip
    """Keep ``seen`` (chosen sites seeing each point) as sites enter and leave the choice."""
    for j in entering:
        for e in range(indptr[j], indptr[j + 1]):
            seen[indices[e]] += 1
    for j in leaving:
        for e in range(indptr[j], indptr[j + 1]):
            seen[indices[e]] -= 1


@njit(cache=True, parallel=True)
def _step_direction(
    seen: np.ndarray, residual: np.ndarray, w: np.ndarray, v: np.ndarray, direction: np.ndarray
) -> np.ndarray:
    """The deflected direction (in place); per chunk of rows, the squared norm of what moves.

    The subgradient at point ``i`` is ``seen[i] - 1`` (chosen sites seeing it, less one)
    on residual points; the direction is ``DEFLECTION`` times it plus the rest of the
    previous direction (Barahona & Anbil's volume algorithm smooths the same way).
    """
    norms = np.zeros((len(v) + STEP_CHUNK - 1) // STEP_CHUNK)
    for c in prange(len(norms)):
        lo, hi = _chunk(c, len(v))
        total = 0.0
        for i in range(lo, hi):
            g = seen[i] - 1.0 if residual[i] else 0.0
            d = DEFLECTION * g + (1.0 - DEFLECTION) * direction[i]
            direction[i] = d
            if _moves(v[i], w[i], d):
                total += d * d
        norms[c] = total
    return norms


@njit(cache=True, parallel=True)
def _step_update(v: np.ndarray, w: np.ndarray, direction: np.ndarray, step: float) -> np.ndarray:
    """``v -= step * direction`` where it moves, kept in ``[0, w]``; per chunk, the new sum."""
    totals = np.zeros((len(v) + STEP_CHUNK - 1) // STEP_CHUNK)
    for c in prange(len(totals)):
        lo, hi = _chunk(c, len(v))
        total = 0.0
        for i in range(lo, hi):
            d = direction[i]
            if _moves(v[i], w[i], d):
                v[i] = min(max(v[i] - step * d, 0.0), w[i])
            total += v[i]
        totals[c] = total
    return totals


@dataclass
class _Choice:
    """The sites the Lagrangian solution takes, and how many of them see each point."""

    chosen: np.ndarray  # 0/1 per site
    seen: np.ndarray  # per point

    def take(self, problem: CoverageProblem, sites: np.ndarray) -> None:
        """Make ``sites`` the choice, recounting only the points of sites that changed."""
        now = np.zeros_like(self.chosen)
        now[sites] = 1
        changed = np.flatnonzero(now != self.chosen)
        entering, leaving = changed[now[changed] == 1], changed[now[changed] == 0]
        _recount(problem.csc.indptr, problem.csc.indices, entering, leaving, self.seen)
        self.chosen = now


def deflected_step(dual: _Dual, seen: np.ndarray, direction: np.ndarray, size: float) -> float:
    """One projected, deflected subgradient step on ``dual.v`` (in place).

    ``seen`` counts the chosen sites seeing each point. Components of the direction
    that would leave ``[0, w_i]`` are dropped, and the step is ``size / |direction|²``
    (Polyak). Returns the new ``sum(v)``, or -1 when the direction is zero. Rows are
    split into chunks of ``STEP_CHUNK`` whose partial sums are added in order, so the
    step is the same on any number of threads.
    """
    norm = float(np.sum(_step_direction(seen, dual.residual, dual.w, dual.v, direction)))
    if norm <= 0.0:
        return -1.0
    return float(np.sum(_step_update(dual.v, dual.w, direction, size / norm)))


def lagrangian_steps(nnz: int) -> int:
    """Subgradient steps for an instance with ``nnz`` coverage pairs.

    About 2e9 pair visits in all, between 100 and 1,000 steps.
    """
    return max(100, min(1000, int(2e9 / max(nnz, 1))))


def lagrangian_bound(
    problem: CoverageProblem,
    *,
    count: int,
    fixed: Sequence[int],
    eligible: np.ndarray,
    lower: float,
    start: np.ndarray | None = None,
    iterations: int | None = None,
    ascent: bool = False,
) -> float:
    """Lagrangian bound of binary maximal coverage, tightened by subgradient steps.

    Relaxing ``y_i <= sum_{j in N(i)} x_j`` with multipliers ``0 <= v_i <= w_i``
    gives, for *any* such ``v``::

        OPT <= C + sum_i (w_i - v_i) + (sum of the ``count`` largest column sums of v)

    where ``C`` is the weight the fixed sites and existing cameras already
    cover. With ``v_i = w_i`` on the points a plan leaves uncovered this is the
    online bound; projected, deflected subgradient steps (Polyak step towards
    ``lower``, the value of a known plan; Fisher 1981; the direction smoothed as in
    Barahona & Anbil's volume algorithm, 2000) lower it towards the LP relaxation.
    Scales like two passes over the coverage pairs per step.

    Parameters
    ----------
    count
        Sites that may be added beyond ``fixed``.
    lower
        Covered weight of a known feasible plan (the target of the steps).
    start
        Starting multipliers (default: the weights of points the fixed sites leave uncovered).
    iterations
        Most subgradient steps; default :func:`lagrangian_steps` of the instance size.
        A count, never a time limit, so the bound is the same on every machine.
    ascent
        Start instead from a dual ascent (:func:`dual_ascent`) when its bound is lower
        than ``start``'s: the steps then begin nearer the LP value.
    """
    best0 = problem.best_quality(np.asarray(fixed, dtype=np.int64))
    residual = (best0 < 1.0) & (problem.weights > 0)
    w = np.where(residual, problem.weights, 0.0)
    constant = problem.value(best0)
    free = eligible.copy()
    free[np.asarray(fixed, dtype=np.int64)] = False
    free_idx = np.flatnonzero(free)
    p = min(int(count), free_idx.size)
    if p <= 0 or not residual.any():
        return constant
    v = np.clip(w if start is None else np.minimum(start, w), 0.0, None)
    if ascent:
        v = _better_start(problem, w, free, p, v)
    steps = lagrangian_steps(problem.csc.nnz) if iterations is None else iterations
    best = _descend(problem, _Dual(constant, w, residual, v), free_idx, p, lower, steps)
    logger.info("Lagrangian bound: %.6g (plan %.6g)", best, lower)
    return best


@dataclass
class StepSchedule:
    """The best bound seen and the step scale, halved after STALL_STEPS steps without progress."""

    best: float = np.inf
    scale: float = 1.0
    stale: int = 0

    def done(self, value: float, lower: float) -> bool:
        """Record the bound ``value`` of this step; whether the descent should stop.

        It stops when the best bound meets the plan's value ``lower`` or the steps are
        too small to move.
        """
        if value < self.best - 1e-12 * max(value, 1.0):
            self.best, self.stale = value, 0
        else:
            self.stale += 1
            if self.stale >= STALL_STEPS:
                self.scale, self.stale = self.scale / 2, 0
        return self.best - lower <= 1e-6 * max(lower, 1.0) or self.scale < 1e-4


def _descend(
    problem: CoverageProblem, dual: _Dual, free_idx: np.ndarray, p: int, lower: float, steps: int
) -> float:
    """Projected subgradient steps on ``dual.v``; the best bound seen."""
    csc, w, v = problem.csc, dual.w, dual.v
    choice = _Choice(np.zeros(problem.n_sites, np.uint8), np.zeros(problem.n_demand, np.int32))
    direction = np.zeros(problem.n_demand)
    w_total, v_total = float(w.sum()), float(v.sum())
    schedule = StepSchedule()
    for _ in range(steps):
        sums = column_sums(csc.indptr, csc.indices, v, free_idx)
        top = np.argpartition(sums, sums.size - p)[sums.size - p :]
        value = dual.constant + (w_total - v_total) + float(sums[top].sum())
        if schedule.done(value, lower):
            break
        choice.take(problem, free_idx[top])
        v_total = deflected_step(dual, choice.seen, direction, schedule.scale * (value - lower))
        if v_total < 0:
            break
    return schedule.best


@njit(cache=True)
def _ascend(
    indptr: np.ndarray, indices: np.ndarray, free: np.ndarray, w: np.ndarray,
    order: np.ndarray, price: float, sums: np.ndarray, v: np.ndarray,
) -> None:  # fmt: skip
    """One pass of dual ascent over the points in ``order``.

    Each ``v_i`` is raised until a free site seeing point ``i`` reaches ``price`` or
    ``v_i = w_i``. ``sums`` (per site) and ``v`` start at zero.
    """
    for i in order:
        room = w[i]
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            if free[j]:
                room = min(room, price - sums[j])
        if room <= 0.0:
            continue
        v[i] = room
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            if free[j]:
                sums[j] += room


def ascent_order(problem: CoverageProblem, w: np.ndarray) -> np.ndarray:
    """Points of positive weight, those seen by the fewest sites first (ties: lower index)."""
    order = np.lexsort((np.arange(w.size), np.diff(problem.csr.indptr)))
    return order[w[order] > 0]


def dual_ascent(
    problem: CoverageProblem,
    w: np.ndarray,
    free: np.ndarray,
    p: int,
    price: float,
    order: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """Multipliers by dual ascent at one site price, and the bound they give (without ``C``).

    Erlenkotter's (1978) ascent for facility location, on coverage: points seen by the
    fewest sites first, each ``v_i`` raised until a site's sum reaches ``price``. Any
    ``0 <= v <= w`` is valid in :func:`lagrangian_bound`; this one is usually a good start.
    ``order`` is :func:`ascent_order` (computed when not given).
    """
    csr = problem.csr
    order = ascent_order(problem, w) if order is None else order
    v = np.zeros(w.size)
    sums = np.zeros(problem.n_sites)
    _ascend(csr.indptr, csr.indices, free, w, order, float(price), sums, v)
    top = np.partition(sums[free], free.sum() - p)[free.sum() - p :]
    return v, float(w.sum() - v.sum() + top.sum())


def _better_start(
    problem: CoverageProblem, w: np.ndarray, free: np.ndarray, p: int, v: np.ndarray
) -> np.ndarray:
    """``v`` or the best dual ascent over site prices, whichever bounds lower."""
    sums = np.asarray(problem.by_site @ v).ravel()[free]
    best_value = float(w.sum() - v.sum() + np.partition(sums, sums.size - p)[sums.size - p :].sum())
    reach = np.asarray(problem.by_site @ w).ravel()[free]
    hi = float(np.partition(reach, reach.size - p)[reach.size - p])
    if hi <= 0.0:
        return v
    lo_x, hi_x = np.log(hi / 16.0), np.log(hi)
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    xs = [hi_x - ratio * (hi_x - lo_x), lo_x + ratio * (hi_x - lo_x)]
    order = ascent_order(problem, w)
    vals = [dual_ascent(problem, w, free, p, float(np.exp(x)), order) for x in xs]
    best, best_value = (v, best_value)
    for _ in range(ASCENT_TRIALS - 2):
        for cand, value in vals:
            if value < best_value:
                best, best_value = cand, value
        if vals[0][1] <= vals[1][1]:  # the minimum lies left of xs[1]
            hi_x, xs[1], vals[1] = xs[1], xs[0], vals[0]
            xs[0] = hi_x - ratio * (hi_x - lo_x)
            vals[0] = dual_ascent(problem, w, free, p, float(np.exp(xs[0])), order)
        else:
            lo_x, xs[0], vals[0] = xs[0], xs[1], vals[1]
            xs[1] = lo_x + ratio * (hi_x - lo_x)
            vals[1] = dual_ascent(problem, w, free, p, float(np.exp(xs[1])), order)
    for cand, value in vals:
        if value < best_value:
            best, best_value = cand, value
    logger.info("dual ascent start: %.6g", best_value)
    return best
