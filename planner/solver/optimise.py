"""The optimiser: greedy, local search, exact solving and the certificate, by phase.

This is the core that works on a coverage matrix; :mod:`planner.api` adapts
GeoDataFrames to it (as spopt's ``from_cost_matrix``/``from_geodataframe``).
The stages live in their own modules: :mod:`~planner.solver.constraints` (checking
what a plan must respect), :mod:`~planner.solver.phases` (improving each phase) and
:mod:`~planner.solver.certificate` (choosing the bound).
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from planner.solver.bounds import OnlineBound
from planner.solver.certificate import (
    PROVEN_TOLERANCE,
    Certificate,
    phase_bounds,
    plan_certificate,
)
from planner.solver.constraints import (
    Constraints,
    Exact,
    SolverOptions,
    Start,
    phase_sizes,
    resolve,
)
from planner.solver.gains import all_gains
from planner.solver.greedy import GreedyState, lazy_greedy, pick
from planner.solver.phases import (
    PhaseContext,
    Progress,
    Tally,
    coverage_curve,
    improve_with_fallback,
)
from planner.solver.presolve import presolve
from planner.solver.problem import CoverageProblem
from planner.solver.rounding import lp_rounding
from planner.solver.solution import Solution, SolverStats, StageTimings

__all__ = [
    "Constraints",
    "Exact",
    "Progress",
    "Solution",
    "SolverOptions",
    "SolverStats",
    "StageTimings",
    "optimise",
    "phase_sizes",
]

_DEFAULT_OPTIONS = SolverOptions()


def optimise(
    problem: CoverageProblem,
    constraints: Constraints,
    options: SolverOptions = _DEFAULT_OPTIONS,
    *,
    progress: Progress | None = None,
) -> Solution:
    """Choose sites that maximise covered weight; prove how close to optimal they are.

    Per phase: lazy greedy continues from the earlier phases, swap local search
    improves the phase with earlier phases fixed, then (``options.exact``) the MIP
    replaces the phase when it covers more. The certificate is the best of the
    online submodular, Lagrangian, LP and MIP-dual bounds that apply.

    Parameters
    ----------
    constraints
        Count or budget, phases, forced/forbidden sites, spacing conflicts.
    options
        Local search, exact solving, time limit.
    progress
        Callback ``(stage, done, total)`` for a progress display.
    """
    if not options.presolve:
        return _optimise(problem, constraints, options, progress)
    t0 = time.perf_counter()
    resolve(problem, constraints)  # check the constraints on the sites as given
    pre = presolve(problem, constraints)
    presolve_s = time.perf_counter() - t0
    solution = _optimise(pre.problem, pre.constraints, options, progress)
    total = float(problem.weights.sum())
    lifted = solution.lifted(pre.columns, pre.constant, total, pre.report)
    return replace(lifted, timings=replace(lifted.timings, presolve=presolve_s))


def _optimise(
    problem: CoverageProblem,
    constraints: Constraints,
    options: SolverOptions,
    progress: Progress | None,
) -> Solution:
    t0 = time.perf_counter()
    start = resolve(problem, constraints)
    online = OnlineBound(problem, start.budgets, eligible=start.eligible, costs=start.costs)
    online.observe(start.state)
    plain, snapshots = _plain_greedy(problem, start, online)
    tally = Tally(greedy_s=time.perf_counter() - t0)
    greedy_curve = coverage_curve(problem, plain)

    context = PhaseContext(problem, start, options, tally, online, progress)
    state, curve = improve_with_fallback(context, plain, greedy_curve, snapshots)

    t3 = time.perf_counter()
    cert = plan_certificate(problem, state, curve, online.bounds, start, options, tally)
    state, curve, cert = _lp_polish(problem, start, options, (state, curve), cert, tally)
    tally.bound_s = time.perf_counter() - t3
    return _solution(problem, start, state, (curve, greedy_curve), online, cert, tally)


def _solution(
    problem: CoverageProblem,
    start: Start,
    state: GreedyState,
    curves: tuple[np.ndarray, np.ndarray],
    online: OnlineBound,
    cert: Certificate,
    tally: Tally,
) -> Solution:
    """The frozen result: the plan's curve, per-phase bounds, counters and timings."""
    curve, greedy_curve = curves
    total = float(problem.weights.sum())
    bound = min(max(cert.bound, float(curve[-1])), total)
    ends, bounds, methods = phase_bounds(problem, state, curve, online.bounds, bound, start,
                                         cert.earlier)  # fmt: skip
    phase_of = np.searchsorted(np.asarray(ends), np.arange(len(state.chosen)), side="right") + 1
    stats = SolverStats(
        swaps=tally.swaps,
        exact_phases=tally.exact_phases,
        windows=tally.windows,
        windows_improved=tally.windows_improved,
        first_improved_phase=tally.first_improved_phase,
        bound_evaluations=online.evaluations,
        mip_status=tally.mip_status,
        mip_optimal=tally.mip_optimal,
        mip_bound=tally.mip_bound,
        lp_status=cert.lp_status,
        lp_rounding_gain=tally.lp_rounding_gain,
    )
    timings = StageTimings(0.0, tally.greedy_s, tally.local_search_s, tally.exact_s, tally.bound_s,
                           tally.windows_s)  # fmt: skip
    return Solution(
        order=np.asarray(state.chosen, dtype=np.int64),
        phase=phase_of.astype(np.int64),
        marginal=np.diff(curve),
        curve=curve,
        greedy_curve=greedy_curve,
        phase_ends=ends,
        phase_bounds=bounds,
        upper_bound=float(bound),
        bound_method=cert.method,
        proven_optimal=cert.proven,
        total_weight=total,
        stats=stats,
        timings=timings,
        phase_methods=(*methods, cert.method),
    )


