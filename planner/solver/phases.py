"""Phase by phase improvement of the greedy plan: swaps, exact solving, windows, re-ranking.

With the fall-back to plain greedy's earlier phases when improving them would cost a
later phase.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy import sparse

from planner.solver.bounds import (
    OnlineBound,
    lagrangian_bound,
    lagrangian_steps,
)
from planner.solver.constraints import SolverOptions, Start
from planner.solver.exact import ExactLimits, PhaseLP, phase_lp, phase_mip, phase_neighbourhood
from planner.solver.greedy import GreedyState, block_neighbours, lazy_greedy, pick
from planner.solver.localsearch import swap_search
from planner.solver.mclp import reduced_size
from planner.solver.perturb import Kick, iterated_swaps
from planner.solver.problem import CoverageProblem
from planner.solver.windows import Windows, unavailable, window_search

__all__ = [
    "AUTO_EXACT_GAP",
    "AUTO_EXACT_GAP_NNZ",
    "AUTO_EXACT_NNZ",
    "AUTO_KICK_NNZ",
    "AUTO_WINDOWS",
    "KICK_SITE_WORK",
    "KICK_WORK",
    "PhaseContext",
    "Progress",
    "Tally",
    "coverage_curve",
    "improve_with_fallback",
    "kick_rounds",
    "refresh_available",
    "rerank",
]

logger = logging.getLogger(__name__)

#: Reduced instances up to this many non-zeros are solved exactly (MIP) by default ...
AUTO_EXACT_NNZ = 60_000
#: ... and up to this many too, when the Lagrangian bound leaves a gap above AUTO_EXACT_GAP
#: (below it, the plan is within 0.1 % of the optimum already).
AUTO_EXACT_GAP_NNZ = 300_000
AUTO_EXACT_GAP = 0.001
#: Phases of instances up to this many non-zeros (the phase's and the whole instance's)
#: that leave such a gap get the iterated swap search alone.
AUTO_KICK_NNZ = 2_500_000
#: Windows a phase gets by default where its exact stage ran and left a gap.
AUTO_WINDOWS = 50
#: About this much work per phase for the iterated swap search, in coverage pairs: its
#: rounds are this over a round's work (at least 20, at most 50 + 16 per site and 1,000).
KICK_WORK = 200_000_000
#: A round's work beyond its pairs, per site of the phase (rebuilt and swapped each round),
#: in pairs: measured 1.6-4.7 ms a round for the Helsinki cases (20,000-140,000 pairs, 10-60
#: sites) and 29 ms for each of the Hong Kong scenario's phases (108,000 pairs, 2,000 sites).
KICK_SITE_WORK = 250
#: A plan this close (relative) to the phase's LP bound needs no iterated swaps.
PROVEN_GAP = 1e-7

Progress = Callable[[str, int, int], None]


@dataclass
class Tally:
    """Counters and stage times gathered while phases are improved (mutable, internal)."""

    swaps: int = 0
    exact_phases: int = 0
    windows: int = 0
    windows_improved: int = 0
    open_gap: bool = False  # the phase's exact stage ran and did not prove it optimal
    proven_phase: bool = False  # the phase's MIP proved it optimal
    neighbourhood: PhaseLP | None = None  # the phase's LP, where its MIP was too large
    mip_status: str | None = None
    mip_optimal: bool | None = None
    mip_bound: float | None = None
    mip_bound_method: str = "mip"
    first_improved_phase: int = 1
    lp_rounding_gain: float | None = None
    greedy_s: float = 0.0
    local_search_s: float = 0.0
    exact_s: float = 0.0
    bound_s: float = 0.0
    windows_s: float = 0.0


@dataclass(frozen=True, eq=False)
class PhaseContext:
    """What every phase improvement needs."""

    problem: CoverageProblem
    start: Start
    options: SolverOptions
    tally: Tally
    online: OnlineBound
    progress: Progress | None = None


def improve_with_fallback(
    ctx: PhaseContext,
    plain: GreedyState,
    greedy_curve: np.ndarray,
    snapshots: Mapping[int, GreedyState],
) -> tuple[GreedyState, np.ndarray]:
    """Improve every phase; the plan and its curve (the first phase improved goes in the tally).

    Should a later phase then fall below plain greedy, keep greedy's earlier phases
    and improve only from a later phase on. Improving the last phase alone never
    falls below greedy; plain greedy itself is the last resort.
    """
    ends = ctx.start.ends
    for first in range(1, len(ends) + 2):
        ctx.tally.first_improved_phase = first
        if first > len(ends):
            return plain, greedy_curve
        base = ctx.start.state if first == 1 else snapshots.get(ends[first - 2])
        if base is None:  # greedy stopped before this phase: nothing left to improve
            return plain, greedy_curve
        state = improve_phases(
            ctx, base, ends[first - 1 :], greedy_end=snapshots.get(ends[first - 1])
        )
        curve = coverage_curve(ctx.problem, state)
        if _matches_greedy(curve, greedy_curve, ends):
            return state, curve
        logger.info("improving from phase %d fell below plain greedy; retrying", first)
    raise AssertionError("unreachable")  # pragma: no cover


def improve_phases(
    ctx: PhaseContext,
    base: GreedyState,
    ends: Sequence[int],
    *,
    greedy_end: GreedyState | None = None,
) -> GreedyState:
    """From ``base``, each phase: greedy to its end, swaps, exact solving, ranking.

    ``greedy_end`` is plain greedy's state at the first phase's end, when plain greedy
    ran on from ``base``: greedy is deterministic, so it stands in for re-running it.
    """
    start, tally = ctx.start, ctx.tally
    state = base.copy()
    for t, end in enumerate(ends):
        before = state.copy()
        if t == 0 and greedy_end is not None:
            state = greedy_end.copy()
        else:
            lazy_greedy(
                ctx.problem,
                state,
                count=end - len(state.chosen),
                costs=start.costs,
                budget=start.budget,
                conflicts=start.conflicts,
            )
        t1 = time.perf_counter()
        _swap_phase(ctx, state, list(range(len(before.chosen), len(state.chosen))))
        t2 = time.perf_counter()
        tally.open_gap = tally.proven_phase = False
        tally.neighbourhood = None
        state = _maybe_exact(ctx, before, state, count=end - len(before.chosen))
        t3 = time.perf_counter()
        _window_phase(ctx, before, state)
        t4 = time.perf_counter()
        tally.windows_s += t4 - t3
        state = _lp_neighbourhood(ctx, before, state)
        tally.exact_s += time.perf_counter() - t4
        state = rerank(ctx.problem, before, state.chosen[len(before.chosen) :])
        refresh_available(state, start.eligible, start.conflicts)
        ctx.online.observe(state)
        tally.local_search_s += t2 - t1
        tally.exact_s += t3 - t2
        if ctx.progress is not None:
            ctx.progress("phases", t + 1, len(ends))
    return state


def _swap_phase(ctx: PhaseContext, state: GreedyState, movable: list[int]) -> None:
    """Swap local search on the ``movable`` picks of ``state`` (in place)."""
    if not ctx.options.local_search or not movable:
        return
    start = ctx.start
    res = swap_search(
        ctx.problem,
        state,
        movable,
        eligible=start.eligible,
        conflicts=start.conflicts,
        costs=start.costs,
        budget=start.budget,
    )
    ctx.tally.swaps += res.swaps
    logger.info("local search: %d swaps, +%.6g weight", res.swaps, res.gained)
    refresh_available(state, start.eligible, start.conflicts)


def _window_phase(ctx: PhaseContext, before: GreedyState, state: GreedyState) -> None:
    """Window search on the phase's picks (in place), then swaps again if it gained."""
    options, start, tally = ctx.options, ctx.start, ctx.tally
    blocked = unavailable(local_search=options.local_search, exact=options.exact,
                          binary=ctx.problem.binary, costs=start.costs is not None)  # fmt: skip
    if blocked is not None or tally.proven_phase:
        return
    count = options.windows
    if count is None:
        count = AUTO_WINDOWS if tally.open_gap else 0
    movable = state.chosen[len(before.chosen) :]
    limits = ExactLimits(nodes=options.exact_nodes, time_limit=options.time_limit)
    windows = Windows(count, size=options.window_size, limits=limits)
    res = window_search(ctx.problem, state, movable, eligible=start.eligible,
                        conflicts=start.conflicts, windows=windows)  # fmt: skip
    tally.windows += res.solved
    tally.windows_improved += res.improved
    if res.improved:
        refresh_available(state, start.eligible, start.conflicts)
        _swap_phase(ctx, state, list(range(len(before.chosen), len(state.chosen))))


