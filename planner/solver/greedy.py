"""Lazy greedy maximal coverage.

Objective: maximise ``f(S) = sum_i w_i * max(b_i, max_{j in S} q_ij)``, the
weight covered by the chosen sites ``S`` together with the existing cameras
(``b_i`` is the quality a point already has), subject to ``|S| <= p`` or to a
cost budget ``sum_{j in S} c_j <= B``.

Greedy rule: repeatedly add the site with the largest marginal gain
``f(S + j) - f(S)`` (or gain per unit cost under a budget). ``f`` is monotone
submodular, so greedy reaches at least ``1 - 1/e`` of the optimum under a
count constraint (Nemhauser, Wolsey & Fisher 1978); under a budget the better
of cost-benefit greedy and the best single site reaches ``(1 - 1/e) / 2``
(Khuller, Moss & Naor 1999).

Lazy evaluation (Minoux 1978): gains only shrink as ``S`` grows, so a heap of
stale gains holds upper bounds and only the top entry needs re-evaluation.
Ties break on the lower site index, so results are deterministic and equal
to those of plain (non-lazy) greedy with the same tie rule.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from numba import njit
from scipy import sparse

from planner.solver.gains import all_gains, column_gain
from planner.solver.heap import heap_push, heapify, sift_down
from planner.solver.problem import CoverageProblem

__all__ = [
    "GreedyState",
    "block_neighbours",
    "column_gain_kernel",
    "conflict_arrays",
    "greedy_steps",
    "lazy_greedy",
    "pick",
]

logger = logging.getLogger(__name__)

Observer = Callable[["GreedyState"], None]


@dataclass
class GreedyState:
    """The mutable working state of a run (internal; results are frozen elsewhere).

    Attributes
    ----------
    best
        Quality each demand point has now (existing cameras and chosen sites).
    available
        Sites that may still be chosen (not chosen, not forbidden, not too close).
    chosen
        Chosen site indices in pick order.
    gains
        Marginal gain of each pick when it was made.
    spent
        Cost of the chosen sites (their number when there are no costs).
    """

    best: np.ndarray
    available: np.ndarray
    chosen: list[int] = field(default_factory=list)
    gains: list[float] = field(default_factory=list)
    spent: float = 0.0

    def copy(self) -> GreedyState:
        """An independent copy (arrays and lists copied)."""
        return GreedyState(
            self.best.copy(), self.available.copy(), list(self.chosen), list(self.gains), self.spent
        )


def block_neighbours(state: GreedyState, conflicts: sparse.csr_array | None, j: int) -> None:
    """Make the sites closer than the minimum spacing to ``j`` unavailable."""
    if conflicts is not None:
        state.available[conflicts.indices[conflicts.indptr[j] : conflicts.indptr[j + 1]]] = False


def pick(
    problem: CoverageProblem,
    state: GreedyState,
    j: int,
    *,
    gain: float | None = None,
    cost: float = 1.0,
    conflicts: sparse.csr_array | None = None,
) -> None:
    """Add site ``j`` to the state and update the qualities it improves."""
    if gain is None:
        gain = column_gain(problem, j, state.best)
    csc = problem.csc
    lo, hi = csc.indptr[j], csc.indptr[j + 1]
    rows = csc.indices[lo:hi]
    state.best[rows] = np.maximum(state.best[rows], csc.data[lo:hi])
    state.chosen.append(int(j))
    state.gains.append(float(gain))
    state.spent += cost
    state.available[j] = False
    block_neighbours(state, conflicts, j)


class SiteColumns(Protocol):
    """What :func:`conflict_arrays` reads of a problem: its columns and how many there are."""

    @property
    def csc(self) -> sparse.csc_array: ...
    @property
    def n_sites(self) -> int: ...


def conflict_arrays(
    problem: SiteColumns, conflicts: sparse.csr_array | None
) -> tuple[np.ndarray, np.ndarray]:
    """``indptr`` and ``indices`` of the conflicts for the compiled kernels.

    In the index types of the coverage matrix (one compiled version); empty rows
    without a spacing.
    """
    csc = problem.csc
    if conflicts is None:
        return np.zeros(problem.n_sites + 1, dtype=csc.indptr.dtype), csc.indices[:0]
    return (conflicts.indptr.astype(csc.indptr.dtype, copy=False),
            conflicts.indices.astype(csc.indices.dtype, copy=False))


@njit(cache=True)
def column_gain_kernel(
    c_ptr: np.ndarray, c_idx: np.ndarray, c_q: np.ndarray, w: np.ndarray, best: np.ndarray, j: int
) -> float:
    """:func:`planner.gains.column_gain` for compiled code: the gain of site ``j``."""
    gain = 0.0
    for e in range(c_ptr[j], c_ptr[j + 1]):
        lift = c_q[e] - best[c_idx[e]]
        if lift > 0.0:
            gain += w[c_idx[e]] * lift
    return gain


@njit(cache=True)
def greedy_steps(  # noqa: PLR0913 - a compiled kernel takes its arrays one by one
    keys: np.ndarray, sites: np.ndarray, size: int,  # heap of (-gain per unit cost, site); size
    stamp: np.ndarray, exact: np.ndarray, step: int, stop: int,  # step of each exact gain; gains
    c_ptr: np.ndarray, c_idx: np.ndarray, c_q: np.ndarray,  # site columns
    w: np.ndarray, best: np.ndarray,  # weights, current qualities (updated)
    available: np.ndarray, unit: np.ndarray,  # available sites (updated), costs
    budget: float, spent: float,  # budget (inf: none), spent so far
    k_ptr: np.ndarray, k_idx: np.ndarray,  # conflicts (CSR; empty without a spacing)
    picks: np.ndarray, picked_gains: np.ndarray,  # out: the sites picked and their gains
) -> tuple[int, int, float, int]:
    """Lazy greedy from ``step`` until ``stop`` picks or an empty heap.

    The compiled core of :func:`lazy_greedy`, public for callers that keep their own heap
    (the tiles of :mod:`planner.distributed`). Returns the heap size, the step, the
    spending and the number of picks written to ``picks``/``picked_gains``.
    """
    n_picks = 0
    while step < stop and size > 0:
        j = sites[0]
        size -= 1
        keys[0], sites[0] = keys[size], sites[size]
        sift_down(keys, sites, size, 0)
        if not available[j]:
            continue
        if spent + unit[j] > budget * (1 + 1e-12):
            continue  # never affordable again: the remaining budget only shrinks
        if stamp[j] != step:
            gain = column_gain_kernel(c_ptr, c_idx, c_q, w, best, j)
            stamp[j], exact[j] = step, gain
            if gain > 0:
                size = heap_push(keys, sites, size, -gain / unit[j], j)
            continue
        for e in range(c_ptr[j], c_ptr[j + 1]):
            r = c_idx[e]
            if c_q[e] > best[r]:
                best[r] = c_q[e]
        available[j] = False
        for e in range(k_ptr[j], k_ptr[j + 1]):
            available[k_idx[e]] = False
        spent += unit[j]
        picks[n_picks], picked_gains[n_picks] = j, exact[j]
        n_picks += 1
        step += 1
    return size, step, spent, n_picks


def _gain_heap(
    problem: CoverageProblem, state: GreedyState, unit: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int]:
    """The heap of (-gain per unit cost, site) of the available sites that gain anything.

    The heap never outgrows its start: a stale entry is popped before its update is pushed.
    """
    gains = all_gains(problem, state.best)
    sites = np.flatnonzero(state.available & (gains > 0))
    keys = np.empty(len(sites) + 1)
    heap_sites = np.empty(len(sites) + 1, dtype=np.int64)
    keys[: len(sites)], heap_sites[: len(sites)] = -gains[sites] / unit[sites], sites
    heapify(keys[: len(sites)], heap_sites[: len(sites)])
    return keys, heap_sites, len(sites)


def lazy_greedy(
    problem: CoverageProblem,
    state: GreedyState,
    *,
    count: int,
    costs: np.ndarray | None = None,
    budget: float | None = None,
    conflicts: sparse.csr_array | None = None,
    observe: Observer | None = None,
    observe_at: frozenset[int] = frozenset(),
) -> GreedyState:
    """Extend ``state`` (in place) by at most ``count`` greedy picks.

    Parameters
    ----------
    problem
        The coverage instance.
    state
        Where to start: existing cameras, forced sites and earlier phases.
    count
        Most sites to add in this call.
    costs
        Cost of every site; with ``budget`` the rule becomes gain per unit cost.
    budget
        Total cost allowed, counted over ``state.spent`` too.
    conflicts
        Sparse site x site matrix of pairs closer than the minimum spacing.
    observe
        Called with the state when its pick count is in ``observe_at`` (the online bound).

    Returns
    -------
    The same ``state``. Stops early when no available site adds any weight.
    """
    unit = np.ones(problem.n_sites) if costs is None else np.asarray(costs, dtype=np.float64)
    keys, heap_sites, size = _gain_heap(problem, state, unit)
    stamp = np.full(problem.n_sites, -1, dtype=np.int64)
    exact = np.zeros(problem.n_sites)
    csc = problem.csc
    k_ptr, k_idx = conflict_arrays(problem, conflicts)
    limit = np.inf if budget is None else float(budget)
    picks = np.empty(max(count, 0), dtype=np.int64)
    picked = np.empty(max(count, 0))
    stops = sorted({n - len(state.chosen) for n in observe_at} | {count})
    step = 0
    for stop in (s for s in stops if 0 < s <= count):
        size, step, state.spent, n = greedy_steps(
            keys, heap_sites, size, stamp, exact, step, stop,
            csc.indptr, csc.indices, csc.data, problem.weights, state.best,
            state.available, unit, limit, float(state.spent), k_ptr, k_idx,
            picks[step:], picked[step:],
        )  # fmt: skip
        state.chosen.extend(picks[step - n : step].tolist())
        state.gains.extend(picked[step - n : step].tolist())
        if observe is not None and len(state.chosen) in observe_at:
            observe(state)
        if step < stop:
            break  # the heap ran dry: no available site adds weight
    logger.debug("lazy greedy: %d picks", step)
    return state
