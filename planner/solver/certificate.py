"""The certificate: the tightest upper bound we can prove, for the whole plan and each phase.

Chosen among the online, Lagrangian, MIP-dual and LP bounds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planner.solver.bounds import lagrangian_bound, lagrangian_steps
from planner.solver.constraints import SolverOptions, Start
from planner.solver.greedy import GreedyState
from planner.solver.mclp import reduced_size, solve_mclp
from planner.solver.phases import Tally
from planner.solver.problem import CoverageProblem

__all__ = [
    "ASCENT_STEPS_SIXTHS",
    "AUTO_LP_NNZ",
    "PHASE_LAGRANGE_NNZ",
    "PROVEN_TOLERANCE",
    "Certificate",
    "phase_bounds",
    "plan_certificate",
]

#: Reduced instances up to this many non-zeros get the LP bound by default.
AUTO_LP_NNZ = 400_000
#: Earlier phases get a Lagrangian bound up to this many coverage pairs (the whole plan always).
PHASE_LAGRANGE_NNZ = 2_000_000
#: A plan within this relative distance of its bound is called proven optimal.
PROVEN_TOLERANCE = 1e-7
#: Sixths of the usual subgradient steps the whole plan's bound takes from its dual-ascent
#: start: at Hong Kong scale 293 steps from the ascent bound a little lower than 352 from
#: the plan's multipliers, for 5 % less CPU (352 from the ascent: 0.1 point lower, 9 % more).
ASCENT_STEPS_SIXTHS = 5


@dataclass(frozen=True)
class Certificate:
    """An upper bound on the whole plan's budget, how it was found, whether it proves optimality.

    ``lp_status`` is the LP solver's message when the LP ran and ``lp_support`` the
    sites its solution uses (largest value first).
    """

    bound: float
    method: str
    proven: bool
    lp_status: str | None = None
    lp_support: tuple[int, ...] = ()


def plan_certificate(
    problem: CoverageProblem,
    state: GreedyState,
    online: float,
    start: Start,
    options: SolverOptions,
    tally: Tally,
) -> Certificate:
    """The tightest bound we can prove for the whole budget, and how."""
    covered = problem.value(state.best)
    bound, method = float(online), "online-submodular"
    single_phase = len(start.ends) == 1
    mip = tally.mip_bound
    exact_ran = single_phase and mip is not None and np.isfinite(mip)
    if exact_ran and mip is not None and mip < bound:
        bound, method = float(mip), tally.mip_bound_method
    tol = PROVEN_TOLERANCE * max(covered, 1.0)
    # the exact stage's bound is the LP's or tighter: the Lagrangian and the LP cannot beat it
    if exact_ran:
        return Certificate(max(bound, covered), method, bound - covered <= tol)
    if problem.binary and start.costs is None and bound - covered > tol:
        lagrange = lagrangian_bound(
            problem,
            count=int(start.budgets[-1]),
            fixed=start.forced,
            eligible=start.eligible,
            lower=covered,
            start=problem.weights * (1.0 - state.best),
            iterations=lagrangian_steps(problem.csc.nnz) * ASCENT_STEPS_SIXTHS // 6,
            ascent=True,
        )
        if lagrange < bound:
            bound, method = lagrange, "lagrangian"
    lp_status: str | None = None
    lp_support: tuple[int, ...] = ()
    if _want_lp(problem, start, options, bound - covered > tol):
        lp = solve_mclp(
            problem,
            count=start.budgets[-1],
            fixed=start.forced,
            eligible=start.eligible,
            costs=start.costs,
            time_limit=options.time_limit,
        )
        lp_status, lp_support = lp.status, lp.support
        if lp.upper_bound < bound:
            bound, method = lp.upper_bound, "lp-relaxation"
    return Certificate(max(bound, covered), method, bound - covered <= tol, lp_status, lp_support)


def _want_lp(problem: CoverageProblem, start: Start, options: SolverOptions, gap: bool) -> bool:
    if not (problem.binary and options.exact != "never" and gap):
        return False
    return options.exact == "always" or (
        reduced_size(problem, start.forced, start.eligible) <= AUTO_LP_NNZ
    )


def phase_bounds(
    problem: CoverageProblem,
    state: GreedyState,
    curve: np.ndarray,
    online: np.ndarray,
    whole: float,
    start: Start,
) -> tuple[tuple[int, ...], tuple[float, ...], tuple[str, ...]]:
    """Each phase's end (in picks made), bound and how the bound was obtained.

    ``whole`` is the last phase's bound (its method is the plan's); an earlier
    phase's is the online bound or, when tighter, the Lagrangian one.
    """
    total = float(problem.weights.sum())
    if start.budget is None:
        ends = tuple(min(e, len(state.chosen)) for e in start.ends)
    else:
        ends = (len(state.chosen),)
    binary = problem.binary and start.costs is None
    earlier = [
        _phase_bound(problem, state, float(b), e, int(start.budgets[t]), start, curve)
        if binary
        else float(b)
        for t, (b, e) in enumerate(zip(online[:-1], ends[:-1], strict=True))
    ]
    bounds = tuple(
        min(max(float(b), float(curve[e])), total)
        for b, e in zip([*earlier, whole], ends, strict=True)
    )
    methods = tuple(
        "lagrangian" if e < float(b) else "online-submodular"
        for e, b in zip(earlier, online[:-1], strict=True)
    )
    return ends, bounds, methods


def _phase_bound(
    problem: CoverageProblem,
    state: GreedyState,
    online: float,
    end: int,
    count: int,
    start: Start,
    curve: np.ndarray,
) -> float:
    """The tighter of the online and the Lagrangian bound for an earlier phase's budget."""
    covered = float(curve[end])
    if online - covered <= PROVEN_TOLERANCE * max(covered, 1.0):
        return online
    if problem.csc.nnz > PHASE_LAGRANGE_NNZ:  # city scale: the online bound must do
        return online
    best = problem.best_quality(np.asarray(state.chosen[:end], dtype=np.int64))
    lagrange = lagrangian_bound(
        problem,
        count=count,
        fixed=start.forced,
        eligible=start.eligible,
        lower=covered,
        start=problem.weights * (1.0 - best),
        iterations=lagrangian_steps(problem.csc.nnz) // 2,
    )
    return min(online, lagrange)
