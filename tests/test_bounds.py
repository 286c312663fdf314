"""Certificates: top_sum, the online bound, the LP relaxation and the MIP."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import sparse

from planner.solver.bounds import (
    OnlineBound,
    dual_ascent,
    lagrangian_bound,
    top_sum,
)
from planner.solver.greedy import GreedyState, lazy_greedy, pick
from planner.solver.mclp import reduced_size, solve_mclp
from planner.solver.problem import CoverageProblem


def value(dense, w, base, chosen):
    best = np.zeros(len(w)) if base is None else base.copy()
    if len(chosen):
        best = np.maximum(best, dense[:, list(chosen)].max(axis=1))
    return float(w @ best)


def brute_force(dense, w, base, p, *, fixed=(), eligible=None, conflicts=None):
    m = dense.shape[1]
    free = [j for j in range(m) if j not in fixed and (eligible is None or eligible[j])]
    top = -np.inf
    for k in range(p + 1):
        for extra in itertools.combinations(free, k):
            combo = (*fixed, *extra)
            if conflicts is not None and any(conflicts[a, b] for a, b in
                                             itertools.combinations(combo, 2)):
                continue
            top = max(top, value(dense, w, base, combo))
    return top


def _problem(seed, n=35, m=11, density=0.2, decay=False, baseline=False):
    rng = np.random.default_rng(seed)
    dense = (rng.uniform(0, 1, (n, m)) < density).astype(float)
    if decay:
        dense *= rng.choice([0.3, 0.6, 1.0], size=(n, m))
    w = rng.gamma(2.0, 1.0, n)
    base = (rng.uniform(0, 1, n) < 0.15).astype(float) if baseline else None
    return CoverageProblem.from_matrix(dense, w, baseline=base), dense, w, rng


# ---------------------------------------------------------------- top_sum


def test_top_sum_count_by_hand():
    g = np.array([3.0, 9.0, 1.0, 7.0, 7.0])
    assert top_sum(g, 1) == 9.0
    assert top_sum(g, 2) == 16.0
    assert top_sum(g, 3) == 23.0
    assert top_sum(g, 5) == 27.0
    assert top_sum(g, 10) == 27.0  # more picks than sites
    assert top_sum(g, 0) == 0.0
    assert top_sum(np.array([]), 3) == 0.0


def test_top_sum_fractional_knapsack_by_hand():
    gains = np.array([10.0, 6.0, 4.0, 1.0])
    costs = np.array([5.0, 2.0, 4.0, 1.0])
    # ratios 2, 3, 1, 1 -> take site 1 (2, 6), site 0 (5, 10), then 3/4 of site 2 ... budget 10
    assert top_sum(gains, 7.0, costs=costs) == pytest.approx(16.0)
    assert top_sum(gains, 10.0, costs=costs) == pytest.approx(16.0 + 3.0 / 4.0 * 4.0)
    assert top_sum(gains, 1.0, costs=costs) == pytest.approx(3.0)  # half of site 1
    assert top_sum(gains, 100.0, costs=costs) == pytest.approx(21.0)  # everything
    assert top_sum(gains, 0.0, costs=costs) == 0.0


def test_top_sum_fractional_is_at_least_the_integer_knapsack():
    rng = np.random.default_rng(0)
    for _ in range(30):
        gains = rng.uniform(0, 10, 8)
        costs = rng.integers(1, 6, 8).astype(float)
        budget = float(rng.integers(1, 20))
        best = max(
            (gains[list(c)].sum() for k in range(9) for c in itertools.combinations(range(8), k)
             if costs[list(c)].sum() <= budget),
            default=0.0,
        )
        assert top_sum(gains, budget, costs=costs) >= best - 1e-9


# ---------------------------------------------------------------- online bound


def _states(problem, rng, p):
    """States to observe: empty, greedy prefixes and random sets."""
    eligible = np.ones(problem.n_sites, dtype=bool)
    start = GreedyState(best=problem.baseline.copy(), available=eligible.copy())
    yield start
    g = lazy_greedy(problem, start.copy(), count=p)
    yield g
    for _ in range(4):
        s = start.copy()
        for j in rng.choice(problem.n_sites, int(rng.integers(1, p + 2)), replace=False):
            pick(problem, s, int(j))
        yield s


@pytest.mark.parametrize("seed", range(15))
def test_online_bound_never_below_the_optimum_for_every_budget(seed):
    problem, dense, w, rng = _problem(seed, decay=seed % 3 == 0, baseline=seed % 2 == 1)
    budgets = [1, 2, 3, 4]
    eligible = np.ones(problem.n_sites, dtype=bool)
    bound = OnlineBound(problem, budgets, eligible=eligible)
    for state in _states(problem, rng, 4):
        bound.observe(state)
        for t, p in enumerate(budgets):
            assert bound.bounds[t] >= brute_force(dense, w, problem.baseline, p) - 1e-9
    assert bound.evaluations == 6
    # single state check: the bound from the empty state is value + top-p gains
    fresh = OnlineBound(problem, [2], eligible=eligible)
    fresh.observe(GreedyState(best=problem.baseline.copy(), available=eligible))
    gains = np.array([value(dense, w, problem.baseline, [j]) for j in range(problem.n_sites)])
    base = value(dense, w, problem.baseline, [])
    assert fresh.bounds[0] == pytest.approx(base + np.sort(gains - base)[-2:].sum())


@pytest.mark.parametrize("seed", range(6))
def test_online_bound_with_forbidden_sites(seed):
    problem, dense, w, rng = _problem(seed + 30)
    eligible = np.ones(problem.n_sites, dtype=bool)
    eligible[rng.choice(problem.n_sites, 3, replace=False)] = False
    bound = OnlineBound(problem, [2, 3], eligible=eligible)
    state = GreedyState(best=problem.baseline.copy(), available=eligible.copy())
    bound.observe(state)
    lazy_greedy(problem, state, count=3)
    bound.observe(state)
    for t, p in enumerate([2, 3]):
        assert bound.bounds[t] >= brute_force(dense, w, None, p, eligible=eligible) - 1e-9


def test_online_bound_with_costs_is_a_valid_knapsack_bound():
    problem, dense, w, rng = _problem(5)
    costs = rng.integers(1, 4, problem.n_sites).astype(float)
    eligible = np.ones(problem.n_sites, dtype=bool)
    bound = OnlineBound(problem, [5.0], eligible=eligible, costs=costs)
    state = GreedyState(best=problem.baseline.copy(), available=eligible.copy())
    bound.observe(state)
    lazy_greedy(problem, state, count=problem.n_sites, costs=costs, budget=5.0)
    bound.observe(state)
    opt = max(
        value(dense, w, None, c)
        for k in range(problem.n_sites + 1)
        for c in itertools.combinations(range(problem.n_sites), k)
        if costs[list(c)].sum() <= 5.0
    )
    assert bound.bounds[0] >= opt - 1e-9


# ---------------------------------------------------------------- LP / MIP


@pytest.mark.parametrize("seed", range(8))
def test_lp_bound_and_mip_value_on_small_instances(seed):
    problem, dense, w, _ = _problem(seed + 100, baseline=seed % 2 == 1)
    eligible = np.ones(problem.n_sites, dtype=bool)
    for p in (1, 2, 3):
        opt = brute_force(dense, w, problem.baseline, p)
        lp = solve_mclp(problem, count=p, eligible=eligible)
        assert lp.optimal
        assert lp.upper_bound >= opt - 1e-7
        mip = solve_mclp(problem, count=p, eligible=eligible, integral=True)
        assert mip.optimal
        assert mip.value == pytest.approx(opt, rel=1e-9)
        assert mip.upper_bound >= opt - 1e-7
        assert len(mip.chosen) <= p
        assert value(dense, w, problem.baseline, mip.chosen) == pytest.approx(mip.value)
        assert lp.upper_bound >= mip.value - 1e-7


@pytest.mark.parametrize("seed", range(6))
def test_mip_with_fixed_and_forbidden_sites(seed):
    problem, dense, w, rng = _problem(seed + 200)
    eligible = np.ones(problem.n_sites, dtype=bool)
    eligible[rng.choice(problem.n_sites, 2, replace=False)] = False
    fixed = [int(j) for j in np.flatnonzero(eligible)[:1]]
    opt = brute_force(dense, w, None, 2, fixed=fixed, eligible=eligible)
    mip = solve_mclp(problem, count=2, fixed=fixed, eligible=eligible, integral=True)
    lp = solve_mclp(problem, count=2, fixed=fixed, eligible=eligible)
    assert mip.value == pytest.approx(opt)
    assert mip.chosen[: len(fixed)] == tuple(fixed)
    assert all(eligible[j] for j in mip.chosen)
    assert lp.upper_bound >= opt - 1e-7


@pytest.mark.parametrize("seed", range(8))
def test_mip_with_conflicts_respects_them(seed):
    problem, dense, w, rng = _problem(seed + 300, density=0.3)
    m = problem.n_sites
    a = np.triu(rng.uniform(0, 1, (m, m)) < 0.35, 1)
    conf = (a | a.T).astype(float)
    eligible = np.ones(m, dtype=bool)
    for p in (2, 3):
        mip = solve_mclp(problem, count=p, eligible=eligible, integral=True,
                         conflicts=sparse.csr_array(conf))
        for x, y in itertools.combinations(mip.chosen, 2):
            assert conf[x, y] == 0, (x, y)
        opt = brute_force(dense, w, None, p, conflicts=conf)
        assert mip.value == pytest.approx(opt, rel=1e-9)
        assert mip.upper_bound >= opt - 1e-7


def test_mip_finds_the_optimum_greedy_misses():
    # L covers {0,1,2}, R covers {3,4,5}, M covers {1,2,3,4}: greedy takes M first
    # and reaches 5 with two sites; L + R covers all 6
    dense = np.zeros((6, 3))
    dense[0:3, 0] = 1
    dense[1:5, 1] = 1
    dense[3:6, 2] = 1
    w = np.ones(6)
    problem = CoverageProblem.from_matrix(dense, w)
    eligible = np.ones(3, dtype=bool)
    greedy = lazy_greedy(problem, GreedyState(np.zeros(6), eligible.copy()), count=2)
    assert problem.value(greedy.best) == 5.0
    mip = solve_mclp(problem, count=2, eligible=eligible, integral=True)
    assert mip.value == 6.0
    assert sorted(mip.chosen) == [0, 2]
    lp = solve_mclp(problem, count=2, eligible=eligible)
    assert lp.upper_bound >= 6.0 - 1e-9


def test_nothing_to_add():
    problem = CoverageProblem.from_matrix(np.eye(3), np.ones(3), baseline=np.ones(3))
    res = solve_mclp(problem, count=2, eligible=np.ones(3, dtype=bool))
    assert res.upper_bound == 3.0
    assert res.optimal
    assert reduced_size(problem, [], np.ones(3, dtype=bool)) == 0
    zero = solve_mclp(CoverageProblem.from_matrix(np.eye(3), np.ones(3)), count=0,
                      eligible=np.ones(3, dtype=bool))
    assert zero.upper_bound == 0.0


def test_reduced_size_counts_uncovered_eligible_nonzeros():
    dense = np.array([[1, 1, 0], [0, 1, 1], [1, 0, 0]], dtype=float)
    problem = CoverageProblem.from_matrix(dense, np.ones(3))
    eligible = np.array([True, True, False])
    assert reduced_size(problem, [], eligible) == 4  # column 2 excluded
    assert reduced_size(problem, [0], eligible) == 1  # rows 0 and 2 are covered by site 0


def _overlapping_discs(seed: int):
    """1,500 points, 150 sites of reach 12 in a 100 x 100 square, and the greedy plan of 8."""
    rng = np.random.default_rng(seed)
    xy, sxy = rng.uniform(0, 100, (1500, 2)), rng.uniform(0, 100, (150, 2))
    d = np.hypot(xy[:, None, 0] - sxy[None, :, 0], xy[:, None, 1] - sxy[None, :, 1])
    problem = CoverageProblem.from_matrix((d < 12).astype(float), rng.gamma(2, 1, 1500))
    eligible = np.ones(150, dtype=bool)
    state = lazy_greedy(problem, GreedyState(problem.baseline.copy(), eligible.copy()), count=8)
    return problem, eligible, state


@pytest.mark.parametrize("seed", range(3))
def test_lagrangian_bound_converges_to_the_lp(seed):
    """Valid (never below the LP optimum, the best a Lagrangian dual can reach) and,
    from the greedy plan's multipliers, within 1 % of it on overlapping discs."""
    problem, eligible, state = _overlapping_discs(seed)
    lower = problem.value(state.best)
    lp = solve_mclp(problem, count=8, eligible=eligible).upper_bound
    bound = lagrangian_bound(
        problem, count=8, fixed=(), eligible=eligible, lower=lower,
        start=problem.weights * (1.0 - state.best),
    )  # fmt: skip
    assert lp * (1 - 1e-9) <= bound <= lp * 1.01


