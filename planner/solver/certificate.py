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
    "PROVEN_TOLERANCE",
    "Certificate",
    "phase_bounds",
    "plan_certificate",
]

#: Reduced instances up to this many non-zeros get the LP bound by default.
AUTO_LP_NNZ = 400_000
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
    sites its solution uses (largest value first); ``earlier`` the Lagrangian bounds of
    the earlier phases' budgets (``inf`` where none was needed).
    """

    bound: float
    method: str
    proven: bool
    lp_status: str | None = None
    lp_support: tuple[int, ...] = ()
    earlier: tuple[float, ...] = ()


def plan_certificate(
    problem: CoverageProblem,
    state: GreedyState,
    curve: np.ndarray,
    online: np.ndarray,
    start: Start,
    options: SolverOptions,
    tally: Tally,
) -> Certificate:
    """The tightest bound we can prove for the whole budget, and how.

    ``online`` holds every phase's online bound; the earlier phases' Lagrangian bounds
    are found here too (:attr:`Certificate.earlier`), so the bound stage times them.
    """
    covered = problem.value(state.best)
    bound, method = float(online[-1]), "online-submodular"
    single_phase = len(start.ends) == 1
    mip = tally.mip_bound
    exact_ran = single_phase and mip is not None and np.isfinite(mip)
    if exact_ran and mip is not None and mip < bound:
        bound, method = float(mip), tally.mip_bound_method
    tol = PROVEN_TOLERANCE * max(covered, 1.0)
    # the exact stage's bound is the LP's or tighter: the Lagrangian and the LP cannot beat it
    if exact_ran:
        return Certificate(max(bound, covered), method, bound - covered <= tol)
    earlier: tuple[float, ...] = ()
    if problem.binary and start.costs is None:
        *before, lagrange = _lagrangian(problem, state, curve, online, start)
        earlier = tuple(before)
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
    proven = bound - covered <= tol
    return Certificate(max(bound, covered), method, proven, lp_status, lp_support, earlier)


def _lagrangian(
    problem: CoverageProblem,
    state: GreedyState,
    curve: np.ndarray,
    online: np.ndarray,
    start: Start,
) -> list[float]:
    """Every phase's Lagrangian bound (``inf`` where its online bound already proves it).

    Each from the better of its phase plan's multipliers and a dual ascent; the whole
    plan takes ASCENT_STEPS_SIXTHS of the usual steps, an earlier phase half of them.
    At Hong Kong scale the earlier phases' bounds go from "at least 76 %" (online)
    to 95-96 %, for about 2.5 s each.
    """
    ends = _ends(state, start)
    found = [np.inf] * len(ends)
    usual = lagrangian_steps(problem.csc.nnz)
    for t, end in enumerate(ends):
        covered = float(curve[end])
        if online[t] - covered <= PROVEN_TOLERANCE * max(covered, 1.0):
            continue
        last = t == len(ends) - 1
        chosen = np.asarray(state.chosen[:end], dtype=np.int64)
        best = state.best if end == len(state.chosen) else problem.best_quality(chosen)
        found[t] = lagrangian_bound(
            problem,
            count=int(start.budgets[t]),
            fixed=start.forced,
            eligible=start.eligible,
            lower=covered,
            start=problem.weights * (1.0 - best),
            iterations=usual * ASCENT_STEPS_SIXTHS // 6 if last else usual // 2,
            ascent=True,
        )
    return found


def _ends(state: GreedyState, start: Start) -> tuple[int, ...]:
    """Each phase's end, in picks made."""
    if start.budget is None:
        return tuple(min(e, len(state.chosen)) for e in start.ends)
    return (len(state.chosen),)


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
    earlier: tuple[float, ...] = (),
) -> tuple[tuple[int, ...], tuple[float, ...], tuple[str, ...]]:
    """Each phase's end (in picks made), bound and how the bound was obtained.

    ``whole`` is the last phase's bound (its method is the plan's); an earlier
    phase's is the online bound or, when tighter, its Lagrangian one from ``earlier``
    (:attr:`Certificate.earlier`).
    """
    total = float(problem.weights.sum())
    ends = _ends(state, start)
    lagrange = [*earlier, *[np.inf] * len(ends)][: len(ends) - 1]
    best = [min(float(b), float(g)) for b, g in zip(online[:-1], lagrange, strict=False)]
    bounds = tuple(
        min(max(float(b), float(curve[e])), total)
        for b, e in zip([*best, whole], ends, strict=True)
    )
    methods = tuple(
        "lagrangian" if g < float(b) else "online-submodular"
        for g, b in zip(lagrange, online[:-1], strict=False)
    )
    return ends, bounds, methods
