"""Phases of a camera-set run: plain greedy with its checkpoints, then per-phase improvement.

As in :mod:`planner.solver.optimise`: every phase is improved with the earlier
phases fixed (local search, then the exact MIP when the instance is small);
should that leave a later phase below plain greedy, improvement restarts from a
later phase, and plain greedy is the last resort, so every phase end covers at
least what plain greedy covers.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from typing import Any, Protocol, cast

import numpy as np

from planner.solver.constraints import Constraints, SolverOptions
from planner.solver.phases import Progress, _matches_greedy
from planner.solver.problem import CoverageProblem
from planner.solver.sets import MountRules, SetLayout, SetState, set_greedy
from planner.solver.sets_mip import SetLimits, solve_sets
from planner.solver.sets_search import pair_moves, search_sets
from planner.solver.sets_state import add_set, best_configuration, curve_of, rerank

__all__ = ["AUTO_EXACT_SET_NNZ", "improve_all", "observe_points"]

logger = logging.getLogger(__name__)

#: Instances up to this many camera-point pairs get the LP bound and the exact MIP (auto).
AUTO_EXACT_SET_NNZ = 30_000


class _Bound(Protocol):
    def observe(self, state: SetState) -> None: ...


class _Run(Protocol):
    @property
    def problem(self) -> CoverageProblem: ...
    @property
    def layout(self) -> SetLayout: ...
    @property
    def constraints(self) -> Constraints: ...
    @property
    def solver(self) -> SolverOptions: ...
    @property
    def eligible(self) -> np.ndarray: ...
    @property
    def bound(self) -> _Bound: ...
    @property
    def stats(self) -> dict[str, Any]: ...
    @property
    def timings(self) -> dict[str, float]: ...
    @property
    def progress(self) -> Progress | None: ...


def rules(run: _Run) -> MountRules:
    """The run's mount rules (eligible, spacing, costs, budget)."""
    rule = run.constraints
    return MountRules(run.eligible, rule.conflicts, rule.costs, rule.budget)


def _checkpoints(total: int, ends: Sequence[int]) -> frozenset[int]:
    powers = {1 << k for k in range(10, int(np.log2(max(total, 1))) + 1)}
    return frozenset({*powers, *ends, total})


def observe_points(
    run: _Run, start: SetState, ends: list[int]
) -> tuple[SetState, dict[int, SetState]]:
    """Plain greedy over the whole budget, observed for the bound; snapshots at phase ends."""
    snapshots: dict[int, SetState] = {}

    def observe(state: SetState) -> None:
        run.bound.observe(state)
        snapshots[len(state.chosen)] = state.copy()

    run.bound.observe(start)
    plain = set_greedy(run.problem, run.layout, start.copy(), ends[-1] - len(start.chosen),
                       rules(run), observe=observe, observe_at=_checkpoints(ends[-1], ends))
    if run.constraints.budget is not None:
        plain = _best_single(run, start, plain)
    run.bound.observe(plain)
    return plain, snapshots


def _best_single(run: _Run, start: SetState, greedy: SetState) -> SetState:
    """Cost-benefit greedy or the best affordable single set, whichever covers more."""
    problem = run.problem
    # Only with a budget, which needs costs (``grouped._sizes`` raises without them).
    costs, budget = cast(np.ndarray, run.constraints.costs), cast(float, run.constraints.budget)
    affordable = np.flatnonzero(start.available & (start.spent + costs <= budget))
    best_gain, best_j = 0.0, -1
    best_pans: tuple[int, ...] = ()
    for j in affordable.tolist():
        gain, pans = best_configuration(problem, run.layout, start.best, j)
        if gain > best_gain:
            best_gain, best_j, best_pans = gain, j, pans
    if best_j >= 0 and problem.value(start.best) + best_gain > problem.value(greedy.best):
        single = start.copy()
        add_set(problem, run.layout, single, best_j, best_pans, cost=float(costs[best_j]),
                conflicts=run.constraints.conflicts)
        return single
    return greedy


