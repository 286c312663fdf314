"""Exact solving of one phase, guided by the LP relaxation (binary coverage, no costs).

The LP relaxation gives a bound, reduced costs and the sites it uses (which guide the
iterated swap search of :mod:`planner.solver.perturb` in between); reduced-cost fixing
(sound: a site whose reduced cost puts every plan holding it at or below the incumbent
is left out, and one whose removal would do the same is kept) shrinks the MIP, which
HiGHS then solves with the incumbent's value as a cut-off under a node limit, when the
instance is small enough for its root node to be quick. Where it is not, the LP's
neighbourhood (RENS, Berthold 2014) can be searched (:func:`phase_neighbourhood`): sites at
1 in the LP kept, sites at 0 left out, and HiGHS's root node (presolve, cuts, its
heuristics) run on the sites the LP splits, for a plan only (its bound holds for that
neighbourhood, not the phase). Work is
bounded by node counts, so a plan does not depend on the machine's load; the clock is only
a safety net, and a solve it stops contributes nothing.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

from planner.solver.lp import lp_support, solve_lp
from planner.solver.mclp import MCLPResult, Reduced, mclp_constraints, reduce_instance
from planner.solver.problem import CoverageProblem

if TYPE_CHECKING:  # scipy.optimize is imported by the functions that solve (start-up)
    from scipy import optimize

__all__ = [
    "RENS_COLUMNS",
    "ExactLimits",
    "PhaseLP",
    "improve_reduced",
    "phase_lp",
    "phase_mip",
    "phase_neighbourhood",
    "solve_phase",
]

logger = logging.getLogger(__name__)

#: LP values within this distance of 0 or 1 count as 0 or 1.
_EPS = 1e-6
#: Relative margin kept by reduced-cost fixing against the LP's tolerances.
_FIX_MARGIN = 1e-6
#: Plans within this relative distance of the bound are optimal.
_TOLERANCE = 1e-7
#: The LP's neighbourhood is searched when it splits at most this many sites (at the Hong
#: Kong scenario's first phase, 2,963 split sites take HiGHS's root node 13-17 s).
RENS_COLUMNS = 5_000


@dataclass(frozen=True)
class ExactLimits:
    """How much work exact solving may do.

    Attributes
    ----------
    nodes
        Branch-and-bound nodes each HiGHS MIP solve may explore (deterministic).
    time_limit
        Seconds allowed to each HiGHS solve: a safety net, not the budget.
    mip_nnz, mip_rows
        A (sub-)instance goes to HiGHS's MIP when it has at most ``mip_nnz`` coverage
        pairs or at most ``mip_rows`` groups of demand points: HiGHS's root node (cuts,
        heuristics, strong branching) is not bounded by the node limit, and grows with
        both (measured: 800 rows x 130,000 pairs and 2,700 x 20,000 take seconds,
        3,900 x 65,000 minutes).
    """

    nodes: int = 1000
    time_limit: float = 30.0
    mip_nnz: int = 40_000
    mip_rows: int = 1_000


@dataclass
class _Search:
    """The reduced instance, its MIP constraints and the best plan so far (reduced columns)."""

    red: Reduced
    count: float
    constraints: optimize.LinearConstraint
    limits: ExactLimits
    best: np.ndarray  # 0/1 over the reduced columns
    value: float  # covered weight of ``best``, the constant included
    improved: bool = False  # ``best`` is no longer the incumbent


@dataclass
class PhaseLP:
    """The LP relaxation of a phase, its bound and reduced costs (:func:`phase_lp`)."""

    problem: CoverageProblem
    fixed: list[int]
    eligible: np.ndarray  # eligible and not too close to a fixed site
    conflicts: sparse.csr_array | None
    search: _Search
    x: np.ndarray | None = None  # LP values of the reduced columns; None: no LP optimum
    bound: float = np.inf
    low: np.ndarray | None = None  # reduced costs at the lower bound (>= 0)
    up: np.ndarray | None = None  # reduced costs at the upper bound (<= 0)
    too_large: bool = False  # phase_mip found the MIP too large for HiGHS

    @property
    def support(self) -> tuple[int, ...]:
        """Sites the LP uses, largest value first (ties: lower index)."""
        if self.x is None:
            return ()
        return lp_support(self.x, self.search.red.columns, _EPS)


def phase_lp(
    problem: CoverageProblem,
    *,
    count: int,
    fixed: Sequence[int],
    eligible: np.ndarray,
    conflicts: sparse.csr_array | None = None,
    limits: ExactLimits = ExactLimits(),
) -> PhaseLP:
    """The phase's reduced instance (``count`` sites beyond ``fixed``) and its LP relaxation."""
    fixed = [int(j) for j in fixed]
    if conflicts is not None and fixed:  # too close to a fixed site
        near = np.asarray(sparse.csr_array(conflicts)[fixed].sum(axis=0)).ravel() > 0
        eligible = eligible & ~near
    red = reduce_instance(problem, fixed, eligible)
    n_cols = red.group_cover.shape[1]
    cons = mclp_constraints(red, count, None, conflicts)
    search = _Search(red, count, cons, limits, np.zeros(n_cols), red.constant)
    lp = PhaseLP(problem, fixed, eligible, conflicts, search)
    if red.group_cover.shape[0] == 0 or n_cols == 0 or count <= 0:
        lp.bound = red.constant
        return lp
    solved = _solve_lp(search)
    if solved is not None:
        lp.x, lp.bound, lp.low, lp.up = solved
    return lp


