"""The optimiser: greedy, local search, exact solving and the certificate, by phase.

This is the core that works on a coverage matrix; :mod:`planner.api` adapts
GeoDataFrames to it (as spopt's ``from_cost_matrix``/``from_geodataframe``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy import sparse

from geodata.errors import OptionError
from planner.solver.bounds import (
    OnlineBound,
    lagrangian_bound,
    lagrangian_steps,
    reduced_size,
    solve_mclp,
)
from planner.solver.gains import all_gains
from planner.solver.greedy import GreedyState, block_neighbours, lazy_greedy, pick
from planner.solver.localsearch import swap_search
from planner.solver.problem import CoverageProblem

__all__ = ["AUTO_EXACT_NNZ", "AUTO_LP_NNZ", "Solution", "optimise", "phase_sizes"]

logger = logging.getLogger(__name__)

#: Reduced instances up to this many non-zeros get the LP bound by default.
AUTO_LP_NNZ = 400_000
#: ... up to this many are solved exactly (MIP) by default, under the time limit ...
AUTO_EXACT_NNZ = 60_000
#: ... and up to this many too, when the Lagrangian bound leaves a gap above AUTO_EXACT_GAP.
AUTO_EXACT_GAP_NNZ = 300_000
AUTO_EXACT_GAP = 0.002
#: Earlier phases get a Lagrangian bound up to this many coverage pairs (the whole plan always).
PHASE_LAGRANGE_NNZ = 2_000_000
#: A plan within this relative distance of its bound is called proven optimal.
PROVEN_TOLERANCE = 1e-7

Exact = Literal["auto", "always", "never"]
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Solution:
    """The optimiser's result on a coverage matrix (site indices, not ids).

    Attributes
    ----------
    order
        Chosen site indices in rank order (forced sites first).
    phase
        Phase (1-based) of each chosen site.
    marginal
        Weight each site adds to those before it in rank order.
    curve
        Covered weight after ``k`` sites, ``k = 0..len(order)``.
    greedy_curve
        The same for plain greedy (no local search, no exact solving).
    phase_bounds
        Upper bound on any plan with the cumulative number of sites of each phase.
    upper_bound, bound_method, proven_optimal
        The certificate for the whole plan.
    stats
        Counters (swaps, evaluations, solver messages).
    timings
        Seconds per stage.
    """

    order: np.ndarray
    phase: np.ndarray
    marginal: np.ndarray
    curve: np.ndarray
    greedy_curve: np.ndarray
    phase_ends: tuple[int, ...]
    phase_bounds: tuple[float, ...]
    upper_bound: float
    bound_method: str
    proven_optimal: bool
    total_weight: float
    stats: dict[str, object] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def covered_weight(self) -> float:
        return float(self.curve[-1])

    @property
    def gap(self) -> float:
        """``(upper_bound - covered) / upper_bound``; exactly 0 for a proven optimum."""
        if self.proven_optimal or not np.isfinite(self.upper_bound) or self.upper_bound <= 0:
            return 0.0
        return max(0.0, (self.upper_bound - self.covered_weight) / self.upper_bound)


def phase_sizes(sets: int, phases: Sequence[int] | None) -> list[int]:
    """Check ``--sets`` and ``--phases``; the last phase takes what the others leave."""
    if isinstance(sets, bool) or not isinstance(sets, (int, np.integer)) or sets <= 0:
        raise OptionError("--sets", f"must be a whole number above 0, got {sets!r}")
    if not phases:
        return [int(sets)]
    if any(isinstance(p, bool) or not isinstance(p, (int, np.integer)) for p in phases):
        raise OptionError("--phases", f"phase sizes must be whole numbers, got {list(phases)}")
    sizes = [int(p) for p in phases]
    if any(p <= 0 for p in sizes):
        raise OptionError("--phases", f"every phase needs at least one set, got {sizes}")
    if sum(sizes) > sets:
        raise OptionError("--phases", f"the phases add up to {sum(sizes)}, more than --sets {sets}")
    if sum(sizes) < sets:
        sizes.append(int(sets) - sum(sizes))
    return sizes


def _checkpoints(total: int, ends: Sequence[int]) -> frozenset[int]:
    powers = {1 << k for k in range(int(np.log2(max(total, 1))) + 1)}
    return frozenset({*powers, *ends, total})


def _as_indices(sites: Sequence[int], m: int, option: str) -> list[int]:
    out = [int(j) for j in sites]
    bad = [j for j in out if not 0 <= j < m]
    if bad:
        raise OptionError(option, f"unknown site index {bad[0]}")
    return list(dict.fromkeys(out))


def _refresh_available(
    state: GreedyState, eligible: np.ndarray, conflicts: sparse.csr_array | None
) -> None:
    state.available = eligible.copy()
    state.available[state.chosen] = False
    for j in state.chosen:
        block_neighbours(state, conflicts, j)


def _rerank(problem: CoverageProblem, base: GreedyState, members: Sequence[int]) -> GreedyState:
    """Order ``members`` greedily on top of ``base``: ranks and marginals within a phase."""
    state = base.copy()
    state.available[:] = False
    state.available[list(members)] = True
    lazy_greedy(problem, state, count=len(members))
    for j in sorted(set(members) - set(state.chosen)):  # sites that add nothing
        pick(problem, state, j, gain=0.0)
    return state


def optimise(
    problem: CoverageProblem,
    *,
    sets: int | None = None,
    phases: Sequence[int] | None = None,
    costs: np.ndarray | None = None,
    budget: float | None = None,
    forced: Sequence[int] = (),
    forbidden: Sequence[int] = (),
    conflicts: sparse.csr_array | None = None,
    local_search: bool = True,
    exact: Exact = "auto",
    time_limit: float = 30.0,
    progress: Progress | None = None,
) -> Solution:
    """Choose sites that maximise covered weight; prove how close to optimal they are.

    Per phase: lazy greedy continues from the earlier phases, then swap local
    search improves the phase with earlier phases fixed, then (``exact``) the
    MIP is solved with HiGHS under ``time_limit`` and replaces the phase when
    it covers more. The certificate is the best of the online submodular bound
    and, when the instance is small enough or asked for, the LP relaxation or
    the MIP's dual bound.

    Parameters
    ----------
    sets
        Number of new sites (alternatively ``costs`` with ``budget``).
    phases
        Phase sizes; they must add up to at most ``sets``.
    costs, budget
        Per-site cost and a total budget, instead of a count.
    forced, forbidden
        Site indices that must be / must never be chosen.
    conflicts
        Sparse site x site matrix of pairs closer than the minimum spacing.
    local_search
        Run swap local search after greedy in each phase.
    exact
        ``"auto"`` solves the MIP when the reduced instance is small,
        ``"always"`` always (under ``time_limit``), ``"never"`` never.
    time_limit
        Seconds allowed to each HiGHS solve.
    progress
        Callback ``(stage, done, total)`` for a progress display.
    """
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    m = problem.n_sites
    if budget is None:
        costs = None
        sizes = phase_sizes(sets if sets is not None else 0, phases)
    else:
        sizes = _budget_sizes(m, sets, phases, costs, budget)
    forced_idx = _as_indices(forced, m, "--forced")
    forbidden_idx = _as_indices(forbidden, m, "--forbidden")
    if set(forced_idx) & set(forbidden_idx):
        raise OptionError("--forced", "a site is both forced and forbidden")
    if len(forced_idx) > sizes[0]:
        raise OptionError(
            "--forced",
            f"{len(forced_idx)} forced sites do not fit in the first "
            f"phase ({sizes[0]} sets): enlarge it or force fewer",
        )
    eligible = np.ones(m, dtype=bool)
    eligible[forbidden_idx] = False
    ends = [int(e) for e in np.cumsum(sizes)]

    start = GreedyState(best=problem.baseline.copy(), available=eligible.copy())
    for j in forced_idx:
        if not start.available[j]:
            raise OptionError(
                "--forced", f"forced site {j} is closer than --min-spacing to another"
            )
        pick(problem, start, j, cost=1.0 if costs is None else float(costs[j]), conflicts=conflicts)
    if budget is not None and start.spent > budget:
        raise OptionError("--budget", "the forced sites alone cost more than the budget")

    n_fixed = len(forced_idx)
    budgets = [e - n_fixed for e in ends] if budget is None else [budget - start.spent]
    online = OnlineBound(problem, budgets, eligible=eligible, costs=costs)
    online.observe(start)
    snapshots: dict[int, GreedyState] = {}

    def observe(state: GreedyState) -> None:
        online.observe(state)
        snapshots[len(state.chosen)] = state.copy()

    # Plain greedy over the whole budget: what every phase end must match or beat.
    plain = lazy_greedy(
        problem,
        start.copy(),
        count=ends[-1] - n_fixed,
        costs=costs,
        budget=budget,
        conflicts=conflicts,
        observe=observe,
        observe_at=_checkpoints(ends[-1], ends),
    )
    if budget is not None:
        plain = _best_single_site(problem, start, plain, costs, budget, conflicts)
    online.observe(plain)
    timings["greedy"] = time.perf_counter() - t0
    greedy_curve = _curve(problem, plain)

    stats: dict[str, object] = {"swaps": 0, "exact_phases": 0}
    context = _Context(
        problem,
        eligible,
        costs,
        budget,
        conflicts,
        local_search,
        exact,
        time_limit,
        stats,
        timings,
        online,
        progress,
    )
    # Improve every phase; should a later phase then fall below plain greedy, keep
    # greedy's earlier phases and improve only from a later phase on. Improving the
    # last phase alone never falls below greedy; plain greedy itself is the last resort.
    state, curve = plain, greedy_curve
    for first in range(1, len(ends) + 2):
        if first > len(ends):
            state, curve = plain, greedy_curve
            break
        base = start if first == 1 else snapshots.get(ends[first - 2])
        if base is None:  # greedy stopped before this phase: nothing left to improve
            state, curve = plain, greedy_curve
            break
        state = _improve_phases(
            context, base, ends[first - 1 :], greedy_end=snapshots.get(ends[first - 1])
        )
        curve = _curve(problem, state)
        if _matches_greedy(curve, greedy_curve, ends):
            break
        logger.info("improving from phase %d fell below plain greedy; retrying", first)
    stats["first_improved_phase"] = first

    t3 = time.perf_counter()
    bound, method, proven = _certificate(
        problem,
        state,
        online.bounds[-1],
        exact,
        time_limit,
        n_fixed=n_fixed,
        forced=forced_idx,
        eligible=eligible,
        costs=costs,
        budget=budget,
        budgets=budgets,
        single_phase=len(ends) == 1,
        stats=stats,
    )
    timings["bound"] = time.perf_counter() - t3
    total = float(problem.weights.sum())
    bound = min(max(bound, float(curve[-1])), total)
    actual_ends = (
        [min(e, len(state.chosen)) for e in ends] if budget is None else [len(state.chosen)]
    )
    earlier = [
        _phase_bound(problem, state, float(b), e, int(budgets[t]), forced_idx, eligible, curve)
        if problem.binary and costs is None
        else float(b)
        for t, (b, e) in enumerate(zip(online.bounds[:-1], actual_ends[:-1], strict=True))
    ]
    phase_bounds = tuple(
        min(max(float(b), float(curve[e])), total)
        for b, e in zip([*earlier, bound], actual_ends, strict=True)
    )
    phase_of = (
        np.searchsorted(np.asarray(actual_ends), np.arange(len(state.chosen)), side="right") + 1
    )
    stats["bound_evaluations"] = online.evaluations
    return Solution(
        order=np.asarray(state.chosen, dtype=np.int64),
        phase=phase_of.astype(np.int64),
        marginal=np.diff(curve),
        curve=curve,
        greedy_curve=greedy_curve,
        phase_ends=tuple(actual_ends),
        phase_bounds=phase_bounds,
        upper_bound=float(bound),
        bound_method=method,
        proven_optimal=proven,
        total_weight=total,
        stats=stats,
        timings=timings,
    )


def _phase_bound(
    problem: CoverageProblem,
    state: GreedyState,
    online: float,
    end: int,
    count: int,
    forced: Sequence[int],
    eligible: np.ndarray,
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
        fixed=forced,
        eligible=eligible,
        lower=covered,
        start=problem.weights * (1.0 - best),
        iterations=lagrangian_steps(problem.csc.nnz) // 2,
    )
    return min(online, lagrange)


def _budget_sizes(
    m: int,
    sets: int | None,
    phases: Sequence[int] | None,
    costs: np.ndarray | None,
    budget: float,
) -> list[int]:
    """Check a budget run: one phase of at most ``sets`` (default: any number) sites."""
    if costs is None:
        raise OptionError("--budget", "needs a site cost column (--cost-column)")
    if phases:
        raise OptionError("--phases", "cannot be combined with --budget: plan one budget")
    cheapest = float(np.min(costs)) if costs.size else np.inf
    if not np.isfinite(budget) or budget < cheapest:
        raise OptionError(
            "--budget", f"{budget:g} is below the cheapest site ({cheapest:g}): raise it"
        )
    return [m] if sets is None else phase_sizes(sets, None)


@dataclass(frozen=True)
class _Context:
    """What every phase improvement needs (internal)."""

    problem: CoverageProblem
    eligible: np.ndarray
    costs: np.ndarray | None
    budget: float | None
    conflicts: sparse.csr_array | None
    local_search: bool
    exact: Exact
    time_limit: float
    stats: dict[str, object]
    timings: dict[str, float]
    online: OnlineBound
    progress: Progress | None


def _improve_phases(
    ctx: _Context,
    base: GreedyState,
    ends: Sequence[int],
    *,
    greedy_end: GreedyState | None = None,
) -> GreedyState:
    """From ``base``, each phase: greedy to its end, swaps, exact solving, ranking.

    ``greedy_end`` is plain greedy's state at the first phase's end, when plain greedy
    ran on from ``base``: greedy is deterministic, so it stands in for re-running it.
    """
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
                costs=ctx.costs,
                budget=ctx.budget,
                conflicts=ctx.conflicts,
            )
        movable = list(range(len(before.chosen), len(state.chosen)))
        t1 = time.perf_counter()
        if ctx.local_search and movable:
            res = swap_search(
                ctx.problem,
                state,
                movable,
                eligible=ctx.eligible,
                conflicts=ctx.conflicts,
                costs=ctx.costs,
                budget=ctx.budget,
            )
            ctx.stats["swaps"] = int(ctx.stats["swaps"]) + res.swaps  # type: ignore[call-overload]
            _refresh_available(state, ctx.eligible, ctx.conflicts)
        t2 = time.perf_counter()
        state = _maybe_exact(ctx, before, state, count=end - len(before.chosen))
        t3 = time.perf_counter()
        state = _rerank(ctx.problem, before, state.chosen[len(before.chosen) :])
        _refresh_available(state, ctx.eligible, ctx.conflicts)
        ctx.online.observe(state)
        ctx.timings["local_search"] = ctx.timings.get("local_search", 0.0) + t2 - t1
        ctx.timings["exact"] = ctx.timings.get("exact", 0.0) + t3 - t2
        if ctx.progress is not None:
            ctx.progress("phases", t + 1, len(ends))
    return state


def _matches_greedy(ours: np.ndarray, theirs: np.ndarray, ends: Sequence[int]) -> bool:
    """True when curve ``ours`` reaches plain greedy's ``theirs`` at every phase end."""
    tol = 1e-9 * max(float(theirs[-1]), 1.0)
    for end in ends:
        if ours[min(end, len(ours) - 1)] < theirs[min(end, len(theirs) - 1)] - tol:
            return False
    return ours[-1] >= theirs[-1] - tol