def _lp_neighbourhood(ctx: PhaseContext, before: GreedyState, state: GreedyState) -> GreedyState:
    """After the windows, the LP's neighbourhood where the phase's MIP was too large.

    Last, so that it can only add to what the swaps and windows found; swaps again if it
    gained.
    """
    lp, start = ctx.tally.neighbourhood, ctx.start
    if lp is None or ctx.tally.proven_phase:
        return state
    chosen = phase_neighbourhood(lp, state.chosen[len(before.chosen) :])
    if chosen is None:
        return state
    improved = _replayed(ctx.problem, before, chosen, start.conflicts)
    if ctx.problem.value(improved.best) <= ctx.problem.value(state.best) * (1 + 1e-12):
        return state
    refresh_available(improved, start.eligible, start.conflicts)
    _swap_phase(ctx, improved, list(range(len(before.chosen), len(improved.chosen))))
    return improved


def kick_rounds(pairs: int, count: int) -> int:
    """Rounds of the iterated swap search for a phase of ``count`` sites on ``pairs`` pairs.

    A round refills over the whole instance, and rebuilds and swaps all the phase's sites:
    KICK_WORK over that work, at least 20, at most 50 + 16 per site and 1,000.
    """
    work = max(pairs, 1) + KICK_SITE_WORK * count
    return min(1000, 50 + 16 * count, max(20, KICK_WORK // work))


def refresh_available(
    state: GreedyState, eligible: np.ndarray, conflicts: sparse.csr_array | None
) -> None:
    """Sites still available: eligible, not chosen, not too close to a chosen one."""
    state.available = eligible.copy()
    state.available[state.chosen] = False
    for j in state.chosen:
        block_neighbours(state, conflicts, j)


def rerank(problem: CoverageProblem, base: GreedyState, members: Sequence[int]) -> GreedyState:
    """Order ``members`` greedily on top of ``base``: ranks and marginals within a phase."""
    state = base.copy()
    state.available[:] = False
    state.available[list(members)] = True
    lazy_greedy(problem, state, count=len(members))
    for j in sorted(set(members) - set(state.chosen)):  # sites that add nothing
        pick(problem, state, j, gain=0.0)
    return state


def _matches_greedy(ours: np.ndarray, theirs: np.ndarray, ends: Sequence[int]) -> bool:
    """True when curve ``ours`` reaches plain greedy's ``theirs`` at every phase end."""
    tol = 1e-9 * max(float(theirs[-1]), 1.0)
    for end in ends:
        if ours[min(end, len(ours) - 1)] < theirs[min(end, len(theirs) - 1)] - tol:
            return False
    return bool(ours[-1] >= theirs[-1] - tol)


def coverage_curve(problem: CoverageProblem, state: GreedyState) -> np.ndarray:
    """Covered weight after each pick, from each pick's exact gain over its own points.

    Costs O(non-zeros of the chosen columns), not O(picks x demand points); the
    last value is the full sum over all points, so the plan's covered weight is exact.
    """
    best = problem.baseline.copy()
    gains = np.empty(len(state.chosen))
    csc, w = problem.csc, problem.weights
    for k, j in enumerate(state.chosen):
        lo, hi = csc.indptr[j], csc.indptr[j + 1]
        rows = csc.indices[lo:hi]
        new = np.maximum(best[rows], csc.data[lo:hi])
        gains[k] = float(np.sum(w[rows] * (new - best[rows])))
        best[rows] = new
    curve = np.concatenate([[problem.value(problem.baseline)], gains]).cumsum()
    curve[-1] = problem.value(best)
    return curve


def _maybe_exact(
    ctx: PhaseContext, before: GreedyState, state: GreedyState, *, count: int
) -> GreedyState:
    """Replace the phase by the MIP optimum (earlier phases fixed) when it covers more.

    ``count`` is the phase's size as asked, not the number of sites greedy placed
    (spacing or saturation can stop greedy early; the MIP may still place more).
    """
    problem, options, start = ctx.problem, ctx.options, ctx.start
    if options.exact == "never" or not problem.binary or start.costs is not None:
        return state
    size = reduced_size(problem, before.chosen, start.eligible)
    stage = "exact" if options.exact == "always" else _stage(ctx, before, state, count, size)
    if stage is None:
        return state
    rounds = kick_rounds(max(size, problem.csc.nnz), count)
    ctx.tally.open_gap = True  # the Lagrangian bound (or "always") leaves room
    if stage == "kick":  # mid-sized: the iterated swap search alone
        if not options.local_search:
            return state
        return iterated_swaps(problem, before, state, eligible=start.eligible,
                              conflicts=start.conflicts, kick=Kick(rounds=rounds))  # fmt: skip
    limits = ExactLimits(nodes=options.exact_nodes, time_limit=options.time_limit)
    if options.exact == "always":  # the MIP whatever the size
        limits = replace(limits, mip_nnz=np.iinfo(np.int64).max)
    lp = phase_lp(problem, count=count, fixed=before.chosen, eligible=start.eligible,
                  conflicts=start.conflicts, limits=limits)  # fmt: skip
    value = problem.value(state.best)
    if options.local_search and value < lp.bound - PROVEN_GAP * max(lp.bound, 1.0):
        state = iterated_swaps(problem, before, state, eligible=lp.eligible,
                               conflicts=start.conflicts, guide=lp.support,
                               kick=Kick(rounds, target=lp.bound * (1 - PROVEN_GAP)))  # fmt: skip
    res = phase_mip(lp, state.chosen[len(before.chosen) :])
    tally = ctx.tally
    tally.neighbourhood = lp
    tally.exact_phases += 1
    tally.mip_status, tally.mip_optimal, tally.mip_bound = res.status, res.optimal, res.upper_bound
    tally.proven_phase = tally.mip_optimal
    tally.mip_bound_method = "mip" if res.upper_bound < lp.bound else "lp-relaxation"
    if not np.isfinite(res.value) or res.value <= problem.value(state.best) * (1 + 1e-12):
        return state
    return _replayed(problem, before, res.chosen, start.conflicts)


def _replayed(
    problem: CoverageProblem,
    before: GreedyState,
    chosen: Sequence[int],
    conflicts: sparse.csr_array | None,
) -> GreedyState:
    """The state with ``before``'s sites and then the rest of ``chosen`` picked in order."""
    state = before.copy()
    for j in chosen[len(before.chosen) :]:
        pick(problem, state, j, conflicts=conflicts)
    return state


def _stage(
    ctx: PhaseContext, before: GreedyState, state: GreedyState, count: int, size: int
) -> str | None:
    """Auto mode: which stage a phase gets, by its size and the gap the Lagrangian bound leaves.

    The exact stage for small phases and for mid-sized ones that leave a gap, the iterated
    swap search alone for larger ones that leave a gap, else nothing.
    """
    if size <= AUTO_EXACT_NNZ:
        return "exact"
    # Each round of the iterated swap search refills and swaps over the whole instance,
    # so past AUTO_KICK_NNZ pairs in all it would cost minutes for a phase of a city.
    if max(size, ctx.problem.csc.nnz) > AUTO_KICK_NNZ:
        return None
    value = ctx.problem.value(state.best)
    bound = lagrangian_bound(
        ctx.problem,
        count=count,
        fixed=before.chosen,
        eligible=ctx.start.eligible,
        lower=value,
        start=ctx.problem.weights * (1.0 - state.best),
        iterations=lagrangian_steps(ctx.problem.csc.nnz) // 2,
    )
    if value >= (1.0 - AUTO_EXACT_GAP) * bound:
        return None
    return "exact" if size <= AUTO_EXACT_GAP_NNZ else "kick"