def solve_phase(
    problem: CoverageProblem,
    *,
    count: int,
    fixed: Sequence[int],
    incumbent: Sequence[int],
    eligible: np.ndarray,
    conflicts: sparse.csr_array | None = None,
    limits: ExactLimits = ExactLimits(),
) -> MCLPResult:
    """The best plan found beyond ``fixed`` (at most ``count`` more sites) and a proven bound.

    ``incumbent`` (the sites of a known plan beyond ``fixed``) is the start: the result
    covers at least as much. ``chosen`` lists ``fixed`` first, then the phase's sites.
    """
    lp = phase_lp(problem, count=count, fixed=fixed, eligible=eligible, conflicts=conflicts,
                  limits=limits)  # fmt: skip
    return phase_mip(lp, incumbent)


def phase_mip(lp: PhaseLP, incumbent: Sequence[int]) -> MCLPResult:
    """From the plan ``incumbent`` (sites beyond the fixed ones): fixing, the MIP, sub-MIPs."""
    search, fixed = lp.search, lp.fixed
    _start_from(search, incumbent)
    n_cols = search.red.group_cover.shape[1]
    if n_cols == 0 or search.count <= 0:
        return _result(search, fixed, incumbent, lp.bound, True, "nothing to add")
    if lp.x is None or lp.low is None or lp.up is None:
        return _result(search, fixed, incumbent, np.inf, False, "LP not solved")
    bound = lp.bound
    if bound - search.value <= _TOLERANCE * max(bound, 1.0):
        return _result(search, fixed, incumbent, bound, True, "LP bound met")
    zero, one = _fixings(bound, lp.x, lp.low, lp.up, search.value)
    msg = f"LP-fixed {int(zero.sum())} out, {int(one.sum())} in of {n_cols}"
    optimal = False
    if _fits(search.red.group_cover[:, ~zero], search.limits):
        status, mip_bound, optimal = _mip(search, zero, one)
        bound = min(bound, max(mip_bound, search.value))
        msg += f"; MIP: {status}"
    else:
        msg += "; MIP skipped (too large)"
        lp.too_large = True
    optimal = optimal or bound - search.value <= _TOLERANCE * max(bound, 1.0)
    logger.info("exact phase: %s; plan %.6g, bound %.6g", msg, search.value, bound)
    return _result(search, fixed, incumbent, bound, optimal, msg)


def improve_reduced(
    red: Reduced,
    count: int,
    incumbent: np.ndarray,
    *,
    conflicts: sparse.csr_array | None,
    limits: ExactLimits,
) -> np.ndarray | None:
    """A placement of ``count`` sites covering more than ``incumbent``, or None.

    ``incumbent`` is 0/1 over ``red``'s columns; HiGHS's MIP runs with its value as the
    cut-off, under ``limits``.
    """
    if red.group_cover.shape[0] == 0 or count <= 0:
        return None
    cons = mclp_constraints(red, count, None, conflicts)
    search = _Search(red, count, cons, limits, incumbent, red.covered(incumbent))
    n_cols = red.group_cover.shape[1]
    _mip(search, np.zeros(n_cols, dtype=bool), np.zeros(n_cols, dtype=bool))
    return search.best if search.improved else None


def phase_neighbourhood(lp: PhaseLP, incumbent: Sequence[int]) -> tuple[int, ...] | None:
    """A plan beating ``incumbent`` (sites beyond the fixed ones) in the LP's neighbourhood.

    RENS (Berthold 2014): the sites at 1 in the LP kept, those at 0 left out, HiGHS's root
    node (one node: presolve, cuts, its heuristics) on the sites the LP splits, at most
    RENS_COLUMNS of them, with the incumbent's value as the cut-off. Only for a phase
    whose MIP :func:`phase_mip` found too large; returns the whole plan (fixed sites
    first), or None.
    """
    search, x = lp.search, lp.x
    if not lp.too_large or x is None or search.count <= 0:
        return None
    split = int(np.count_nonzero((x > _EPS) & (x < 1.0 - _EPS)))
    if split > RENS_COLUMNS:  # (none split: the LP's own plan, optimal)
        logger.info("LP neighbourhood not searched: %d split sites", split)
        return None
    _start_from(search, incumbent)
    limits, search.limits = search.limits, replace(search.limits, nodes=1)
    try:
        status, _, _ = _mip(search, x <= _EPS, x >= 1.0 - _EPS)
    finally:
        search.limits = limits
    logger.info("LP neighbourhood (%d split sites): %s; plan %.6g", split, status, search.value)
    return (*lp.fixed, *_picked(search)) if search.improved else None


