"""Iterated swap search: never worse than swaps, feasible, deterministic, finds optima."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import sparse

from planner.solver.constraints import Constraints, resolve
from planner.solver.greedy import lazy_greedy
from planner.solver.localsearch import swap_search
from planner.solver.perturb import Kick, iterated_swaps
from planner.solver.phases import KICK_SITE_WORK, KICK_WORK, kick_rounds
from planner.solver.problem import CoverageProblem


def _instance(seed: int, n: int = 50, m: int = 14):
    rng = np.random.default_rng(seed)
    dense = (rng.uniform(0, 1, (n, m)) < 0.2).astype(float)
    return CoverageProblem.from_matrix(dense, np.round(rng.gamma(2.0, 1.0, n), 3)), dense


def _optimum(problem: CoverageProblem, p: int, conflicts=None, fixed=()) -> float:
    free = [j for j in range(problem.n_sites) if j not in fixed]
    top = 0.0
    for extra in itertools.combinations(free, p):
        combo = (*fixed, *extra)
        if conflicts is not None and any(conflicts[a, b] for a, b in
                                         itertools.combinations(combo, 2)):  # fmt: skip
            continue
        top = max(top, problem.value(problem.best_quality(np.asarray(combo, dtype=np.int64))))
    return top


def _swapped(problem, start, p):
    state = start.state.copy()
    lazy_greedy(problem, state, count=p, conflicts=start.conflicts)
    swap_search(problem, state, list(range(start.n_fixed, len(state.chosen))),
                eligible=start.eligible, conflicts=start.conflicts)  # fmt: skip
    return state


def swapped_cases(p: int = 4, seeds: range = range(30)):
    """Small random instances, their start and the plan greedy and single swaps leave."""
    for seed in seeds:
        problem, _ = _instance(seed)
        start = resolve(problem, Constraints(sets=p))
        yield problem, start, _swapped(problem, start, p)


def test_reaches_optima_that_single_swaps_miss():
    missed, p = 0, 4
    for problem, start, state in swapped_cases(p):
        out = iterated_swaps(problem, start.state, state, eligible=start.eligible,
                             conflicts=None, kick=Kick(rounds=60))  # fmt: skip
        optimum = _optimum(problem, p)
        swapped = problem.value(state.best)
        assert problem.value(out.best) >= swapped
        assert len(out.chosen) == p
        assert problem.value(out.best) == pytest.approx(optimum, rel=1e-12)
        missed += swapped < optimum * (1 - 1e-12)
    assert missed >= 2  # swaps alone stop short on some: the test sees the difference


@pytest.mark.parametrize("seed", range(5))
def test_keeps_fixed_sites_and_spacing_and_is_deterministic(seed):
    problem, _ = _instance(50 + seed)
    rng = np.random.default_rng(seed)
    m = problem.n_sites
    pairs = np.triu(rng.uniform(0, 1, (m, m)) < 0.12, 1)
    conflicts = sparse.csr_array((pairs | pairs.T).astype(float))
    start = resolve(problem, Constraints(sets=4, forced=(2,), conflicts=conflicts))
    state = _swapped(problem, start, 3)
    runs = [iterated_swaps(problem, start.state, state, eligible=start.eligible,
                           conflicts=conflicts, guide=(5, 1, 9), kick=Kick(rounds=40))
            for _ in range(2)]  # fmt: skip
    out = runs[0]
    assert out.chosen == runs[1].chosen
    assert out.chosen[0] == 2
    assert len(out.chosen) <= 4
    dense = conflicts.toarray()
    assert not any(dense[a, b] for a, b in itertools.combinations(out.chosen, 2))
    assert problem.value(out.best) >= problem.value(state.best)
    best = problem.best_quality(np.asarray(out.chosen, dtype=np.int64))
    assert problem.value(best) == pytest.approx(problem.value(out.best), rel=1e-12)


def test_kick_rounds_count_the_phase_sites_as_work():
    """Few sites: capped by 50 + 16 per site or 1,000; thousands of sites: far fewer rounds."""
    assert kick_rounds(62_133, 60) == 1000  # Helsinki, disc 100 m, 60 sets
    assert kick_rounds(140_610, 10) == 50 + 16 * 10
    assert kick_rounds(108_063, 2000) == KICK_WORK // (108_063 + KICK_SITE_WORK * 2000)
    assert kick_rounds(108_063, 2000) < kick_rounds(108_063, 800) < 1000
    assert kick_rounds(10**9, 5000) == 20  # at least 20
    assert kick_rounds(0, 1) == 50 + 16
