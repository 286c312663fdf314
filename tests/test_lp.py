"""LP relaxations by interior point, bounded by iteration counts (planner.solver.lp)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

import planner.solver.lp as lp_module
from planner.coverage.disc import coverage_matrix
from planner.solver.lp import solve_lp
from planner.solver.mclp import solve_mclp
from planner.solver.optimise import Constraints, SolverOptions, optimise
from planner.solver.problem import CoverageProblem


def _fractional_knapsack():
    """max 3a + 2b + c with a + b + c <= 1.5, 0 <= x <= 1: a = 1, b = 0.5, value 4."""
    objective = -np.array([3.0, 2.0, 1.0])
    return objective, sparse.csr_array(np.ones((1, 3))), np.array([1.5])


def test_solve_lp_finds_the_optimum_and_its_reduced_costs():
    objective, a_ub, b_ub = _fractional_knapsack()
    lp, message = solve_lp(objective, a_ub, b_ub, (0.0, 1.0), 30.0)
    assert lp is not None, message
    assert lp.fun == pytest.approx(-4.0)
    np.testing.assert_allclose(lp.x, [1.0, 0.5, 0.0], atol=1e-9)
    # the row's dual is 2: a gains 1 by rising above its upper bound, c loses 1 by rising
    np.testing.assert_allclose(lp.up, [-1.0, 0.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(lp.low, [0.0, 0.0, 1.0], atol=1e-9)


def test_solve_lp_honours_bounds_per_variable():
    objective, a_ub, b_ub = _fractional_knapsack()
    lp, _ = solve_lp(objective, a_ub, b_ub, (np.zeros(3), np.array([0.0, 1.0, 1.0])), 30.0)
    assert lp is not None
    np.testing.assert_allclose(lp.x, [0.0, 1.0, 0.5], atol=1e-9)


def _instance(seed: int, n: int = 400, m: int = 60) -> CoverageProblem:
    rng = np.random.default_rng(seed)
    demand, sites = rng.uniform(0, 1000, (n, 2)), rng.uniform(0, 1000, (m, 2))
    return CoverageProblem.from_matrix(coverage_matrix(demand, sites, 150.0), rng.gamma(2, 1, n))


def test_the_lp_stops_on_its_iteration_count_and_then_bounds_nothing(monkeypatch):
    problem = _instance(0)
    eligible = np.ones(problem.n_sites, dtype=bool)
    full = solve_mclp(problem, count=8, eligible=eligible, time_limit=1e6)
    assert full.optimal
    assert np.isfinite(full.upper_bound)
    monkeypatch.setattr(lp_module, "LP_IPM_ITERATIONS", 1)
    cut = solve_mclp(problem, count=8, eligible=eligible, time_limit=1e6)
    assert not cut.optimal
    assert cut.upper_bound == np.inf
    assert "iteration" in cut.status.lower()


def test_the_certificate_falls_back_to_the_lagrangian_bound_when_the_lp_runs_out(monkeypatch):
    """Two phases: the exact stage does not bound the whole plan, the certificate's LP does."""
    problem = _instance(3)
    constraints = Constraints(sets=12, phases=[6, 6])
    options = SolverOptions(exact="always")
    with_lp = optimise(problem, constraints, options)
    assert with_lp.bound_method == "lp-relaxation"
    monkeypatch.setattr(lp_module, "LP_IPM_ITERATIONS", 1)
    without = optimise(problem, constraints, options)
    assert without.bound_method != "lp-relaxation"
    assert without.upper_bound >= with_lp.upper_bound * (1 - 1e-9)
    assert without.covered_weight <= without.upper_bound * (1 + 1e-12)
