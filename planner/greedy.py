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

import heapq
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from planner.coverage import CoverageProblem
from planner.gains import all_gains, column_gain

__all__ = ["GreedyState", "block_neighbours", "lazy_greedy", "pick"]

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
        Called with the state after every pick whose total pick count is in
        ``observe_at`` (used for the online bound).

    Returns
    -------
    The same ``state``. Stops early when no available site adds any weight.
    """
    gains = all_gains(problem, state.best)
    unit = np.ones(problem.n_sites) if costs is None else costs
    keys = gains / unit
    heap = [(-keys[j], j) for j in np.flatnonzero(state.available & (gains > 0)).tolist()]
    heapq.heapify(heap)
    stamp: dict[int, int] = {}  # step at which each exact gain was computed
    exact: dict[int, float] = {}
    step = 0
    evaluations = 0
    while step < count and heap:
        _neg_key, j = heapq.heappop(heap)
        if not state.available[j]:
            continue
        if budget is not None and state.spent + unit[j] > budget * (1 + 1e-12):
            continue  # never affordable again: the remaining budget only shrinks
        if stamp.get(j, -1) != step:
            gain = column_gain(problem, j, state.best)
            evaluations += 1
            stamp[j], exact[j] = step, gain
            if gain > 0:
                heapq.heappush(heap, (-gain / unit[j], j))
            continue
        pick(problem, state, j, gain=exact[j], cost=unit[j], conflicts=conflicts)
        step += 1
        if observe is not None and len(state.chosen) in observe_at:
            observe(state)
    logger.debug("lazy greedy: %d picks, %d gain evaluations", step, evaluations)
    return state