def _curve(problem: CoverageProblem, state: GreedyState) -> np.ndarray:
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


def _best_single_site(
    problem: CoverageProblem,
    start: GreedyState,
    greedy: GreedyState,
    costs: np.ndarray,
    budget: float,
    conflicts: sparse.csr_array | None,
) -> GreedyState:
    """Cost-benefit greedy or the best affordable single site, whichever covers more."""
    gains = all_gains(problem, start.best)
    affordable = start.available & (start.spent + costs <= budget)
    if not affordable.any():
        return greedy
    gains = np.where(affordable, gains, -np.inf)
    j = int(np.argmax(gains))
    if problem.value(start.best) + gains[j] > problem.value(greedy.best):
        single = start.copy()
        pick(problem, single, j, cost=float(costs[j]), conflicts=conflicts)
        return single
    return greedy


def _maybe_exact(
    ctx: _Context, before: GreedyState, state: GreedyState, *, count: int
) -> GreedyState:
    """Replace the phase by the MIP optimum (earlier phases fixed) when it covers more.

    ``count`` is the phase's size as asked, not the number of sites greedy placed
    (spacing or saturation can stop greedy early; the MIP may still place more).
    """
    problem = ctx.problem
    if ctx.exact == "never" or not problem.binary or ctx.costs is not None:
        return state
    if ctx.exact == "auto" and not _worth_solving(ctx, before, state, count):
        return state
    res = solve_mclp(
        problem,
        count=count,
        fixed=before.chosen,
        eligible=ctx.eligible,
        integral=True,
        conflicts=ctx.conflicts,
        time_limit=ctx.time_limit,
    )
    ctx.stats["exact_phases"] = int(ctx.stats["exact_phases"]) + 1  # type: ignore[call-overload]
    ctx.stats["mip_status"] = res.status
    ctx.stats["mip_optimal"] = res.optimal
    ctx.stats["mip_bound"] = res.upper_bound
    if not np.isfinite(res.value) or res.value <= problem.value(state.best) * (1 + 1e-12):
        return state
    improved = before.copy()
    for j in res.chosen[len(before.chosen) :]:
        pick(problem, improved, j, conflicts=ctx.conflicts)
    return improved