@pytest.mark.parametrize("seed", range(6))
def test_dual_ascent_bounds_the_brute_force_optimum(seed):
    """At any site price, the ascent's multipliers bound the best plan (fixed and
    forbidden sites, existing coverage), and so does the Lagrangian started from them."""
    problem, dense, w, rng = _problem(seed, baseline=True)
    fixed = (int(rng.integers(11)),)
    eligible = rng.uniform(0, 1, 11) < 0.85
    eligible[fixed[0]] = True
    p = 3
    opt = brute_force(dense, w, problem.baseline, p, fixed=fixed, eligible=eligible)
    covered = problem.best_quality(np.asarray(fixed))
    constant = problem.value(covered)
    residual = np.where(covered < 1.0, problem.weights, 0.0)
    free = eligible.copy()
    free[list(fixed)] = False
    for price in (0.1, 1.0, 3.0, 10.0, 100.0):
        v, bound = dual_ascent(problem, residual, free, p, price)
        assert np.all((v >= 0) & (v <= residual))
        assert constant + bound >= opt - 1e-9
    lagrange = lagrangian_bound(
        problem, count=p, fixed=fixed, eligible=eligible, lower=0.0, ascent=True, iterations=50
    )
    assert opt - 1e-9 <= lagrange


@pytest.mark.parametrize("seed", range(3))
def test_ascent_start_is_never_worse_than_the_given_one(seed):
    """With one step (the start's own value), the ascent start bounds at least as low as
    the plan's multipliers, and strictly lower on overlapping discs."""
    problem, eligible, state = _overlapping_discs(seed)
    lower = problem.value(state.best)
    start = problem.weights * (1.0 - state.best)
    bounds = [
        lagrangian_bound(
            problem,
            count=8,
            fixed=(),
            eligible=eligible,
            lower=lower,
            start=start,
            iterations=1,
            ascent=ascent,
        )
        for ascent in (False, True)
    ]
    assert lower <= bounds[1] < bounds[0]


