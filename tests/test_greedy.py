"""Lazy greedy against plain greedy and brute force."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import sparse

from planner.solver.greedy import GreedyState, lazy_greedy
from planner.solver.problem import CoverageProblem


def _problem(seed, n, m, *, density=0.2, integer=False, decay=False, dup_sites=0, baseline=False):
    rng = np.random.default_rng(seed)
    dense = (rng.uniform(0, 1, (n, m)) < density).astype(float)
    if decay:
        dense *= rng.choice([0.25, 0.5, 1.0], size=(n, m))
    if dup_sites:
        src = rng.choice(m, dup_sites, replace=False)
        dst = rng.choice(np.setdiff1d(np.arange(m), src), dup_sites, replace=False)
        dense[:, dst] = dense[:, src]
    w = rng.integers(0, 4, n).astype(float) if integer else rng.gamma(2.0, 1.0, n)
    base = None
    if baseline:
        base = (rng.uniform(0, 1, n) < 0.15).astype(float)
    return CoverageProblem.from_matrix(dense, w, baseline=base), dense, w


def _start(problem, forbidden=()):
    available = np.ones(problem.n_sites, dtype=bool)
    available[list(forbidden)] = False
    return GreedyState(best=problem.baseline.copy(), available=available)


def plain_greedy(dense, w, base, count, *, costs=None, budget=None, conflicts=None,
                 forbidden=()):
    """Recompute every gain every step; the lowest index wins among equal keys."""
    n, m = dense.shape
    best = np.zeros(n) if base is None else base.copy()
    available = np.ones(m, dtype=bool)
    available[list(forbidden)] = False
    unit = np.ones(m) if costs is None else costs
    spent = 0.0
    chosen = []
    while len(chosen) < count:
        gains = (w[:, None] * np.maximum(dense - best[:, None], 0.0)).sum(axis=0)
        ok = available & (gains > 0)
        if budget is not None:
            ok &= spent + unit <= budget * (1 + 1e-12)
        if not ok.any():
            break
        keys = np.where(ok, gains / unit, -np.inf)
        j = int(np.argmax(keys))  # first maximum: lowest index
        chosen.append(j)
        spent += unit[j]
        best = np.maximum(best, dense[:, j])
        available[j] = False
        if conflicts is not None:
            available[conflicts[j] > 0] = False
    return chosen


def value(dense, w, base, chosen):
    best = np.zeros(len(w)) if base is None else base.copy()
    if len(chosen):
        best = np.maximum(best, dense[:, list(chosen)].max(axis=1))
    return float(w @ best)


def brute_force(dense, w, base, p, conflicts=None):
    m = dense.shape[1]
    top = value(dense, w, base, [])
    for k in range(1, p + 1):
        for combo in itertools.combinations(range(m), k):
            if conflicts is not None and any(conflicts[a, b] for a, b in
                                             itertools.combinations(combo, 2)):
                continue
            top = max(top, value(dense, w, base, combo))
    return top


@pytest.mark.parametrize("seed", range(25))
def test_lazy_equals_plain_greedy_with_integer_weights(seed):
    # integer weights make exact ties common; the tie rule must agree
    problem, dense, w = _problem(seed, 60, 25, integer=True, dup_sites=4)
    state = lazy_greedy(problem, _start(problem), count=10)
    assert state.chosen == plain_greedy(dense, w, None, 10)


@pytest.mark.parametrize("seed", range(15))
def test_lazy_equals_plain_greedy_with_float_weights_and_decay(seed):
    problem, dense, w = _problem(100 + seed, 80, 30, decay=True, baseline=seed % 2 == 0)
    state = lazy_greedy(problem, _start(problem), count=12)
    assert state.chosen == plain_greedy(dense, w, problem.baseline, 12)
    # the recorded gains are the true marginal gains
    vals = [value(dense, w, problem.baseline, state.chosen[:k]) for k in range(13)]
    np.testing.assert_allclose(state.gains, np.diff(vals[: len(state.gains) + 1]), atol=1e-9)
    np.testing.assert_allclose(
        problem.value(state.best), value(dense, w, problem.baseline, state.chosen)
    )


def test_all_sites_identical_picks_the_lowest_index_and_stops():
    dense = np.ones((5, 4))
    problem = CoverageProblem.from_matrix(dense, np.ones(5))
    state = lazy_greedy(problem, _start(problem), count=3)
    assert state.chosen == [0]  # the others add nothing: greedy stops early
    assert state.gains == [5.0]


def test_exact_tie_between_disjoint_sites_breaks_on_lower_index():
    # sites 3 and 1 cover disjoint points of equal weight; 1 must come first
    dense = np.zeros((4, 5))
    dense[0:2, 3] = 1
    dense[2:4, 1] = 1
    problem = CoverageProblem.from_matrix(dense, np.ones(4))
    state = lazy_greedy(problem, _start(problem), count=2)
    assert state.chosen == [1, 3]


def test_lazy_greedy_continues_from_a_given_state_and_respects_forbidden():
    problem, dense, w = _problem(7, 50, 20, integer=True)
    full = lazy_greedy(problem, _start(problem), count=8).chosen
    first = lazy_greedy(problem, _start(problem), count=3)
    assert first.chosen == full[:3]
    lazy_greedy(problem, first, count=5)
    assert first.chosen == full  # nested: 3 then 5 more is the 8-site greedy
    banned = full[:2]
    state = lazy_greedy(problem, _start(problem, banned), count=8)
    assert not set(banned) & set(state.chosen)
    assert state.chosen == plain_greedy(dense, w, None, 8, forbidden=banned)


@pytest.mark.parametrize("seed", range(20))
def test_greedy_reaches_one_minus_one_over_e_of_brute_force(seed):
    rng = np.random.default_rng(seed)
    n, m, p = int(rng.integers(20, 40)), int(rng.integers(8, 12)), int(rng.integers(2, 5))
    problem, dense, w = _problem(seed + 500, n, m, density=0.25, decay=seed % 3 == 0)
    state = lazy_greedy(problem, _start(problem), count=p)
    opt = brute_force(dense, w, None, p)
    got = problem.value(state.best)
    assert len(state.chosen) <= p
    assert got <= opt + 1e-9
    assert got >= (1 - 1 / math.e) * opt - 1e-9


@pytest.mark.parametrize("seed", range(15))
def test_budget_mode_respects_the_budget_and_matches_plain(seed):
    rng = np.random.default_rng(seed)
    problem, dense, w = _problem(seed + 900, 60, 20, density=0.2)
    costs = rng.integers(1, 6, 20).astype(float)
    budget = float(rng.integers(4, 15))
    state = lazy_greedy(problem, _start(problem), count=20, costs=costs, budget=budget)
    assert costs[state.chosen].sum() <= budget
    assert state.spent == pytest.approx(costs[state.chosen].sum())
    assert state.chosen == plain_greedy(dense, w, None, 20, costs=costs, budget=budget)


def test_budget_mode_uses_gain_per_cost():
    # site 0: gain 10 at cost 10; site 1: gain 6 at cost 2 (ratio 3) is taken first
    dense = np.zeros((16, 2))
    dense[:10, 0] = 1
    dense[10:, 1] = 1
    problem = CoverageProblem.from_matrix(dense, np.ones(16))
    state = lazy_greedy(problem, _start(problem), count=2, costs=np.array([10.0, 2.0]),
                        budget=12.0)
    assert state.chosen == [1, 0]
    state = lazy_greedy(problem, _start(problem), count=2, costs=np.array([10.0, 2.0]),
                        budget=11.0)
    assert state.chosen == [1]  # site 0 no longer fits


def _random_conflicts(rng, m, density=0.25):
    a = rng.uniform(0, 1, (m, m)) < density
    a = np.triu(a, 1)
    return (a | a.T).astype(float)


@pytest.mark.parametrize("seed", range(15))
def test_conflicts_are_respected_and_match_plain(seed):
    rng = np.random.default_rng(seed)
    problem, dense, w = _problem(seed + 1300, 60, 20, density=0.25)
    conf = _random_conflicts(rng, 20)
    state = lazy_greedy(problem, _start(problem), count=8, conflicts=sparse.csr_array(conf))
    for a, b in itertools.combinations(state.chosen, 2):
        assert conf[a, b] == 0, (a, b)
    assert state.chosen == plain_greedy(dense, w, None, 8, conflicts=conf)


def test_observer_is_called_at_the_requested_pick_counts():
    problem, _, _ = _problem(3, 50, 20)
    seen = []
    lazy_greedy(problem, _start(problem), count=6,
                observe=lambda s: seen.append(len(s.chosen)), observe_at=frozenset({1, 4, 6}))
    assert seen == [1, 4, 6]
