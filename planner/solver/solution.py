"""The optimiser's frozen results: the plan on the matrix, its certificate, counters, timings."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

import numpy as np

from planner.solver.presolve import PresolveReport

__all__ = ["Solution", "SolverStats", "StageTimings"]


@dataclass(frozen=True)
class SolverStats:
    """What the optimiser did (counters and solver messages).

    Attributes
    ----------
    swaps
        Improving swaps made by local search, over all phases.
    exact_phases
        Phases handed to the MIP solver.
    windows, windows_improved
        Windows re-solved exactly (:mod:`planner.solver.windows`), and those that gained.
    first_improved_phase
        First phase improved (earlier ones kept as plain greedy left them).
    bound_evaluations
        Evaluations of the online bound.
    mip_status, mip_optimal, mip_bound
        The last MIP solve's message, whether it proved optimality, its dual bound
        (``None`` when no MIP ran).
    lp_status
        The LP relaxation's message (``None`` when it did not run).
    lp_rounding_gain
        Weight the LP-guided plan added over the swaps' plan (0: kept the latter;
        ``None``: not tried).
    """

    swaps: int = 0
    exact_phases: int = 0
    windows: int = 0
    windows_improved: int = 0
    first_improved_phase: int = 1
    bound_evaluations: int = 0
    mip_status: str | None = None
    mip_optimal: bool | None = None
    mip_bound: float | None = None
    lp_status: str | None = None
    lp_rounding_gain: float | None = None

    def as_dict(self) -> dict[str, object]:
        """The counters that apply to this run, by name (stages that did not run left out)."""
        return {f.name: v for f in fields(self) if (v := getattr(self, f.name)) is not None}


@dataclass(frozen=True)
class StageTimings:
    """Seconds spent per optimiser stage (for reports only: never used in a decision)."""

    presolve: float = 0.0
    greedy: float = 0.0
    local_search: float = 0.0
    exact: float = 0.0
    bound: float = 0.0
    windows: float = 0.0

    def as_dict(self) -> dict[str, float]:
        """Seconds by stage name."""
        return {f.name: float(getattr(self, f.name)) for f in fields(self)}


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
    phase_ends
        Cumulative number of chosen sites at the end of each phase.
    phase_bounds
        Upper bound on any plan with the cumulative number of sites of each phase.
    upper_bound, bound_method, proven_optimal
        The certificate for the whole plan.
    total_weight
        Weight of all demand points.
    stats
        What the optimiser did.
    timings
        Seconds per stage.
    phase_methods
        How each of ``phase_bounds`` was obtained (the last is ``bound_method``).
    presolve
        How much presolve shrank the instance (``None`` when it did not run).
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
    stats: SolverStats = field(default_factory=SolverStats)
    timings: StageTimings = field(default_factory=StageTimings)
    phase_methods: tuple[str, ...] = ()
    presolve: PresolveReport | None = None

    def phase_method(self, phase: int) -> str:
        """How the bound of phase ``phase`` (0-based) was obtained."""
        if phase < len(self.phase_methods):
            return self.phase_methods[phase]
        return self.bound_method if phase == len(self.phase_bounds) - 1 else "online-submodular"

    @property
    def covered_weight(self) -> float:
        """Weight the plan covers (existing cameras included)."""
        return float(self.curve[-1])

    @property
    def gap(self) -> float:
        """``(upper_bound - covered) / upper_bound``; exactly 0 for a proven optimum."""
        if self.proven_optimal or not np.isfinite(self.upper_bound) or self.upper_bound <= 0:
            return 0.0
        return max(0.0, (self.upper_bound - self.covered_weight) / self.upper_bound)

    def lifted(
        self, columns: np.ndarray, constant: float, total: float, report: PresolveReport
    ) -> Solution:
        """The solution of a presolved instance in the original's site indices and weights."""
        return replace(
            self,
            order=np.asarray(columns, dtype=np.int64)[self.order],
            curve=self.curve + constant,
            greedy_curve=self.greedy_curve + constant,
            phase_bounds=tuple(float(b) + constant for b in self.phase_bounds),
            upper_bound=self.upper_bound + constant,
            total_weight=total,
            presolve=report,
        )