def test_lagrangian_bound_is_the_same_on_one_thread_and_on_two():
    """The steps add their per-chunk sums in a fixed order, so the bound does not depend
    on the number of threads (an instance of several chunks of rows)."""
    numba = pytest.importorskip("numba")
    rng = np.random.default_rng(11)
    xy, sxy = rng.uniform(0, 400, (40_000, 2)), rng.uniform(0, 400, (900, 2))
    pairs = [
        (i, j)
        for j, (sx, sy) in enumerate(sxy)
        for i in np.flatnonzero(np.hypot(xy[:, 0] - sx, xy[:, 1] - sy) < 12)
    ]
    rows, cols = np.asarray(pairs).T
    matrix = sparse.csc_array((np.ones(rows.size), (rows, cols)), shape=(40_000, 900))
    problem = CoverageProblem.from_matrix(matrix, rng.gamma(2, 1, 40_000))
    eligible = np.ones(900, dtype=bool)
    state = lazy_greedy(problem, GreedyState(problem.baseline.copy(), eligible.copy()), count=60)
    kwargs = {"count": 60, "fixed": (), "eligible": eligible, "lower": problem.value(state.best),
              "iterations": 40, "ascent": True}  # fmt: skip
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = lagrangian_bound(problem, **kwargs)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = lagrangian_bound(problem, **kwargs)
    finally:
        numba.set_num_threads(before)
    assert one == two
    assert kwargs["lower"] < one < problem.value(state.best) * 1.2
