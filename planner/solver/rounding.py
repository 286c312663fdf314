"""LP-guided rounding: a second plan built from the sites the LP relaxation uses.

Where the LP bound is close to the optimum but greedy and swaps stop short of it
(overlapping sites on street networks), greedy restricted to the LP's support, filled
up from every site and polished by swaps often reaches the optimum; the better plan wins.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from planner.solver.constraints import Start
from planner.solver.greedy import GreedyState, lazy_greedy
from planner.solver.localsearch import swap_search
from planner.solver.phases import refresh_available, rerank
from planner.solver.problem import CoverageProblem

__all__ = ["lp_rounding"]


def lp_rounding(
    problem: CoverageProblem, start: Start, support: Sequence[int], *, local_search: bool
) -> GreedyState:
    """A single-phase plan: greedy on ``support`` first, then on every site, then swaps."""
    count = start.ends[-1] - start.n_fixed
    state = start.state.copy()
    inside = np.zeros(problem.n_sites, dtype=bool)
    inside[np.asarray(list(support), dtype=np.int64)] = True
    state.available &= inside
    lazy_greedy(problem, state, count=count, conflicts=start.conflicts)
    refresh_available(state, start.eligible, start.conflicts)
    lazy_greedy(problem, state, count=start.ends[-1] - len(state.chosen), conflicts=start.conflicts)
    movable = list(range(start.n_fixed, len(state.chosen)))
    if local_search and movable:
        swap_search(problem, state, movable, eligible=start.eligible, conflicts=start.conflicts)
    state = rerank(problem, start.state, state.chosen[start.n_fixed :])
    refresh_available(state, start.eligible, start.conflicts)
    return state
