"""LP-guided exact solving of a phase: reduced-cost fixing, the MIP, neighbourhoods."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import sparse

from planner.solver import exact
from planner.solver.exact import ExactLimits, solve_phase
from planner.solver.mclp import mclp_constraints, reduce_instance
from planner.solver.optimise import Constraints, SolverOptions, optimise
from planner.solver.problem import CoverageProblem


def _instance(seed: int, n: int = 40, m: int = 12, density: float = 0.22):
    rng = np.random.default_rng(seed)
    dense = (rng.uniform(0, 1, (n, m)) < density).astype(float)
    w = np.round(rng.gamma(2.0, 1.0, n), 3)
    return CoverageProblem.from_matrix(dense, w), dense, w


def _value(dense, w, chosen) -> float:
    if not len(chosen):
        return 0.0
    return float(w @ dense[:, list(chosen)].max(axis=1))


def _brute(dense, w, p, *, fixed=(), allowed=None, conflicts=None, must=(), never=()) -> float:
    m = dense.shape[1]
    free = [j for j in range(m) if j not in fixed and j not in never
            and (allowed is None or allowed[j])]  # fmt: skip
    top = -np.inf
    for k in range(p + 1):
        for extra in itertools.combinations(free, k):
            combo = (*fixed, *extra)
            if not set(must) <= set(combo):
                continue
            if conflicts is not None and any(conflicts[a, b] for a, b in
                                             itertools.combinations(combo, 2)):  # fmt: skip
                continue
            top = max(top, _value(dense, w, combo))
    return top


@pytest.mark.parametrize("seed", range(12))
def test_reaches_the_brute_force_optimum_from_a_poor_plan(seed):
    problem, dense, w = _instance(seed)
    p = 3 + seed % 3
    optimum = _brute(dense, w, p)
    poor = list(range(p))  # the first sites, whatever they cover
    res = solve_phase(problem, count=p, fixed=(), incumbent=poor,
                      eligible=np.ones(problem.n_sites, dtype=bool))  # fmt: skip
    assert res.value == pytest.approx(optimum, rel=1e-9)
    assert _value(dense, w, res.chosen) == pytest.approx(optimum, rel=1e-9)
    assert len(res.chosen) <= p
    assert res.optimal
    assert res.upper_bound >= optimum * (1 - 1e-9)
    assert res.upper_bound == pytest.approx(optimum, rel=1e-7)


@pytest.mark.parametrize("seed", range(6))
def test_fixed_sites_spacing_and_forbidden_sites_are_respected(seed):
    problem, dense, w = _instance(100 + seed)
    m = problem.n_sites
    rng = np.random.default_rng(seed)
    conflicts = sparse.csr_array((rng.uniform(0, 1, (m, m)) < 0.15).astype(float))
    conflicts = sparse.csr_array(((conflicts + conflicts.T) > 0).astype(float))
    conflicts.setdiag(0)
    conflicts.eliminate_zeros()
    eligible = np.ones(m, dtype=bool)
    eligible[[3, 7]] = False
    fixed = (5,)
    allowed = eligible & (conflicts[[5]].toarray()[0] == 0)
    optimum = _brute(dense, w, 3, fixed=fixed, allowed=allowed, conflicts=conflicts.toarray())
    res = solve_phase(problem, count=3, fixed=fixed, incumbent=(), eligible=eligible,
                      conflicts=conflicts)  # fmt: skip
    assert res.chosen[0] == 5
    assert not {3, 7} & set(res.chosen)
    dense_c = conflicts.toarray()
    assert not any(dense_c[a, b] for a, b in itertools.combinations(res.chosen, 2))
    assert res.value == pytest.approx(optimum, rel=1e-9)
    assert res.optimal


def test_reduced_cost_fixing_never_cuts_off_a_better_plan():
    """Every site fixing leaves out (keeps) can only appear in (be missing from) plans
    no better than the incumbent: brute force with the site forced in (left out)."""
    fixings = 0
    for seed in range(25):
        problem, dense, w = _instance(200 + seed, n=30, m=10)
        p = 2 + seed % 3
        optimum = _brute(dense, w, p)
        red = reduce_instance(problem, [], np.ones(problem.n_sites, dtype=bool))
        search = exact._Search(red, p, mclp_constraints(red, p, None, None), ExactLimits(),
                               np.zeros(red.group_cover.shape[1]), 0.0)  # fmt: skip
        # the incumbent: an optimal plan (the most fixing), or a 1 % worse value
        for value in (optimum, 0.99 * optimum):
            search.value = value
            lp = exact._solve_lp(search)
            assert lp is not None
            x, bound, low, up = lp
            zero, one = exact._fixings(bound, x, low, up, value)
            assert bound >= optimum * (1 - 1e-9)
            for j in red.columns[zero]:
                fixings += 1
                assert _brute(dense, w, p, must=(int(j),)) <= value * (1 + 1e-9)
            for j in red.columns[one]:
                fixings += 1
                assert _brute(dense, w, p, never=(int(j),)) <= value * (1 + 1e-9)
    assert fixings > 50  # the test is not vacuous


def test_a_wrong_fixing_would_be_caught():
    """Were fixing to leave out every site the LP leaves at 0 (not only those its reduced
    cost condemns), the optimum would be lost on this instance: the check above sees it."""
    problem, dense, w = _instance(7, n=30, m=10)
    p = 3
    optimum = _brute(dense, w, p)
    red = reduce_instance(problem, [], np.ones(problem.n_sites, dtype=bool))
    search = exact._Search(red, p, mclp_constraints(red, p, None, None), ExactLimits(),
                           np.zeros(red.group_cover.shape[1]), 0.9 * optimum)  # fmt: skip
    lp = exact._solve_lp(search)
    assert lp is not None
    x, bound, low, up = lp
    zero, _ = exact._fixings(bound, x, low, up, search.value)
    naive = red.columns[x <= 1e-6]
    assert any(_brute(dense, w, p, must=(int(j),)) > search.value for j in naive)
    assert all(_brute(dense, w, p, must=(int(j),)) <= search.value for j in red.columns[zero])


@pytest.mark.parametrize("seed", range(8))
def test_optimise_reaches_the_optimum_and_is_deterministic(seed):
    problem, dense, w = _instance(300 + seed, n=60, m=14, density=0.18)
    p = 4
    optimum = _brute(dense, w, p)
    options = SolverOptions(exact="always", exact_nodes=50)
    a = optimise(problem, Constraints(sets=p), options)
    b = optimise(problem, Constraints(sets=p), options)
    assert a.covered_weight == pytest.approx(optimum, rel=1e-9)
    assert a.proven_optimal
    assert a.order.tolist() == b.order.tolist()


def _lp_neighbourhood(seed: int):
    """A poor plan on an instance whose full MIP counts as too large, and the plan the LP's
    neighbourhood finds from it (None: nothing better)."""
    problem, dense, w = _instance(seed, n=60, m=16, density=0.2)
    p = 4
    poor = list(range(p))
    too_large = ExactLimits(mip_nnz=0, mip_rows=0)
    lp = exact.phase_lp(problem, count=p, fixed=(), eligible=np.ones(problem.n_sites, dtype=bool),
                        limits=too_large)  # fmt: skip
    res = exact.phase_mip(lp, poor)
    found = exact.phase_neighbourhood(lp, poor)
    return res, found, dense, w, p, poor


@pytest.mark.parametrize("seed", range(12))
def test_lp_neighbourhood_only_ever_finds_better_feasible_plans(seed):
    res, found, dense, w, p, poor = _lp_neighbourhood(seed)
    optimum = _brute(dense, w, p)
    assert "MIP skipped (too large)" in res.status
    assert res.upper_bound >= optimum * (1 - 1e-9)  # the phase's bound is the LP's
    if found is not None:
        assert len(found) <= p
        assert _value(dense, w, poor) < _value(dense, w, found) <= optimum + 1e-9


def test_lp_neighbourhood_finds_better_plans_and_is_deterministic():
    gains = 0
    for seed in range(12):
        _, found, *_ = _lp_neighbourhood(seed)
        gains += found is not None
        assert _lp_neighbourhood(seed)[1] == found
    assert gains >= 6


def test_lp_neighbourhood_is_not_searched_where_the_mip_ran():
    problem, _, _ = _instance(3, n=60, m=16, density=0.2)
    lp = exact.phase_lp(problem, count=4, fixed=(), eligible=np.ones(problem.n_sites, dtype=bool))
    exact.phase_mip(lp, [0, 1, 2, 3])
    assert exact.phase_neighbourhood(lp, [0, 1, 2, 3]) is None
