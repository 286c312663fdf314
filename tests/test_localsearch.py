"""swap_search(): ends at a swap-local optimum, checked by trying every swap by brute force."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from planner.coverage.disc import coverage_matrix
from planner.solver.greedy import GreedyState, lazy_greedy
from planner.solver.localsearch import swap_search
from planner.solver.problem import CoverageProblem

BANDS = ((40.0, 1.0), (120.0, 0.6), (200.0, 0.25))


def _instance(seed, *, n=120, m=40, radius=200.0, bands=None, base_share=0.0):
    rng = np.random.default_rng(seed)
    demand = rng.uniform(0, 1000, (n, 2))
    sites = rng.uniform(0, 1000, (m, 2))
    w = rng.gamma(2.0, 1.0, n)
    matrix = coverage_matrix(demand, sites, radius, bands=bands)
    base = np.where(rng.random(n) < base_share, 1.0, 0.0) if base_share else None
    problem = CoverageProblem.from_matrix(matrix, w, baseline=base)
    return problem, sites, rng


def _conflicts(sites, spacing):
    d = np.hypot(*(sites[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    close = (d < spacing) & ~np.eye(len(sites), dtype=bool)
    return sparse.csr_array(close.astype(float))


def _start(problem, fixed, count, conflicts=None, costs=None, budget=None):
    """Greedy picks: ``fixed`` first (held), then ``count`` more (movable)."""
    state = GreedyState(problem.baseline.copy(), np.ones(problem.n_sites, dtype=bool))
    lazy_greedy(problem, state, count=fixed, conflicts=conflicts, costs=costs, budget=budget)
    n_fixed = len(state.chosen)
    lazy_greedy(problem, state, count=count, conflicts=conflicts, costs=costs, budget=budget)
    return state, list(range(n_fixed, len(state.chosen)))


def _feasible(chosen, eligible, conflicts, costs, budget):
    if len(set(chosen)) != len(chosen) or not all(eligible[c] for c in chosen):
        return False
    if conflicts is not None:
        dense = conflicts.toarray()
        if any(dense[a, b] for a in chosen for b in chosen if a != b):
            return False
    return budget is None or costs[chosen].sum() <= budget * (1 + 1e-12)


def _assert_swap_optimal(problem, state, movable, eligible, conflicts=None, costs=None,
                         budget=None):
    """No feasible single swap of a movable site raises the covered weight."""
    chosen = list(state.chosen)
    here = problem.value(problem.best_quality(np.array(chosen)))
    tol = 1e-9 * problem.weights.sum()
    for pos in movable:
        for k in range(problem.n_sites):
            if k in chosen:
                continue
            trial = chosen.copy()
            trial[pos] = k
            if not _feasible(trial, eligible, conflicts, costs, budget):
                continue
            there = problem.value(problem.best_quality(np.array(trial)))
            assert there <= here + tol, f"swap {chosen[pos]} -> {k} gains {there - here}"


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("bands", [None, BANDS], ids=["binary", "decay"])
def test_ends_swap_optimal_and_never_lower(seed, bands):
    problem, _, _ = _instance(seed, bands=bands, base_share=0.1 * (seed % 2))
    state, movable = _start(problem, fixed=3, count=5)
    before = problem.value(state.best)
    held = state.chosen[:3]
    eligible = np.ones(problem.n_sites, dtype=bool)
    stats = swap_search(problem, state, movable, eligible=eligible, max_passes=100)
    after = problem.value(state.best)
    assert after >= before
    assert stats.gained == pytest.approx(after - before, abs=1e-9)
    assert state.chosen[:3] == held  # earlier phases stay
    np.testing.assert_allclose(state.best, problem.best_quality(np.array(state.chosen)))
    _assert_swap_optimal(problem, state, movable, eligible)


def test_finds_the_improving_swap_greedy_misses():
    # Sites A, B cover two unit points each; M covers one of each pair plus a half-weight
    # point, so greedy takes M (2.5) then A (+1) = 3.5. Swapping M for B reaches 4.
    dense = np.array(
        [[1, 0, 0], [1, 0, 1], [0, 1, 1], [0, 1, 0], [0, 0, 1]], dtype=float
    )  # columns A, B, M
    problem = CoverageProblem.from_matrix(dense, np.array([1.0, 1.0, 1.0, 1.0, 0.5]))
    state, movable = _start(problem, fixed=0, count=2)
    assert state.chosen == [2, 0]
    assert problem.value(state.best) == 3.5
    stats = swap_search(problem, state, movable, eligible=np.ones(3, dtype=bool))
    assert stats.swaps == 1
    assert sorted(state.chosen) == [0, 1]
    assert problem.value(state.best) == 4.0


@pytest.mark.parametrize("seed", range(6))
def test_respects_spacing_and_forbidden(seed):
    problem, sites, rng = _instance(seed, m=30)
    conflicts = _conflicts(sites, 150.0)
    eligible = rng.random(problem.n_sites) > 0.2
    state = GreedyState(problem.baseline.copy(), eligible.copy())
    lazy_greedy(problem, state, count=2, conflicts=conflicts)
    n_fixed = len(state.chosen)
    lazy_greedy(problem, state, count=5, conflicts=conflicts)
    movable = list(range(n_fixed, len(state.chosen)))
    swap_search(problem, state, movable, eligible=eligible, conflicts=conflicts, max_passes=100)
    assert _feasible(state.chosen, eligible, conflicts, None, None)
    _assert_swap_optimal(problem, state, movable, eligible, conflicts=conflicts)


@pytest.mark.parametrize("seed", range(6))
def test_respects_the_budget(seed):
    problem, _, rng = _instance(seed, m=30)
    costs = rng.uniform(1.0, 4.0, problem.n_sites)
    budget = 9.0
    state, movable = _start(problem, fixed=1, count=30, costs=costs, budget=budget)
    spent = float(costs[state.chosen].sum())
    assert state.spent == pytest.approx(spent)
    eligible = np.ones(problem.n_sites, dtype=bool)
    swap_search(problem, state, movable, eligible=eligible, costs=costs, budget=budget,
                max_passes=100)
    assert costs[state.chosen].sum() <= budget + 1e-9
    assert state.spent == pytest.approx(float(costs[state.chosen].sum()))
    _assert_swap_optimal(problem, state, movable, eligible, costs=costs, budget=budget)


def test_same_input_same_swaps():
    runs = []
    for _ in range(2):
        problem, _, _ = _instance(3, n=400, m=80, bands=BANDS)
        state, movable = _start(problem, fixed=4, count=10)
        swap_search(problem, state, movable, eligible=np.ones(problem.n_sites, dtype=bool))
        runs.append((list(state.chosen), state.best.tobytes()))
    assert runs[0] == runs[1]
