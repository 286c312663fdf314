"""The optimiser for camera sets (mounts with up to ``k`` directional cameras), by phase.

The model, greedy rule and certificate are stated in :mod:`planner.solver.sets`.
Per phase, as for single-column sites (:mod:`planner.solver.optimise`): lazy
greedy continues from the earlier phases, local search re-orients cameras and
moves sets with earlier phases fixed (:mod:`planner.solver.sets_search`), small
phases are solved exactly by HiGHS (:mod:`planner.solver.sets_mip`) and replaced
when the MIP covers more, and the sets of the phase are ranked greedily. The
certificate is the best of the online bound over every observed state and,
for small instances, the LP relaxation (or the MIP's dual bound).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from geodata.errors import OptionError
from planner.solver.bounds import top_sum
from planner.solver.constraints import Constraints, SolverOptions, _as_indices, phase_sizes
from planner.solver.grouped_phases import AUTO_EXACT_SET_NNZ, improve_all, observe_points
from planner.solver.phases import Progress
from planner.solver.problem import CoverageProblem
from planner.solver.sets import SetLayout, SetState, set_bound_terms
from planner.solver.sets_bound import set_lagrangian_bound, set_lagrangian_steps
from planner.solver.sets_mip import SetLimits, solve_sets
from planner.solver.sets_state import add_set, best_configuration, curve_of
from planner.solver.solution import Solution, SolverStats, StageTimings

__all__ = ["SetSolution", "optimise_sets"]

logger = logging.getLogger(__name__)

PROVEN_TOLERANCE = 1e-7
_DEFAULT_SOLVER = SolverOptions()


@dataclass(frozen=True)
class SetStats(SolverStats):
    """Counters of a camera-set run.

    :class:`~planner.solver.solution.SolverStats`, where ``swaps`` counts set moves,
    plus ``reorientations`` cameras turned, ``search_passes`` passes.
    """

    reorientations: int = 0
    search_passes: int = 0


@dataclass(frozen=True)
class SetSolution(Solution):
    """The result of a camera-set run.

    A :class:`~planner.solver.solution.Solution` whose ``order`` holds mounts, with
    ``pans``: the pan indices of each set's cameras (same order).
    """

    pans: tuple[tuple[int, ...], ...] = ()


def _mount_count(problem: CoverageProblem, layout: SetLayout) -> int:
    if problem.n_sites % layout.n_pans:
        raise OptionError("pans", f"{problem.n_sites} columns are not whole mounts of "
                                  f"{layout.n_pans} pans")
    return problem.n_sites // layout.n_pans


class SetBound:
    """The online bound (module :mod:`planner.solver.sets`) over observed states, per budget.

    ``budgets`` count every set of a plan (forced ones too): a plan may re-orient any mount.
    """

    def __init__(self, problem: CoverageProblem, layout: SetLayout, budgets: Sequence[float], *,
                 eligible: np.ndarray, costs: np.ndarray | None = None) -> None:
        self._args = (problem, layout, eligible, costs)
        self._budgets = list(budgets)
        self.bounds = np.full(len(self._budgets), np.inf)
        self.evaluations = 0

    def observe(self, state: SetState) -> None:
        problem, layout, eligible, costs = self._args
        u = set_bound_terms(problem, layout, state.best, eligible)
        value = problem.value(state.best)
        for t, budget in enumerate(self._budgets):
            self.bounds[t] = min(self.bounds[t], value + top_sum(u, budget, costs=costs))
        self.evaluations += 1


@dataclass(frozen=True)
class _Run:
    """What every phase improvement needs (internal)."""

    problem: CoverageProblem
    layout: SetLayout
    constraints: Constraints
    solver: SolverOptions
    eligible: np.ndarray
    bound: SetBound
    stats: dict[str, Any]
    timings: dict[str, float]
    progress: Progress | None


def _start(problem: CoverageProblem, layout: SetLayout, options: Constraints, m: int,
           sizes: list[int]) -> tuple[SetState, np.ndarray, list[int]]:
    forced = _as_indices(options.forced, m, "--forced")
    forbidden = _as_indices(options.forbidden, m, "--forbidden")
    if set(forced) & set(forbidden):
        raise OptionError("--forced", "a site is both forced and forbidden")
    if len(forced) > sizes[0]:
        raise OptionError("--forced", f"{len(forced)} forced sites do not fit in the first "
                                      f"phase ({sizes[0]} sets): enlarge it or force fewer")
    eligible = np.ones(m, dtype=bool)
    eligible[forbidden] = False
    start = SetState(best=problem.baseline.copy(), available=eligible.copy())
    for j in forced:
        if not start.available[j]:
            raise OptionError("--forced", f"forced site {j} is closer than --min-spacing to "
                                          "another")
        _, pans = best_configuration(problem, layout, start.best, j)
        add_set(problem, layout, start, j, pans, conflicts=options.conflicts,
                cost=1.0 if options.costs is None else float(options.costs[j]))
    if options.budget is not None and start.spent > options.budget:
        raise OptionError("--budget", "the forced sites alone cost more than the budget")
    return start, eligible, forced


def _sizes(options: Constraints, m: int) -> list[int]:
    if options.budget is None:
        return phase_sizes(options.sets if options.sets is not None else 0, options.phases)
    if options.costs is None:
        raise OptionError("--budget", "needs a site cost column (--cost-column)")
    if options.phases:
        raise OptionError("--phases", "cannot be combined with --budget: plan one budget")
    return [m] if options.sets is None else phase_sizes(options.sets, None)


def optimise_sets(problem: CoverageProblem, layout: SetLayout, constraints: Constraints,
                  solver: SolverOptions = _DEFAULT_SOLVER, *,
                  progress: Progress | None = None) -> SetSolution:
    """Choose mounts and the pans of their cameras; prove how close to optimal the plan is.

    Run as :func:`planner.solver.optimise.optimise` is run, with ``constraints`` on mounts:
    ``forced`` mounts have their pans optimised. ``solver.presolve`` does not apply here.
    """
    t0 = time.perf_counter()
    m = _mount_count(problem, layout)
    costs = None if constraints.budget is None else constraints.costs
    options = dataclasses.replace(constraints, costs=costs)
    sizes = _sizes(options, m)
    layout = _valuation(layout, m, sum(sizes))
    start, eligible, forced = _start(problem, layout, options, m, sizes)
    ends = [int(e) for e in np.cumsum(sizes)]
    budgets = [float(e) for e in ends] if options.budget is None else [float(options.budget)]
    bound = SetBound(problem, layout, budgets, eligible=eligible, costs=costs)
    stats: dict[str, Any] = {"swaps": 0, "reorientations": 0, "exact_phases": 0}
    timings: dict[str, float] = {}
    run = _Run(problem, layout, options, solver, eligible, bound, stats, timings, progress)
    plain, snapshots = observe_points(run, start, ends)
    timings["greedy"] = time.perf_counter() - t0
    greedy_curve = curve_of(problem, layout, plain)
    state, curve = improve_all(run, start, plain, greedy_curve, snapshots, ends)
    t1 = time.perf_counter()
    upper, method, proven = _certificate(run, state, forced, budgets[-1])
    timings["bound"] = time.perf_counter() - t1
    return _solution(run, state, curve, greedy_curve, ends, (upper, method, proven))


#: Free pans are valued exactly (every combination) when a mount has at most this many
#: combinations and mounts x sets x combinations stays within EXACT_WORK; else by the
#: inner greedy.
EXACT_COMBINATIONS = 3000
EXACT_WORK = 10_000_000


def _valuation(layout: SetLayout, m: int, sets: int) -> SetLayout:
    k = min(layout.per_set, layout.n_pans)
    if layout.spread is not None or layout.exact or k < 2:
        return layout
    combinations = math.comb(layout.n_pans, k)
    if combinations <= EXACT_COMBINATIONS and m * sets * combinations <= EXACT_WORK:
        return dataclasses.replace(layout, exact=True)
    return layout


def _certificate(run: _Run, state: SetState, forced: list[int], budget: float
                 ) -> tuple[float, str, bool]:
    problem = run.problem
    covered = problem.value(state.best)
    run.bound.observe(state)
    bound, method = float(run.bound.bounds[-1]), "online-submodular-sets"
    tol = PROVEN_TOLERANCE * max(covered, 1.0)
    mip = run.stats.get("mip_bound")
    if mip is not None and run.stats.get("mip_whole_plan") and mip < bound:
        bound, method = float(mip), "mip"
    if bound - covered > tol and run.constraints.costs is None:
        lagrange = set_lagrangian_bound(problem, run.layout, count=int(budget),
                                        eligible=run.eligible, lower=covered, best=state.best,
                                        iterations=set_lagrangian_steps(problem.csc.nnz))
        if lagrange < bound:
            bound, method = lagrange, "lagrangian-sets"
    small = problem.csc.nnz <= AUTO_EXACT_SET_NNZ or run.solver.exact == "always"
    if bound - covered > tol and run.solver.exact != "never" and small:
        lp = solve_sets(problem, run.layout,
                        SetLimits(budget, forced, run.eligible, run.constraints.costs),
                        integral=False, time_limit=run.solver.time_limit)
        run.stats["lp_status"] = lp.status
        if lp.upper_bound < bound:
            bound, method = lp.upper_bound, "lp-relaxation"
    total = float(problem.weights.sum())
    bound = min(max(bound, covered), total)
    return bound, method, bound - covered <= tol


def _solution(run: _Run, state: SetState, curve: np.ndarray, greedy_curve: np.ndarray,
              ends: list[int], certificate: tuple[float, str, bool]) -> SetSolution:
    upper, method, proven = certificate
    total = float(run.problem.weights.sum())
    n = len(state.chosen)
    actual = [min(e, n) for e in ends] if run.constraints.budget is None else [n]
    phase_bounds = tuple(
        min(max(float(b), float(curve[e])), total)
        for b, e in zip([*run.bound.bounds[:-1], upper], actual, strict=True)
    )
    phase_of = np.searchsorted(np.asarray(actual), np.arange(n), side="right") + 1
    run.stats["bound_evaluations"] = run.bound.evaluations
    return SetSolution(
        order=np.asarray(state.chosen, dtype=np.int64),
        phase=phase_of.astype(np.int64),
        marginal=np.diff(curve),
        curve=curve,
        greedy_curve=greedy_curve,
        phase_ends=tuple(actual),
        phase_bounds=phase_bounds,
        upper_bound=float(upper),
        bound_method=method,
        proven_optimal=proven,
        total_weight=total,
        stats=SetStats(**{k: v for k, v in run.stats.items() if k != "mip_whole_plan"}),
        timings=StageTimings(**run.timings),
        pans=tuple(state.pans),
    )