def _worth_solving(ctx: _Context, before: GreedyState, state: GreedyState, count: int) -> bool:
    """Auto mode: solve small phases exactly, mid-sized ones only when a gap is left."""
    size = reduced_size(ctx.problem, before.chosen, ctx.eligible)
    if size <= AUTO_EXACT_NNZ:
        return True
    if size > AUTO_EXACT_GAP_NNZ:
        return False
    value = ctx.problem.value(state.best)
    bound = lagrangian_bound(
        ctx.problem,
        count=count,
        fixed=before.chosen,
        eligible=ctx.eligible,
        lower=value,
        start=ctx.problem.weights * (1.0 - state.best),
        iterations=lagrangian_steps(ctx.problem.csc.nnz) // 2,
    )
    return value < (1.0 - AUTO_EXACT_GAP) * bound


def _certificate(
    problem: CoverageProblem,
    state: GreedyState,
    online: float,
    exact: Exact,
    time_limit: float,
    *,
    n_fixed: int,
    forced: Sequence[int],
    eligible: np.ndarray,
    costs: np.ndarray | None,
    budget: float | None,
    budgets: Sequence[float],
    single_phase: bool,
    stats: dict[str, object],
) -> tuple[float, str, bool]:
    """The tightest bound we can prove for the whole budget, and how."""
    covered = problem.value(state.best)
    bound, method = float(online), "online-submodular"
    if single_phase and np.isfinite(float(stats.get("mip_bound", np.inf))):  # type: ignore[arg-type]
        mip_bound = float(stats["mip_bound"])  # type: ignore[arg-type]
        if mip_bound < bound:
            bound, method = mip_bound, "mip"
    tol = PROVEN_TOLERANCE * max(covered, 1.0)
    if problem.binary and costs is None and bound - covered > tol:
        lagrange = lagrangian_bound(
            problem,
            count=int(budgets[-1]),
            fixed=forced,
            eligible=eligible,
            lower=covered,
            start=problem.weights * (1.0 - state.best),
        )
        if lagrange < bound:
            bound, method = lagrange, "lagrangian"
    want_lp = problem.binary and exact != "never" and bound - covered > tol
    if want_lp and (exact == "always" or reduced_size(problem, forced, eligible) <= AUTO_LP_NNZ):
        count = budgets[-1]
        lp = solve_mclp(
            problem,
            count=count,
            fixed=forced,
            eligible=eligible,
            costs=costs,
            time_limit=time_limit,
        )
        stats["lp_status"] = lp.status
        if lp.upper_bound < bound:
            bound, method = lp.upper_bound, "lp-relaxation"
    return max(bound, covered), method, bound - covered <= tol
