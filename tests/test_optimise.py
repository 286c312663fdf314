"""optimise(): against brute force, phases, existing cameras, constraints, options."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import shapely
from scipy import sparse

from geodata.errors import OptionError
from planner.api import _conflicts
from planner.coverage.disc import baseline_quality, coverage_matrix
from planner.solver.mclp import solve_mclp
from planner.solver.optimise import Constraints, SolverOptions, optimise, phase_sizes
from planner.solver.problem import CoverageProblem


def _coords(seed, n, m, side=1000.0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, side, (n, 2)), rng.uniform(0, side, (m, 2)), rng


def _instance(seed, n=36, m=11, radius=260.0, bands=None, baseline_xy=None):
    demand, sites, rng = _coords(seed, n, m)
    w = rng.gamma(2.0, 1.0, n)
    matrix = coverage_matrix(demand, sites, radius, bands=bands)
    base = None
    if baseline_xy is not None:
        base = baseline_quality(demand, baseline_xy, radius, bands=bands)
    problem = CoverageProblem.from_matrix(matrix, w, baseline=base)
    return problem, matrix.toarray(), w, sites


def value(dense, w, base, chosen):
    best = np.zeros(len(w)) if base is None else base.copy()
    if len(chosen):
        best = np.maximum(best, dense[:, list(chosen)].max(axis=1))
    return float(w @ best)


def brute_force(
    dense, w, base, p, *, conflicts=None, forced=(), forbidden=(), costs=None, budget=None
):
    """Best covered weight over every feasible set (at most p new sites, or within budget)."""
    m = dense.shape[1]
    free = [j for j in range(m) if j not in forced and j not in forbidden]
    limit = len(free) if budget is not None else p - len(forced)
    top = -np.inf
    for k in range(limit + 1):
        for extra in itertools.combinations(free, k):
            combo = (*forced, *extra)
            if costs is not None and costs[list(combo)].sum() > budget:
                continue
            if conflicts is not None and any(
                conflicts[a, b] for a, b in itertools.combinations(combo, 2)
            ):
                continue
            top = max(top, value(dense, w, base, combo))
    return top


def _check_consistent(sol, problem):
    """Curve, marginals and order agree with an exact recomputation."""
    dense = problem.csc.toarray()
    w, base = problem.weights, problem.baseline
    curve = [value(dense, w, base, sol.order[:k]) for k in range(len(sol.order) + 1)]
    np.testing.assert_allclose(sol.curve, curve, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(sol.marginal, np.diff(curve), atol=1e-9)
    assert len(set(sol.order.tolist())) == len(sol.order)
    assert sol.covered_weight <= sol.upper_bound + 1e-9


SMALL = [(seed, 2 + seed % 3) for seed in range(12)]


@pytest.mark.parametrize(("seed", "p"), SMALL)
def test_covered_at_most_opt_at_most_bound(seed, p):
    problem, dense, w, _ = _instance(seed)
    opt = brute_force(dense, w, None, p)
    for exact in ("never", "auto"):
        sol = optimise(problem, Constraints(sets=p), SolverOptions(exact=exact))
        _check_consistent(sol, problem)
        assert len(sol.order) <= p
        assert sol.covered_weight <= opt + 1e-9
        assert sol.upper_bound >= opt - 1e-9


@pytest.mark.parametrize(("seed", "p"), SMALL)
def test_bound_never_exceeds_the_total_weight(seed, p):
    # a bound above the total weight certifies nothing and reads as a share > 100 %
    problem, _, _, _ = _instance(seed)
    for exact in ("never", "auto"):
        sol = optimise(problem, Constraints(sets=p), SolverOptions(exact=exact))
        assert sol.upper_bound <= sol.total_weight * (1 + 1e-12), exact
        assert all(b <= sol.total_weight * (1 + 1e-12) for b in sol.phase_bounds)


@pytest.mark.parametrize(("seed", "p"), SMALL)
def test_exact_auto_is_optimal_and_proven_on_small_instances(seed, p):
    problem, dense, w, _ = _instance(seed)
    opt = brute_force(dense, w, None, p)
    sol = optimise(problem, Constraints(sets=p), SolverOptions(exact="auto"))
    assert sol.covered_weight == pytest.approx(opt, rel=1e-9)
    assert sol.proven_optimal
    assert sol.gap == pytest.approx(0.0, abs=1e-7)


@pytest.mark.parametrize("seed", range(10))
def test_local_search_never_covers_less(seed):
    problem, _, _, _ = _instance(seed + 40, n=80, m=30, radius=220.0)
    for p in (3, 6):
        with_ls = optimise(
            problem, Constraints(sets=p), SolverOptions(exact="never", local_search=True)
        )
        without = optimise(
            problem, Constraints(sets=p), SolverOptions(exact="never", local_search=False)
        )
        assert with_ls.covered_weight >= without.covered_weight - 1e-9
        np.testing.assert_allclose(without.curve, without.greedy_curve)


@pytest.mark.parametrize("seed", range(8))
def test_phases_are_nested(seed):
    problem, _, _, _ = _instance(seed + 60, n=80, m=30, radius=200.0)
    first = optimise(problem, Constraints(sets=3), SolverOptions(exact="auto"))
    both = optimise(problem, Constraints(sets=7, phases=[3, 4]), SolverOptions(exact="auto"))
    np.testing.assert_array_equal(both.order[:3], first.order)
    np.testing.assert_array_equal(both.phase, [1, 1, 1, 2, 2, 2, 2])
    assert both.phase_ends == (3, 7)
    assert len(both.phase_bounds) == 2
    assert both.phase_bounds[0] >= both.curve[3] - 1e-9
    assert both.phase_bounds[1] == pytest.approx(both.upper_bound)


def test_phases_last_phase_takes_the_rest():
    problem, _, _, _ = _instance(3, n=80, m=30, radius=200.0)
    sol = optimise(problem, Constraints(sets=6, phases=[2, 1]), SolverOptions(exact="never"))
    assert sol.phase_ends == (2, 3, 6)
    np.testing.assert_array_equal(sol.phase, [1, 1, 2, 3, 3, 3])


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("exact", ["never", "auto"])
def test_each_phase_end_covers_at_least_plain_greedy(seed, exact):
    problem, _, _, _ = _instance(seed + 80, n=90, m=35, radius=180.0)
    sol = optimise(problem, Constraints(sets=8, phases=[2, 3, 3]), SolverOptions(exact=exact))
    for end in sol.phase_ends:
        assert sol.curve[end] >= sol.greedy_curve[end] - 1e-9, end


@pytest.mark.parametrize("seed", range(6))
def test_phase_bounds_bound_the_brute_force_optimum_of_each_phase(seed):
    problem, dense, w, _ = _instance(seed + 120)
    sol = optimise(problem, Constraints(sets=4, phases=[1, 2, 1]), SolverOptions(exact="auto"))
    for end, bound in zip(sol.phase_ends, sol.phase_bounds, strict=True):
        assert bound >= brute_force(dense, w, None, end) - 1e-9


@pytest.mark.parametrize("seed", range(8))
def test_existing_cameras_count_first(seed):
    demand, sites, rng = _coords(seed + 200, 40, 11)
    w = rng.gamma(2.0, 1.0, 40)
    matrix = coverage_matrix(demand, sites, 260.0)
    cam = rng.uniform(0, 1000, (1, 2))
    base = baseline_quality(demand, cam, 260.0)
    with_cam = optimise(CoverageProblem.from_matrix(matrix, w, baseline=base), Constraints(sets=3))
    without = optimise(CoverageProblem.from_matrix(matrix, w), Constraints(sets=3))
    assert with_cam.curve[0] == pytest.approx(float(w @ base))
    assert without.curve[0] == 0.0
    assert with_cam.covered_weight >= without.covered_weight - 1e-9
    # the certificate accounts for the baseline as well
    dense = matrix.toarray()
    assert with_cam.upper_bound >= brute_force(dense, w, base, 3) - 1e-9
    assert with_cam.covered_weight == pytest.approx(brute_force(dense, w, base, 3))


@pytest.mark.parametrize("seed", range(6))
def test_forced_sites_appear_and_forbidden_never(seed):
    problem, dense, w, _ = _instance(seed + 300)
    greedy = optimise(problem, Constraints(sets=4), SolverOptions(exact="never"))
    forbidden = greedy.order[:2].tolist()
    forced = [j for j in range(problem.n_sites) if j not in greedy.order][:1]
    for exact in ("never", "auto"):
        sol = optimise(
            problem,
            Constraints(sets=4, forced=forced, forbidden=forbidden),
            SolverOptions(exact=exact),
        )
        assert set(forced) <= set(sol.order.tolist())
        assert sol.order[0] == forced[0]  # forced sites come first
        assert not set(forbidden) & set(sol.order.tolist())
        opt = brute_force(dense, w, None, 4, forced=forced, forbidden=forbidden)
        assert sol.covered_weight <= opt + 1e-9
        assert sol.upper_bound >= opt - 1e-9


def test_forced_and_forbidden_options_are_checked():
    problem, _, _, _ = _instance(0)
    with pytest.raises(OptionError, match="--forced"):
        optimise(problem, Constraints(sets=3, forced=[1], forbidden=[1]))
    with pytest.raises(OptionError, match="--forced"):
        optimise(problem, Constraints(sets=1, forced=[1, 2]))
    with pytest.raises(OptionError, match="--forbidden"):
        optimise(problem, Constraints(sets=1, forbidden=[problem.n_sites]))


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("exact", ["never", "auto"])
def test_min_spacing_is_respected(seed, exact):
    problem, dense, w, site_xy = _instance(seed + 400, n=40, m=12, radius=250.0)
    spacing = 300.0
    conf = _conflicts(shapely.points(site_xy), spacing)
    sol = optimise(problem, Constraints(sets=4, conflicts=conf), SolverOptions(exact=exact))
    for a, b in itertools.combinations(sol.order.tolist(), 2):
        assert np.hypot(*(site_xy[a] - site_xy[b])) >= spacing, (a, b)
    opt = brute_force(dense, w, None, 4, conflicts=conf.toarray())
    assert sol.covered_weight <= opt + 1e-9
    assert sol.upper_bound >= opt - 1e-9
    if sol.proven_optimal:
        assert sol.covered_weight == pytest.approx(opt)


def test_spacing_bound_is_valid_when_greedy_is_blocked_early():
    # A covers {0,1,2}, B {0,1}, C {2,3}; A is too close to B and to C.
    # Greedy takes A and is then blocked; B + C covers all 4 points with 2 sets.
    dense = np.array([[1, 1, 0], [1, 1, 0], [1, 0, 1], [0, 0, 1]], dtype=float)
    problem = CoverageProblem.from_matrix(dense, np.ones(4))
    conf = sparse.csr_array(np.array([[0, 1, 1], [1, 0, 0], [1, 0, 0]], dtype=float))
    for exact in ("never", "auto"):
        sol = optimise(problem, Constraints(sets=2, conflicts=conf), SolverOptions(exact=exact))
        assert sol.upper_bound >= 4.0, (exact, sol.upper_bound, sol.bound_method)
        if sol.proven_optimal:
            assert sol.covered_weight == 4.0, (exact, sol.order)


@pytest.mark.parametrize("seed", range(8))
def test_budget_is_respected(seed):
    problem, dense, w, _ = _instance(seed + 500, n=36, m=10)
    rng = np.random.default_rng(seed)
    costs = rng.integers(1, 5, problem.n_sites).astype(float)
    budget = float(rng.integers(4, 9))
    opt = brute_force(dense, w, None, 0, costs=costs, budget=budget)
    for ls in (True, False):
        sol = optimise(
            problem, Constraints(costs=costs, budget=budget), SolverOptions(local_search=ls)
        )
        assert costs[sol.order].sum() <= budget
        assert sol.covered_weight <= opt + 1e-9
        assert sol.upper_bound >= opt - 1e-9
        # Khuller-Moss-Naor: the better of cost-benefit greedy and the best single site
        assert sol.covered_weight >= 0.5 * (1 - 1 / np.e) * opt - 1e-9


@pytest.mark.parametrize("local_search", [True, False])
def test_budget_plan_is_never_worse_than_its_own_greedy(local_search):
    # site 0: weight 100 at cost 10; site 1: weight 20 at cost 1 (better ratio).
    # Cost-benefit greedy takes site 1 and then cannot afford site 0; the best
    # single site (site 0) covers 100 and must win.
    problem = CoverageProblem.from_matrix(np.eye(2), np.array([100.0, 20.0]))
    sol = optimise(
        problem,
        Constraints(costs=np.array([10.0, 1.0]), budget=10.0),
        SolverOptions(local_search=local_search, exact="never"),
    )
    assert sol.greedy_curve[-1] == 100.0
    assert sol.covered_weight >= sol.greedy_curve[-1], sol.order
    assert sol.order.tolist() == [0]


def test_budget_below_the_cheapest_site_raises():
    problem, _, _, _ = _instance(0)
    costs = np.full(problem.n_sites, 5.0)
    with pytest.raises(OptionError, match="--budget"):
        optimise(problem, Constraints(costs=costs, budget=4.0))
    with pytest.raises(OptionError, match="--budget"):
        optimise(problem, Constraints(budget=10.0))  # no costs
    with pytest.raises(OptionError, match="--budget"):
        optimise(problem, Constraints(costs=costs, budget=float("nan")))
    with pytest.raises(OptionError, match="--budget"):
        optimise(problem, Constraints(costs=costs, budget=6.0, forced=[0, 1]))  # forced cost 10 > 6


@pytest.mark.parametrize(
    ("sets", "phases"),
    [
        (0, None),
        (-3, None),
        (2.5, None),
        (3.0, None),
        ("4", None),
        (True, None),
        (None, None),
        (4, [3, 2]),
        (4, [0, 4]),
        (4, [2, -1]),
    ],
)
def test_phase_sizes_rejects_bad_options(sets, phases):
    with pytest.raises(OptionError):
        phase_sizes(sets, phases)
    problem, _, _, _ = _instance(0)
    with pytest.raises(OptionError):
        optimise(problem, Constraints(sets=sets, phases=phases))


def test_phase_sizes_rejects_fractional_phases():
    with pytest.raises(OptionError, match="--phases"):
        phase_sizes(4, [1.5, 2.5])


def test_phase_sizes_accepts_good_options():
    assert phase_sizes(5, None) == [5]
    assert phase_sizes(5, []) == [5]
    assert phase_sizes(5, [2, 3]) == [2, 3]
    assert phase_sizes(5, [2]) == [2, 3]
    assert phase_sizes(np.int64(4), [1, 1]) == [1, 1, 2]


@pytest.mark.parametrize("exact", ["never", "auto"])
def test_deterministic(exact):
    problem, _, _, site_xy = _instance(9, n=120, m=40, radius=180.0)
    conf = _conflicts(shapely.points(site_xy), 60.0)
    a = optimise(
        problem, Constraints(sets=9, phases=[4, 5], conflicts=conf), SolverOptions(exact=exact)
    )
    b = optimise(
        problem, Constraints(sets=9, phases=[4, 5], conflicts=conf), SolverOptions(exact=exact)
    )
    for field in ("order", "phase", "marginal", "curve", "greedy_curve"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert (a.upper_bound, a.phase_bounds, a.phase_ends, a.bound_method, a.proven_optimal) == (
        b.upper_bound,
        b.phase_bounds,
        b.phase_ends,
        b.bound_method,
        b.proven_optimal,
    )


BANDS = ((100.0, 1.0), (180.0, 0.6), (260.0, 0.3))


@pytest.mark.parametrize(("seed", "p"), SMALL)
def test_decay_online_bound_is_never_below_the_optimum(seed, p):
    problem, dense, w, _ = _instance(seed + 700, bands=BANDS)
    assert not problem.binary
    opt = brute_force(dense, w, None, p)
    for ls in (True, False):
        sol = optimise(problem, Constraints(sets=p), SolverOptions(local_search=ls))
        _check_consistent(sol, problem)
        assert sol.bound_method == "online-submodular"
        assert sol.covered_weight <= opt + 1e-9
        assert sol.upper_bound >= opt - 1e-9
        if sol.proven_optimal:
            assert sol.covered_weight == pytest.approx(opt)


def test_decay_with_partial_baseline():
    demand, sites, rng = _coords(77, 40, 11)
    w = rng.gamma(2.0, 1.0, 40)
    matrix = coverage_matrix(demand, sites, 260.0, bands=BANDS)
    base = baseline_quality(demand, rng.uniform(0, 1000, (2, 2)), 260.0, bands=BANDS)
    problem = CoverageProblem.from_matrix(matrix, w, baseline=base)
    sol = optimise(problem, Constraints(sets=3))
    assert sol.curve[0] == pytest.approx(float(w @ base))
    assert sol.upper_bound >= brute_force(matrix.toarray(), w, base, 3) - 1e-9


def test_more_sets_than_useful_sites_stops_early():
    dense = np.zeros((4, 6))
    dense[0, 0] = dense[1, 1] = 1
    problem = CoverageProblem.from_matrix(dense, np.ones(4))
    sol = optimise(problem, Constraints(sets=5))
    assert sorted(sol.order.tolist())[:2] == [0, 1]
    assert sol.covered_weight == 2.0
    assert sol.upper_bound == pytest.approx(2.0)


def test_phase_labels_agree_with_phase_ends_when_forced_sites_fill_phase_one():
    # two forced sites but a first phase of one set: the labels and the ends must agree
    problem, _, _, _ = _instance(1, n=80, m=30, radius=200.0)
    try:
        sol = optimise(
            problem, Constraints(sets=4, phases=[1, 3], forced=[5, 6]), SolverOptions(exact="never")
        )
    except OptionError:
        return  # refusing the combination is an acceptable answer too
    ends = np.asarray((0, *sol.phase_ends))
    per_phase = np.bincount(sol.phase, minlength=len(ends))[1:]
    np.testing.assert_array_equal(per_phase, np.diff(ends))


def test_sets_with_a_budget_is_honoured_or_refused():
    # with both --sets and --budget, never silently ignore --sets
    problem, _, _, _ = _instance(1, n=80, m=30, radius=200.0)
    costs = np.ones(problem.n_sites)
    try:
        sol = optimise(
            problem, Constraints(sets=2, costs=costs, budget=10.0), SolverOptions(exact="never")
        )
    except OptionError:
        return
    assert len(sol.order) <= 2, sol.order


def test_earlier_phases_get_a_lagrangian_bound_near_their_lp():
    """An earlier phase's bound is the Lagrangian one for its own budget (not the weak
    online bound): never below that budget's LP optimum, and within 2 % of it."""
    rng = np.random.default_rng(4)
    xy, sxy = rng.uniform(0, 300, (3000, 2)), rng.uniform(0, 300, (300, 2))
    dense = (np.hypot(xy[:, None, 0] - sxy[None, :, 0], xy[:, None, 1] - sxy[None, :, 1]) < 14)
    problem = CoverageProblem.from_matrix(dense.astype(float), rng.gamma(2, 1, 3000))
    sol = optimise(problem, Constraints(sets=40, phases=[15, 25]), SolverOptions(exact="never"))
    lp = solve_mclp(problem, count=15, eligible=np.ones(300, dtype=bool)).upper_bound
    assert sol.phase_methods[0] == "lagrangian"
    assert lp * (1 - 1e-9) <= sol.phase_bounds[0] <= lp * 1.02