def _lp_polish(
    problem: CoverageProblem,
    start: Start,
    options: SolverOptions,
    plan: tuple[GreedyState, np.ndarray],
    cert: Certificate,
    tally: Tally,
) -> tuple[GreedyState, np.ndarray, Certificate]:
    """Where the LP ran and left a gap, try its rounding; keep whichever plan covers more."""
    state, curve = plan
    if cert.proven or not cert.lp_support or len(start.ends) != 1 or start.costs is not None:
        return state, curve, cert
    other = lp_rounding(problem, start, cert.lp_support, local_search=options.local_search)
    other_curve = coverage_curve(problem, other)
    tally.lp_rounding_gain = max(0.0, float(other_curve[-1] - curve[-1]))
    if other_curve[-1] <= curve[-1] * (1 + 1e-12):
        return state, curve, cert
    covered = float(other_curve[-1])
    proven = cert.bound - covered <= PROVEN_TOLERANCE * max(covered, 1.0)
    return other, other_curve, replace(cert, bound=max(cert.bound, covered), proven=proven)


def _checkpoints(total: int, ends: tuple[int, ...]) -> frozenset[int]:
    powers = {1 << k for k in range(int(np.log2(max(total, 1))) + 1)}
    return frozenset({*powers, *ends, total})


def _plain_greedy(
    problem: CoverageProblem, start: Start, online: OnlineBound
) -> tuple[GreedyState, dict[int, GreedyState]]:
    """Plain greedy over the whole budget, and its states at the checkpoints.

    Every phase end must match or beat it; the checkpoints tighten the online bound.
    """
    snapshots: dict[int, GreedyState] = {}

    def observe(state: GreedyState) -> None:
        online.observe(state)
        snapshots[len(state.chosen)] = state.copy()

    last = start.ends[-1]
    plain = lazy_greedy(
        problem,
        start.state.copy(),
        count=last - start.n_fixed,
        costs=start.costs,
        budget=start.budget,
        conflicts=start.conflicts,
        observe=observe,
        observe_at=_checkpoints(last, start.ends),
    )
    if start.budget is not None:
        plain = _best_single_site(problem, start, plain)
    online.observe(plain)
    return plain, snapshots


def _best_single_site(problem: CoverageProblem, start: Start, greedy: GreedyState) -> GreedyState:
    """Cost-benefit greedy or the best affordable single site, whichever covers more."""
    costs, budget, base = start.costs, start.budget, start.state
    assert costs is not None
    assert budget is not None
    gains = all_gains(problem, base.best)
    affordable = base.available & (base.spent + costs <= budget)
    if not affordable.any():
        return greedy
    gains = np.where(affordable, gains, -np.inf)
    j = int(np.argmax(gains))
    if problem.value(base.best) + gains[j] > problem.value(greedy.best):
        single = base.copy()
        pick(problem, single, j, cost=float(costs[j]), conflicts=start.conflicts)
        return single
    return greedy
