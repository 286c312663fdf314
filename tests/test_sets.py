"""Camera sets: greedy over mounts, the certificate, local search and the exact MIP, checked
against brute force on tiny instances."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import sparse

from geodata.errors import OptionError
from planner.coverage.cameras import CameraSpec
from planner.coverage.directional import DirectionalOptions, directional_matrix
from planner.solver.constraints import Constraints, SolverOptions
from planner.solver.grouped import optimise_sets
from planner.solver.problem import CoverageProblem
from planner.solver.sets import SetLayout
from planner.solver.sets_mip import SetLimits, solve_sets

_PLAIN = SolverOptions(local_search=False, exact="never")
_NO_MIP = SolverOptions(exact="never")


def _instance(seed, *, n=250, mounts=7, step=45.0, per_set=2, level=None, spread=None,
              baseline=False):
    rng = np.random.default_rng(seed)
    d = rng.uniform(0, 110, (n, 2))
    w = rng.gamma(2.0, 1.0, n)
    xy = rng.uniform(0, 110, (mounts, 2))
    opt = DirectionalOptions(CameraSpec("t", 1920, 70.0, per_set=per_set), pan_step_deg=step,
                             level=level, spread_deg=spread)
    base = None
    if baseline:
        base = np.where(rng.random(n) < 0.2, 0.5, 0.0)
    problem = CoverageProblem.from_matrix(directional_matrix(d, xy, opt), w, baseline=base)
    layout = SetLayout(opt.n_pans, per_set, opt.spread_steps)
    return problem, layout, xy


def _configs(layout):
    if layout.spread is None:
        return list(itertools.combinations(range(layout.n_pans), layout.per_set))
    return [tuple(sorted((p + layout.offsets()) % layout.n_pans)) for p in range(layout.n_pans)]


def _brute(problem, layout, sets, *, forced=(), forbidden=(), conflicts=None):
    m = problem.n_sites // layout.n_pans
    allowed = [j for j in range(m) if j not in forbidden]
    best = problem.value(problem.baseline)
    for mounts in itertools.combinations(allowed, sets):
        if not set(forced) <= set(mounts):
            continue
        if conflicts is not None and conflicts[np.ix_(mounts, mounts)].nnz:
            continue
        for cfgs in itertools.product(_configs(layout), repeat=sets):
            cols = [j * layout.n_pans + p for j, c in zip(mounts, cfgs, strict=True) for p in c]
            best = max(best, problem.value(problem.best_quality(np.array(cols))))
    return best


def _value(problem, layout, sol):
    cols = [j * layout.n_pans + p for j, ps in zip(sol.order, sol.pans, strict=True) for p in ps]
    return problem.value(problem.best_quality(np.array(cols, dtype=np.int64)))


CASES = [
    {"seed": 1},
    {"seed": 2, "level": "observe"},
    {"seed": 3, "spread": 180.0},
    {"seed": 4, "baseline": True},
    {"seed": 5, "per_set": 1, "step": 30.0},
]


@pytest.mark.parametrize("case", CASES)
def test_bound_and_plans_against_brute_force(case):
    problem, layout, _ = _instance(**case)
    opt = _brute(problem, layout, 2)
    for local_search in (False, True):
        sol = optimise_sets(problem, layout, Constraints(sets=2),
                            SolverOptions(local_search=local_search, exact="never"))
        covered = _value(problem, layout, sol)
        assert covered == pytest.approx(sol.covered_weight, rel=1e-12)
        assert covered <= opt * (1 + 1e-12)
        assert sol.upper_bound >= opt * (1 - 1e-12)  # a true bound for the model
        assert covered >= 0.5 * opt  # greedy over mounts: at least 0.387; here far more
        assert all(len(p) <= layout.per_set for p in sol.pans)
    exact = optimise_sets(problem, layout, Constraints(sets=2), SolverOptions(exact="always"))
    assert exact.covered_weight == pytest.approx(opt, rel=1e-9)
    assert exact.upper_bound >= opt * (1 - 1e-9)
    assert exact.proven_optimal


def test_local_search_never_lowers_and_plans_are_deterministic():
    problem, layout, _ = _instance(11, n=600, mounts=20, step=30.0, per_set=3)
    plain = optimise_sets(problem, layout, Constraints(sets=5), _PLAIN)
    improved = optimise_sets(problem, layout, Constraints(sets=5), _NO_MIP)
    again = optimise_sets(problem, layout, Constraints(sets=5), _NO_MIP)
    assert improved.covered_weight >= plain.covered_weight - 1e-9
    np.testing.assert_array_equal(improved.order, again.order)
    assert improved.pans == again.pans
    assert np.array_equal(improved.curve, again.curve)
    assert improved.stats.reorientations + improved.stats.swaps > 0


@pytest.mark.parametrize("case", CASES)
def test_lagrangian_bound_against_brute_force(case):
    from planner.solver.sets_bound import set_lagrangian_bound

    problem, layout, _ = _instance(**case)
    opt = _brute(problem, layout, 2)
    sol = optimise_sets(problem, layout, Constraints(sets=2), _PLAIN)
    cols = [j * layout.n_pans + p for j, ps in zip(sol.order, sol.pans, strict=True) for p in ps]
    best = problem.best_quality(np.array(cols, dtype=np.int64))
    m = problem.n_sites // layout.n_pans
    bound = set_lagrangian_bound(problem, layout, count=2, eligible=np.ones(m, dtype=bool),
                                 lower=sol.covered_weight, best=best, iterations=200)
    assert bound >= opt * (1 - 1e-9)
    assert sol.upper_bound >= opt * (1 - 1e-9)


def test_lp_bound_is_a_bound_and_tighter_than_online():
    problem, layout, _ = _instance(7)
    opt = _brute(problem, layout, 2)
    lp = solve_sets(problem, layout, SetLimits(2), integral=False)
    assert lp.upper_bound >= opt * (1 - 1e-9)
    sol = optimise_sets(problem, layout, Constraints(sets=2), _PLAIN)
    assert lp.upper_bound <= sol.upper_bound * (1 + 1e-9)


def test_forced_forbidden_spacing_and_phases():
    problem, layout, xy = _instance(8, mounts=6)
    m = 6
    near = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) < 40.0
    np.fill_diagonal(near, False)
    conflicts = sparse.csr_array(near.astype(float))
    rules = Constraints(sets=3, phases=(1, 2), forced=(2,), forbidden=(0,), conflicts=conflicts)
    sol = optimise_sets(problem, layout, rules, _NO_MIP)
    assert sol.order[0] == 2
    assert 0 not in sol.order
    chosen = list(sol.order)
    assert not near[np.ix_(chosen, chosen)].any()
    assert sol.phase.tolist() == [1, 2, 2][: len(chosen)]
    opt = _brute(problem, layout, len(chosen), forced=(2,), forbidden=(0,), conflicts=conflicts)
    assert sol.upper_bound >= opt * (1 - 1e-12)
    # Phases nest: the first phase is a plan of one set, bounded by its own bound.
    assert sol.phase_bounds[0] >= sol.curve[1] - 1e-12
    assert len(set(range(m)) - {0}) >= len(chosen)
    with pytest.raises(OptionError, match="--forced"):
        optimise_sets(problem, layout, Constraints(sets=1, forced=(1, 2)))


def test_budget():
    problem, layout, _ = _instance(9, mounts=6)
    costs = np.array([1.0, 2.0, 1.0, 3.0, 1.0, 2.0])
    sol = optimise_sets(problem, layout, Constraints(costs=costs, budget=3.0), _NO_MIP)
    assert costs[sol.order].sum() <= 3.0
    best = 0.0
    for r in range(1, 4):
        for mounts in itertools.combinations(range(6), r):
            if costs[list(mounts)].sum() <= 3.0:
                sub_best = _brute_subset(problem, layout, mounts)
                best = max(best, sub_best)
    assert sol.upper_bound >= best * (1 - 1e-12)
    assert sol.covered_weight <= best * (1 + 1e-12)


def _brute_subset(problem, layout, mounts):
    best = 0.0
    for cfgs in itertools.product(_configs(layout), repeat=len(mounts)):
        cols = [j * layout.n_pans + p for j, c in zip(mounts, cfgs, strict=True) for p in c]
        best = max(best, problem.value(problem.best_quality(np.array(cols))))
    return best
