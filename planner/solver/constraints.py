"""What a plan must respect, and the solver's options.

Count or budget, phases, forced/forbidden sites and spacing, checked once and turned
into the run's starting point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy import sparse

from geodata.errors import OptionError
from planner.solver.greedy import GreedyState, pick
from planner.solver.problem import CoverageProblem

__all__ = ["Constraints", "Exact", "SolverOptions", "Start", "phase_sizes", "resolve"]

Exact = Literal["auto", "always", "never"]


@dataclass(frozen=True, eq=False)
class Constraints:
    """What every plan must respect (site indices, not ids).

    Attributes
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
    """

    sets: int | None = None
    phases: Sequence[int] | None = None
    costs: np.ndarray | None = None
    budget: float | None = None
    forced: Sequence[int] = ()
    forbidden: Sequence[int] = ()
    conflicts: sparse.csr_array | None = None


@dataclass(frozen=True)
class SolverOptions:
    """How hard the optimiser works.

    Attributes
    ----------
    local_search
        Run swap local search after greedy in each phase.
    exact
        ``"auto"`` solves the MIP when the reduced instance is small,
        ``"always"`` always (under ``time_limit``), ``"never"`` never.
    time_limit
        Seconds allowed to each HiGHS solve: a safety net (``exact_nodes`` is the budget).
    exact_nodes
        Branch-and-bound nodes each HiGHS MIP solve may explore: the deterministic budget
        of exact solving, so that a plan does not change with the machine's load.
    presolve
        Shrink the instance first (:mod:`planner.solver.presolve`); the optimum is unchanged.
    windows
        Windows (exact re-solves of a few neighbouring sites, :mod:`planner.solver.windows`)
        each phase may solve after its exact stage; ``None``: ``AUTO_WINDOWS`` where that
        stage ran and left a gap, none on instances above ``AUTO_KICK_NNZ`` pairs.
    window_size
        Chosen sites freed together in a window, at most.
    """

    local_search: bool = True
    exact: Exact = "auto"
    time_limit: float = 30.0
    presolve: bool = True
    exact_nodes: int = 1000
    windows: int | None = None
    window_size: int = 20


@dataclass(frozen=True, eq=False)
class Start:
    """The checked constraints and the state every plan starts from (forced sites picked).

    Attributes
    ----------
    ends
        Cumulative number of sites at the end of each phase.
    forced
        Forced site indices, without duplicates.
    eligible
        Sites a plan may contain (not forbidden).
    state
        Greedy state with the forced sites picked.
    budgets
        Per phase, the sites (or the cost) that may be added beyond the forced sites.
    """

    ends: tuple[int, ...]
    forced: tuple[int, ...]
    eligible: np.ndarray
    state: GreedyState
    budgets: tuple[float, ...]
    costs: np.ndarray | None
    budget: float | None
    conflicts: sparse.csr_array | None = field(default=None)

    @property
    def n_fixed(self) -> int:
        """Number of forced sites."""
        return len(self.forced)


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


def resolve(problem: CoverageProblem, constraints: Constraints) -> Start:
    """Check ``constraints`` against ``problem`` and pick the forced sites."""
    m = problem.n_sites
    c = constraints
    costs = c.costs if c.budget is not None else None
    if c.budget is None:
        sizes = phase_sizes(c.sets if c.sets is not None else 0, c.phases)
    else:
        sizes = _budget_sizes(m, c.sets, c.phases, c.costs, c.budget)
    forced = _as_indices(c.forced, m, "--forced")
    forbidden = _as_indices(c.forbidden, m, "--forbidden")
    if set(forced) & set(forbidden):
        raise OptionError("--forced", "a site is both forced and forbidden")
    if len(forced) > sizes[0]:
        raise OptionError(
            "--forced",
            f"{len(forced)} forced sites do not fit in the first "
            f"phase ({sizes[0]} sets): enlarge it or force fewer",
        )
    eligible = np.ones(m, dtype=bool)
    eligible[forbidden] = False
    ends = tuple(int(e) for e in np.cumsum(sizes))
    state = GreedyState(best=problem.baseline.copy(), available=eligible.copy())
    for j in forced:
        if not state.available[j]:
            raise OptionError(
                "--forced", f"forced site {j} is closer than --min-spacing to another"
            )
        cost = 1.0 if costs is None else float(costs[j])
        pick(problem, state, j, cost=cost, conflicts=c.conflicts)
    if c.budget is not None and state.spent > c.budget:
        raise OptionError("--budget", "the forced sites alone cost more than the budget")
    budgets = (
        tuple(float(e - len(forced)) for e in ends)
        if c.budget is None
        else (c.budget - state.spent,)
    )
    return Start(ends, tuple(forced), eligible, state, budgets, costs, c.budget, c.conflicts)


def _as_indices(sites: Sequence[int], m: int, option: str) -> list[int]:
    out = [int(j) for j in sites]
    bad = [j for j in out if not 0 <= j < m]
    if bad:
        raise OptionError(option, f"unknown site index {bad[0]}")
    return list(dict.fromkeys(out))


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