def improve_all(run: _Run, start: SetState, plain: SetState, greedy_curve: np.ndarray,
                snapshots: dict[int, SetState], ends: list[int]) -> tuple[SetState, np.ndarray]:
    """Improve every phase; fall back as the module says. Returns the state and its curve."""
    if not run.solver.local_search and run.solver.exact == "never":
        return plain, greedy_curve
    for first in range(1, len(ends) + 1):
        base = start if first == 1 else snapshots.get(ends[first - 2])
        if base is None:  # greedy stopped before this phase: nothing left to improve
            break
        state = _improve(run, base, ends[first - 1:], snapshots.get(ends[first - 1]))
        curve = curve_of(run.problem, run.layout, state)
        if _matches_greedy(curve, greedy_curve, ends):
            run.stats["first_improved_phase"] = first
            return state, curve
        logger.info("improving from phase %d fell below plain greedy; retrying", first)
    run.stats["first_improved_phase"] = len(ends) + 1
    return plain, greedy_curve


def refresh(run: _Run, state: SetState) -> None:
    """Recompute the available mounts and the spending of ``state`` from its sets."""
    conflicts = run.constraints.conflicts
    state.available = run.eligible.copy()
    state.available[state.chosen] = False
    if conflicts is not None and state.chosen:
        near = conflicts[np.asarray(state.chosen)].indices
        state.available[near] = False
    costs = run.constraints.costs
    state.spent = float(len(state.chosen)) if costs is None else float(
        np.sum(costs[np.asarray(state.chosen, dtype=np.int64)]))


def _improve(
    run: _Run, base: SetState, ends: Sequence[int], greedy_end: SetState | None
) -> SetState:
    """From ``base``, each phase: greedy to its end, local search, exact solving, ranking."""
    problem, layout = run.problem, run.layout
    state = base.copy()
    for t, end in enumerate(ends):
        before = state.copy()
        if t == 0 and greedy_end is not None:
            state = greedy_end.copy()
        else:
            set_greedy(problem, layout, state, end - len(state.chosen), rules(run))
        t1 = time.perf_counter()
        changed = False
        if run.solver.local_search and len(state.chosen) > len(before.chosen):
            moves = search_sets(problem, layout, state, first=len(before.chosen),
                                rules=rules(run))
            run.stats["swaps"] += moves.moved
            run.stats["reorientations"] += moves.reoriented
            run.stats["search_passes"] = run.stats.get("search_passes", 0) + moves.passes
            changed = moves.moved + moves.reoriented > 0
            if layout.exact:  # small: pairs of sets may move together
                pairs = pair_moves(problem, layout, state, first=len(before.chosen),
                                   rules=rules(run))
                run.stats["swaps"] += pairs
                changed = changed or pairs > 0
        t2 = time.perf_counter()
        exact = _exact_phase(run, before, state, count=end - len(before.chosen),
                             whole=len(ends) == 1 and not base.chosen)
        if exact is not None:
            state, changed = exact, True
        if changed:
            phase_sets = list(zip(state.chosen[len(before.chosen):],
                                  state.pans[len(before.chosen):], strict=True))
            state = rerank(problem, layout, before, phase_sets)
        refresh(run, state)
        run.bound.observe(state)
        run.timings["local_search"] = run.timings.get("local_search", 0.0) + t2 - t1
        run.timings["exact"] = run.timings.get("exact", 0.0) + time.perf_counter() - t2
        if run.progress is not None:
            run.progress("phases", t + 1, len(ends))
    return state


def _exact_phase(run: _Run, before: SetState, state: SetState, *, count: int, whole: bool
                 ) -> SetState | None:
    """The phase solved by the MIP (earlier sets fixed) when small enough and better."""
    problem, opts, rule = run.problem, run.solver, run.constraints
    if opts.exact == "never" or (opts.exact == "auto"
                                 and problem.csc.nnz > AUTO_EXACT_SET_NNZ):
        return None
    sub = dataclasses.replace(problem, baseline=before.best.copy())
    remaining = count if rule.budget is None else rule.budget - before.spent
    limits = SetLimits(remaining, (), run.eligible & before.available, rule.costs,
                       rule.conflicts)
    res = solve_sets(sub, run.layout, limits, integral=True, time_limit=opts.time_limit)
    run.stats["exact_phases"] += 1
    run.stats["mip_status"] = res.status
    run.stats["mip_optimal"] = res.optimal
    if whole:
        run.stats["mip_bound"] = res.upper_bound
        run.stats["mip_whole_plan"] = True
    if not np.isfinite(res.value) or res.value <= problem.value(state.best) * (1 + 1e-12):
        return None
    improved = before.copy()
    for j, pans in zip(res.mounts, res.pans, strict=True):
        add_set(problem, run.layout, improved, j, pans, conflicts=rule.conflicts,
                cost=1.0 if rule.costs is None else float(rule.costs[j]))
    return improved