def _start_from(search: _Search, incumbent: Sequence[int]) -> None:
    """Make the plan ``incumbent`` (sites beyond the fixed ones) the search's best."""
    search.best = np.isin(search.red.columns, np.asarray(incumbent, dtype=np.int64)).astype(float)
    search.value, search.improved = search.red.covered(search.best), False


def _picked(search: _Search) -> list[int]:
    """The sites of the search's best plan (beyond the fixed ones), in original indices."""
    picked: list[int] = search.red.columns[np.flatnonzero(search.best > 0.5)].tolist()
    return picked


def _fixings(
    bound: float, x: np.ndarray, low: np.ndarray, up: np.ndarray, value: float
) -> tuple[np.ndarray, np.ndarray]:
    """Reduced-cost fixing against a plan covering ``value``: columns left out, kept.

    A plan holding (lacking) a column at 0 (at 1) in the LP covers at most the bound
    less that column's reduced cost; where that is no more than ``value``, no better plan
    holds (lacks) it. A margin absorbs the LP's tolerances.
    """
    floor = value - _FIX_MARGIN * max(bound, 1.0)
    zero = (x <= _EPS) & (bound - low <= floor)
    one = (x >= 1.0 - _EPS) & (bound + up <= floor)
    return zero, one


def _result(
    search: _Search,
    fixed: list[int],
    incumbent: Sequence[int],
    bound: float,
    optimal: bool,
    status: str,
) -> MCLPResult:
    """The search's best plan in original site indices (the incumbent when nothing beat it)."""
    chosen = (*fixed, *_picked(search)) if search.improved else (*fixed, *incumbent)
    return MCLPResult(max(bound, search.value), search.value, tuple(chosen), optimal, status)


def _solve_lp(search: _Search) -> tuple[np.ndarray, float, np.ndarray, np.ndarray] | None:
    """LP solution, bound and reduced costs (at the lower bound, at the upper bound)."""
    red, n_cols = search.red, search.red.group_cover.shape[1]
    objective = np.concatenate([np.zeros(n_cols), -red.group_weight])
    constraints = search.constraints
    lp, _ = solve_lp(objective, constraints.A, constraints.ub, (0.0, 1.0),
                     search.limits.time_limit)  # fmt: skip
    if lp is None:  # solve_lp logged why
        return None
    return lp.x[:n_cols], red.constant - lp.fun, lp.low[:n_cols], lp.up[:n_cols]


def _mip(search: _Search, zero: np.ndarray, one: np.ndarray) -> tuple[str, float, bool]:
    """HiGHS on the columns not in ``zero`` (``one`` kept), cut off at the best plan's value.

    Updates the search's best plan; returns HiGHS's message, the bound it proved on
    plans respecting the fixings and whether it finished.
    """
    from scipy import optimize

    red, limits = search.red, search.limits
    n_groups, n_cols = red.group_cover.shape
    lower = np.concatenate([one.astype(np.float64), np.zeros(n_groups)])
    upper = np.concatenate([(~zero).astype(np.float64), np.ones(n_groups)])
    if lower[:n_cols].sum() > search.count:
        return "fixings infeasible", search.value, True
    options = {
        "time_limit": float(limits.time_limit),
        "node_limit": int(limits.nodes),
        "mip_rel_gap": 1e-8,
        "disp": False,
        "objective_bound": -(search.value - red.constant),  # passed to HiGHS as it is
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "passed to HiGHS verbatim"
        res = optimize.milp(
            np.concatenate([np.zeros(n_cols), -red.group_weight]),
            constraints=search.constraints,
            bounds=optimize.Bounds(lower, upper),
            integrality=np.concatenate([np.ones(n_cols), np.zeros(n_groups)]),
            options=options,
        )
    if "time limit" in str(res.message).lower():  # the safety net: nothing from this solve
        logger.warning("HiGHS stopped by time_limit (%g s), its result is not used so that the "
                       "plan does not depend on the machine's load; lower exact_nodes or raise "
                       "time_limit", limits.time_limit)  # fmt: skip
        return str(res.message), np.inf, False
    if res.x is not None:
        x = (res.x[:n_cols] > 0.5).astype(np.float64)
        value = search.red.covered(x)
        if value > search.value * (1 + 1e-12):
            search.best, search.value, search.improved = x, value, True
    if res.status == 2:  # nothing beats the cut-off: the best plan is optimal
        return str(res.message), search.value, True
    dual = getattr(res, "mip_dual_bound", None)
    proven = red.constant - dual if dual is not None and np.isfinite(dual) else np.inf
    return str(res.message), float(proven), res.status == 0


def _fits(cover: sparse.csr_array, limits: ExactLimits) -> bool:
    """Small enough for HiGHS's MIP (see :class:`ExactLimits`)."""
    rows = int(np.count_nonzero(np.diff(sparse.csr_array(cover).indptr)))
    return int(cover.nnz) <= limits.mip_nnz or rows <= limits.mip_rows
