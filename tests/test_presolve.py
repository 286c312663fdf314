"""presolve(): merged rows, dropped points and dominated sites, and an unchanged optimum."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import sparse

from planner.solver.optimise import Constraints, SolverOptions, optimise
from planner.solver.presolve import merge_rows, presolve
from planner.solver.problem import CoverageProblem


def _value(problem: CoverageProblem, chosen: tuple[int, ...]) -> float:
    return problem.value(problem.best_quality(np.asarray(chosen, dtype=np.int64)))


def _brute(problem: CoverageProblem, c: Constraints) -> float:
    """The optimum by enumeration: at most ``sets`` sites (or within the budget)."""
    m = problem.n_sites
    allowed = [j for j in range(m) if j not in set(c.forbidden)]
    conf = None if c.conflicts is None else sparse.csr_array(c.conflicts).toarray() > 0
    most = c.sets if c.sets is not None else m
    best = -np.inf
    for k in range(most + 1):
        for combo in itertools.combinations(allowed, k):
            if not set(c.forced) <= set(combo):
                continue
            if conf is not None and conf[np.ix_(combo, combo)].any():
                continue
            if c.budget is not None and float(np.sum(c.costs[list(combo)])) > c.budget:
                continue
            best = max(best, _value(problem, combo))
    return best


def _instance(seed: int, *, decay: bool) -> tuple[CoverageProblem, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    xy = rng.integers(0, 6, (60, 2)).astype(float)  # points on a grid: many identical rows
    sxy = rng.uniform(0, 6, (9, 2))
    sxy[8] = sxy[7] + 0.05  # a near twin: often the same or a contained column
    d = np.hypot(xy[:, None, 0] - sxy[None, :, 0], xy[:, None, 1] - sxy[None, :, 1])
    q = np.where(d < 2.0, np.where(d < 1.2, 1.0, 0.5) if decay else 1.0, 0.0)
    w = rng.gamma(2.0, 1.0, 60)
    base = np.where(rng.random(60) < 0.15, 0.5 if decay else 1.0, 0.0)
    sd = np.hypot(sxy[:, None, 0] - sxy[None, :, 0], sxy[:, None, 1] - sxy[None, :, 1])
    conflicts = sparse.csr_array(((sd < 1.0) & ~np.eye(9, dtype=bool)).astype(float))
    return CoverageProblem.from_matrix(q, w, baseline=base), conflicts, rng.uniform(1, 3, 9)


CASES = [
    {"sets": 3},
    {"sets": 3, "forced": (8,), "forbidden": (7,)},
    {"sets": 3, "spacing": True},
    {"sets": 4, "forced": (2,), "spacing": True},
    {"budget": 4.5},
]


@pytest.mark.parametrize("decay", [False, True])
@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("seed", range(4))
def test_presolve_keeps_the_optimum(seed, case, decay):
    problem, conflicts, costs = _instance(seed, decay=decay)
    kw = dict(CASES[case])
    spacing = kw.pop("spacing", False)
    c = Constraints(
        **kw, conflicts=conflicts if spacing else None, costs=costs if "budget" in kw else None
    )
    pre = presolve(problem, c)
    assert pre.problem.n_demand < problem.n_demand  # the grid makes duplicates
    assert set(pre.columns) <= set(range(problem.n_sites)) - set(c.forbidden)
    assert set(c.forced) <= set(pre.columns.tolist())
    assert pre.constraints.forbidden == ()
    assert pre.constant + _brute(pre.problem, pre.constraints) == pytest.approx(
        _brute(problem, c), rel=1e-12
    )


def test_merge_rows_sums_identical_rows_only():
    rows = sparse.csr_array(
        np.array([[1.0, 0, 1], [0, 1, 0], [1, 0, 1], [1, 0, 0.5], [1, 0, 1], [0, 1, 0]])
    )
    w = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    base = np.array([0.0, 0.0, 0.0, 0.0, 0.5, 0.0])  # row 4 differs from 0 and 2 by its baseline
    leaders, group, weight = merge_rows(rows, w, base)
    assert leaders.tolist() == [0, 1, 3, 4]
    assert group.tolist() == [0, 1, 0, 2, 3, 1]
    assert weight.tolist() == [4.0, 8.0, 4.0, 5.0]


def _columns(*cols: list[int], n: int = 5) -> CoverageProblem:
    q = np.zeros((n, len(cols)))
    for j, rows in enumerate(cols):
        q[rows, j] = 1.0
    return CoverageProblem.from_matrix(q, np.arange(1.0, n + 1))


def test_dominated_sites_go_only_when_safe():
    # site 0 sees {0, 1}, inside site 1's {0, 1, 2}; site 2 sees {3}; 3 = 1 (twin); 4 sees nothing
    problem = _columns([0, 1], [0, 1, 2], [3], [0, 1, 2], [], n=5)
    pre = presolve(problem, Constraints(sets=2))
    assert pre.columns.tolist() == [1, 2]  # 0 contained, 3 the higher twin, 4 empty
    assert pre.report.dominated_sites == 2
    assert pre.problem.n_demand == 2  # {0,1,2} -> one row (once 0 is gone); 4 seen by nobody
    assert pre.problem.weights.tolist() == [6.0, 4.0]
    assert pre.constant == 0.0
    assert presolve(problem, Constraints(sets=2, forced=(0, 4))).columns.tolist() == [0, 1, 2, 4]
    assert presolve(problem, Constraints(sets=2, forbidden=(1,))).columns.tolist() == [2, 3]
    costs = np.array([1.0, 2.0, 1.0, 2.0, 1.0])  # the contained site is cheaper: keep it
    kept = presolve(problem, Constraints(costs=costs, budget=3.0)).columns.tolist()
    assert kept == [0, 1, 2]
    # site 1 is too close to site 2, sites 0 and 3 are not: 0 may not give way to 1 (a plan
    # with 0 and 2 would break) but may to 3; 1 and 3 no longer are twins (3 is freer)
    pairs = np.zeros((5, 5))
    pairs[1, 2] = pairs[2, 1] = 1.0
    conflicts = sparse.csr_array(pairs)
    kept = presolve(problem, Constraints(sets=2, conflicts=conflicts)).columns.tolist()
    assert kept == [1, 2, 3]


def test_presolve_report_and_same_plan_value():
    rng = np.random.default_rng(5)
    xy = rng.integers(0, 30, (800, 2)).astype(float)
    sxy = rng.uniform(0, 30, (80, 2))
    d = np.hypot(xy[:, None, 0] - sxy[None, :, 0], xy[:, None, 1] - sxy[None, :, 1])
    problem = CoverageProblem.from_matrix((d < 4).astype(float), rng.gamma(2, 1, 800))
    on = optimise(problem, Constraints(sets=6), SolverOptions(exact="always"))
    off = optimise(problem, Constraints(sets=6), SolverOptions(exact="always", presolve=False))
    assert on.proven_optimal
    assert off.proven_optimal
    assert on.covered_weight == pytest.approx(off.covered_weight, rel=1e-12)
    assert on.total_weight == off.total_weight
    assert off.presolve is None
    report = on.presolve
    assert report is not None
    assert report.demand_points == 800
    assert report.sites == 80
    assert report.demand_rows < 800
    assert report.pairs_kept <= report.pairs
    # the plan's coverage is recomputed on the original instance by the caller: same value
    assert _value(problem, tuple(on.order)) == pytest.approx(on.covered_weight, rel=1e-12)
