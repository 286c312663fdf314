"""LP-guided rounding: greedy on the LP's support, filled up, polished, re-ranked."""

from __future__ import annotations

import numpy as np

from planner.solver.constraints import Constraints, resolve
from planner.solver.problem import CoverageProblem
from planner.solver.rounding import lp_rounding


def _trap() -> CoverageProblem:
    # site 0 covers the middle (weight 4): greedy takes it first and ends at 5; the two
    # halves (sites 1 and 2, weight 3 each) cover 6
    q = np.zeros((6, 3))
    q[[1, 2, 3, 4], 0] = 1.0
    q[[0, 1, 2], 1] = 1.0
    q[[3, 4, 5], 2] = 1.0
    return CoverageProblem.from_matrix(q, np.ones(6))


def test_rounding_follows_the_support():
    problem = _trap()
    start = resolve(problem, Constraints(sets=2))
    state = lp_rounding(problem, start, (2, 1), local_search=False)
    assert sorted(state.chosen) == [1, 2]
    assert problem.value(state.best) == 6.0


def test_rounding_fills_up_from_every_site_and_keeps_forced_first():
    problem = _trap()
    start = resolve(problem, Constraints(sets=3, forced=(0,)))
    state = lp_rounding(problem, start, (1,), local_search=True)
    assert state.chosen[0] == 0  # the forced site stays first
    assert sorted(state.chosen) == [0, 1, 2]  # the support gave one site, greedy the other
    assert problem.value(state.best) == 6.0
