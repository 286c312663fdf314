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
from planner.bounds import OnlineBound, reduced_size, solve_mclp
from planner.coverage import CoverageProblem
from planner.greedy import GreedyState, block_neighbours, lazy_greedy, pick
from planner.localsearch import swap_search

__all__ = ["AUTO_EXACT_NNZ", "AUTO_LP_NNZ", "Solution", "optimise", "phase_sizes"]

logger = logging.getLogger(__name__)

#: Reduced instances up to this many non-zeros get the LP bound by default.
AUTO_LP_NNZ = 400_000
#: ... and up to this many are solved exactly (MIP) by default, under the time limit.
AUTO_EXACT_NNZ = 60_000
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
    sizes = [int(p) for p in phases]
    if any(p <= 0 for p in sizes):
        raise OptionError("--phases", f"every phase needs at least one set, got {sizes}")
    if sum(sizes) > sets:
        raise OptionError(
            "--phases", f"the phases add up to {sum(sizes)}, more than --sets {sets}"
        )
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


def _rerank(
    problem: CoverageProblem, base: GreedyState, members: Sequence[int]
) -> GreedyState:
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
    if budget is not None:
        if costs is None:
            raise OptionError("--budget", "needs a site cost column (--cost-column)")
        if phases:
            raise OptionError("--phases", "cannot be combined with --budget: plan one budget")
        cheapest = float(np.min(costs)) if costs.size else np.inf
        if not np.isfinite(budget) or budget < cheapest:
            raise OptionError(
                "--budget", f"{budget:g} is below the cheapest site ({cheapest:g}): raise it"
            )
        sizes = [m] if sets is None else phase_sizes(sets, phases)
    else:
        costs = None
        sizes = phase_sizes(sets if sets is not None else 0, phases)
    forced_idx = _as_indices(forced, m, "--forced")
    forbidden_idx = _as_indices(forbidden, m, "--forbidden")
    if set(forced_idx) & set(forbidden_idx):
        raise OptionError("--forced", "a site is both forced and forbidden")
    total_count = sum(sizes)
    if len(forced_idx) > total_count:
        raise OptionError("--forced", f"{len(forced_idx)} forced sites exceed --sets {total_count}")
    eligible = np.ones(m, dtype=bool)
    eligible[forbidden_idx] = False
    ends = list(np.cumsum(sizes))

    start = GreedyState(best=problem.baseline.copy(), available=eligible.copy())
    for j in forced_idx:
        if not start.available[j]:
            raise OptionError("--forced", f"forced site {j} is closer than --min-spacing to another")
        pick(problem, start, j, cost=1.0 if costs is None else float(costs[j]), conflicts=conflicts)
    if budget is not None and start.spent > budget:
        raise OptionError("--budget", "the forced sites alone cost more than the budget")

    n_fixed = len(forced_idx)
    if budget is None:
        budgets = [max(0, e - n_fixed) for e in ends]
    else:
        budgets = [budget - start.spent]
    online = OnlineBound(problem, budgets, eligible=eligible, costs=costs)
    online.observe(start)
    marks = _checkpoints(total_count, ends)
    greedy_limit = total_count - n_fixed if budget is None else m

    # Plain greedy over the whole budget: the baseline every phase must match.
    plain = lazy_greedy(
        problem, start.copy(), count=greedy_limit, costs=costs, budget=budget,
        conflicts=conflicts, observe=online.observe, observe_at=marks,
    )
    if budget is not None:
        plain = _best_single_site(problem, start, plain, costs, budget, eligible, conflicts)
        ends = [len(plain.chosen)]
    online.observe(plain)
    timings["greedy"] = time.perf_counter() - t0
    greedy_curve = _curve(problem, start, plain)

    stats: dict[str, object] = {"swaps": 0, "exact_phases": 0}
    state = start.copy()
    phase_of: list[int] = [1] * n_fixed
    t_ls = t_exact = 0.0
    for t, end in enumerate(ends):
        before = state.copy()
        lazy_greedy(problem, state, count=end - len(state.chosen), costs=costs, budget=budget,
                    conflicts=conflicts)
        movable = list(range(len(before.chosen), len(state.chosen)))
        t1 = time.perf_counter()
        if local_search and movable:
            res = swap_search(problem, state, movable, eligible=eligible, conflicts=conflicts,
                              costs=costs, budget=budget)
            stats["swaps"] = int(stats["swaps"]) + res.swaps  # type: ignore[call-overload]
            _refresh_available(state, eligible, conflicts)
        t2 = time.perf_counter()
        t_ls += t2 - t1
        state = _maybe_exact(problem, before, state, exact, time_limit, eligible=eligible,
                             costs=costs, conflicts=conflicts, stats=stats)
        t_exact += time.perf_counter() - t2
        phase_members = state.chosen[len(before.chosen):]
        state = _rerank(problem, before, phase_members)
        _refresh_available(state, eligible, conflicts)
        phase_of += [t + 1] * (len(state.chosen) - len(phase_of))
        online.observe(state)
        if progress is not None:
            progress("phases", t + 1, len(ends))
    timings["local_search"] = t_ls
    timings["exact"] = t_exact

    t3 = time.perf_counter()
    bound, method, proven = _certificate(
        problem, state, online.bounds[-1], exact, time_limit, n_fixed=n_fixed,
        forced=forced_idx, eligible=eligible, costs=costs, budget=budget, budgets=budgets,
        single_phase=len(ends) == 1, stats=stats,
    )
    timings["bound"] = time.perf_counter() - t3
    curve = _curve(problem, start, state)
    covered = curve[-1]
    if bound < covered:  # solver tolerance: a bound is never below what a plan reaches
        bound = covered
    phase_bounds = tuple(max(float(b), float(curve[e])) for b, e in zip(
        [*online.bounds[:-1], bound], [min(e, len(curve) - 1) for e in ends], strict=True))
    stats["bound_evaluations"] = online.evaluations
    return Solution(
        order=np.asarray(state.chosen, dtype=np.int64),
        phase=np.asarray(phase_of, dtype=np.int64),
        marginal=np.diff(curve),
        curve=curve,
        greedy_curve=greedy_curve,
        phase_ends=tuple(int(e) for e in ends),
        phase_bounds=phase_bounds,
        upper_bound=float(bound),
        bound_method=method,
        proven_optimal=proven,
        total_weight=float(problem.weights.sum()),
        stats=stats,
        timings=timings,
    )


def _curve(problem: CoverageProblem, start: GreedyState, state: GreedyState) -> np.ndarray:
    """Covered weight after each pick, recomputed exactly from the qualities."""
    best = problem.baseline.copy()
    values = [problem.value(best)]
    csc = problem.csc
    for j in state.chosen:
        lo, hi = csc.indptr[j], csc.indptr[j + 1]
        rows = csc.indices[lo:hi]
        best[rows] = np.maximum(best[rows], csc.data[lo:hi])
        values.append(problem.value(best))
    return np.asarray(values)


def _best_single_site(
    problem: CoverageProblem,
    start: GreedyState,
    greedy: GreedyState,
    costs: np.ndarray,
    budget: float,
    eligible: np.ndarray,
    conflicts: sparse.csr_array | None,
) -> GreedyState:
    """Cost-benefit greedy or the best affordable single site, whichever covers more."""
    from planner.gains import all_gains

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
    problem: CoverageProblem,
    before: GreedyState,
    state: GreedyState,
    exact: Exact,
    time_limit: float,
    *,
    eligible: np.ndarray,
    costs: np.ndarray | None,
    conflicts: sparse.csr_array | None,
    stats: dict[str, object],
) -> GreedyState:
    """Replace the phase by the MIP optimum (earlier phases fixed) when it covers more."""
    if exact == "never" or not problem.binary or costs is not None:
        return state
    if exact == "auto" and reduced_size(problem, before.chosen, eligible) > AUTO_EXACT_NNZ:
        return state
    count = len(state.chosen) - len(before.chosen)
    res = solve_mclp(problem, count=count, fixed=before.chosen, eligible=eligible,
                     integral=True, conflicts=conflicts, time_limit=time_limit)
    stats["exact_phases"] = int(stats["exact_phases"]) + 1  # type: ignore[call-overload]
    stats["mip_status"] = res.status
    stats["mip_optimal"] = res.optimal
    stats["mip_bound"] = res.upper_bound
    if not np.isfinite(res.value) or res.value <= problem.value(state.best) * (1 + 1e-12):
        return state
    improved = before.copy()
    for j in res.chosen[len(before.chosen):]:
        pick(problem, improved, j, conflicts=conflicts)
    return improved


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
    want_lp = problem.binary and exact != "never" and bound - covered > tol
    if want_lp and (
        exact == "always" or reduced_size(problem, forced, eligible) <= AUTO_LP_NNZ
    ):
        count = budgets[-1] if budget is not None else len(state.chosen) - n_fixed
        lp = solve_mclp(problem, count=count, fixed=forced, eligible=eligible, costs=costs,
                        time_limit=time_limit)
        stats["lp_status"] = lp.status
        if lp.upper_bound < bound:
            bound, method = lp.upper_bound, "lp-relaxation"
    return max(bound, covered), method, bound - covered <= tol
