"""The maximal covering LP and MIP with HiGHS, on the instance reduced to what is still open.

:func:`reduce_instance` drops the demand points the fixed sites already cover and those
no free site sees, and merges points seen by the same free sites (their weights summed);
:func:`solve_mclp` solves the LP relaxation (a bound, Church & ReVelle 1974) or the MIP
(whose dual bound is a certificate too) of what is left with HiGHS through
:mod:`scipy.optimize`, and :func:`mclp_constraints` gives its rows to other solvers
(:mod:`planner.solver.exact`, :mod:`planner.solver.windows`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

from planner.solver.lp import LPSolution, lp_support, solve_lp
from planner.solver.presolve import merge_rows
from planner.solver.problem import CoverageProblem

if TYPE_CHECKING:  # scipy.optimize is imported by the functions that solve (start-up)
    from scipy import optimize

__all__ = [
    "MCLPResult",
    "Reduced",
    "mclp_constraints",
    "reduce_instance",
    "reduced_size",
    "solve_mclp",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MCLPResult:
    """An LP or MIP solution of the reduced maximal covering problem.

    Attributes
    ----------
    upper_bound
        Proven bound on the covered weight (LP value, or MIP dual bound).
    value
        Covered weight of the integer solution (MIP only, else ``nan``).
    chosen
        Site indices of the integer solution, fixed sites first (MIP only).
    optimal
        The solver proved optimality (of the LP, or of the MIP).
    status
        The solver's message.
    support
        LP only: the free sites with a positive value, largest value first (ties: lower
        index), a guide for rounding.
    """

    upper_bound: float
    value: float
    chosen: tuple[int, ...]
    optimal: bool
    status: str
    support: tuple[int, ...] = ()


@dataclass(frozen=True)
class Reduced:
    """What is still open once the fixed sites are in: groups of demand points and free sites."""

    constant: float  # weight covered by the fixed sites and the baseline
    columns: np.ndarray  # original indices of the free sites kept
    group_weight: np.ndarray  # weight of each group of identical demand rows
    group_cover: sparse.csr_array  # groups x kept columns (binary)

    def covered(self, x: np.ndarray) -> float:
        """Covered weight of the 0/1 column vector ``x``, the constant included."""
        hit = self.group_cover @ x > 0.5
        return self.constant + float(self.group_weight[hit].sum())


def reduce_instance(
    problem: CoverageProblem, fixed: Sequence[int], eligible: np.ndarray
) -> Reduced:
    """Drop covered and unreachable points, merge points seen by the same sites."""
    best = problem.best_quality(np.asarray(fixed, dtype=np.int64))
    constant = problem.value(best)
    free = eligible.copy()
    free[np.asarray(fixed, dtype=np.int64)] = False
    rows = np.flatnonzero((best < 1.0) & (problem.weights > 0))
    sub = problem.csr[rows][:, np.flatnonzero(free)]
    sub = sparse.csr_array(sub)
    sub.sort_indices()
    used = np.flatnonzero(np.diff(sparse.csc_array(sub).indptr) > 0)
    sub = sparse.csr_array(sub[:, used])
    sub.sort_indices()
    columns = np.flatnonzero(free)[used]
    keep = np.flatnonzero(np.diff(sub.indptr) > 0)
    sub = sparse.csr_array(sub[keep])
    weights = problem.weights[rows][keep]
    leaders, _, group_weight = merge_rows(sub, weights, np.zeros(sub.shape[0]))
    group_cover = sparse.csr_array(sub[leaders])
    group_cover.data[:] = 1.0
    return Reduced(constant, columns, group_weight, group_cover)


def reduced_size(problem: CoverageProblem, fixed: Sequence[int], eligible: np.ndarray) -> int:
    """Non-zeros of the reduced instance: a proxy for the LP/MIP solve time."""
    best = problem.best_quality(np.asarray(fixed, dtype=np.int64))
    rows = (best < 1.0) & (problem.weights > 0)
    return int(np.count_nonzero(rows[problem.csc.indices] & eligible[problem.entry_columns]))


def solve_mclp(
    problem: CoverageProblem,
    *,
    count: float,
    fixed: Sequence[int] = (),
    eligible: np.ndarray,
    costs: np.ndarray | None = None,
    integral: bool = False,
    conflicts: sparse.csr_array | None = None,
    time_limit: float = 60.0,
) -> MCLPResult:
    """Solve the LP relaxation (or the MIP) of binary maximal coverage with HiGHS.

    Maximise ``sum_g W_g y_g`` subject to ``y_g <= sum_{j in N(g)} x_j``,
    ``sum_j x_j <= count`` (or ``sum_j c_j x_j <= count`` with costs),
    ``0 <= x, y <= 1`` (``x`` integral for the MIP), plus ``x_j + x_k <= 1``
    for sites closer than the minimum spacing (MIP only; the LP without them
    is still an upper bound).

    Parameters
    ----------
    count
        Sites (or cost) that may be added beyond ``fixed``.
    fixed
        Sites already in every plan (earlier phases, forced sites).
    """
    from scipy import optimize

    fixed = [int(j) for j in fixed]
    red = reduce_instance(problem, fixed, eligible)
    n_groups, n_cols = red.group_cover.shape
    if n_groups == 0 or n_cols == 0 or count <= 0:
        return MCLPResult(red.constant, red.constant, tuple(fixed), True, "nothing to add")
    constraints = mclp_constraints(red, count, costs, conflicts if integral else None)
    objective = np.concatenate([np.zeros(n_cols), -red.group_weight])
    if not integral:
        lp, message = solve_lp(objective, constraints.A, constraints.ub, (0.0, 1.0), time_limit)
        return _lp_result(lp, message, red)
    res = optimize.milp(
        objective,
        constraints=constraints,
        bounds=optimize.Bounds(0.0, 1.0),
        integrality=np.concatenate([np.ones(n_cols), np.zeros(n_groups)]),
        options={"time_limit": float(time_limit), "disp": False, "mip_rel_gap": 1e-8},
    )
    logger.info("HiGHS MIP: %s", res.message)
    return _mclp_result(res, red, fixed)


def mclp_constraints(
    red: Reduced, count: float, costs: np.ndarray | None, conflicts: sparse.csr_array | None
) -> optimize.LinearConstraint:
    """``y_g - sum x_j <= 0``, the count (or cost) row, and spacing pairs when given."""
    from scipy import optimize

    n_groups, n_cols = red.group_cover.shape
    # variables: x (n_cols), then y (n_groups)
    link = sparse.hstack([-red.group_cover, sparse.identity(n_groups, format="csr")], format="csr")
    c_row = np.ones(n_cols) if costs is None else costs[red.columns]
    budget_row = sparse.csr_array(np.concatenate([c_row, np.zeros(n_groups)])[None, :])
    blocks = [link, budget_row]
    upper = [np.zeros(n_groups), np.array([float(count)])]
    if conflicts is not None:
        pairs = _conflict_rows(conflicts, red.columns, n_groups)
        if pairs is not None:
            blocks.append(pairs)
            upper.append(np.ones(pairs.shape[0]))
    a_ub = sparse.vstack(blocks, format="csr")
    return optimize.LinearConstraint(a_ub, -np.inf, np.concatenate(upper))


def _lp_result(lp: LPSolution | None, message: str, red: Reduced) -> MCLPResult:
    """The LP's optimum as a bound; an unfinished LP bounds nothing."""
    if lp is None:
        return MCLPResult(np.inf, np.nan, (), False, message)
    support = lp_support(lp.x[: red.group_cover.shape[1]], red.columns, 1e-9)
    return MCLPResult(red.constant - lp.fun, np.nan, (), True, message, support)


def _mclp_result(res: optimize.OptimizeResult, red: Reduced, fixed: list[int]) -> MCLPResult:
    """HiGHS's MIP answer as a bound and a plan."""
    n_cols = red.group_cover.shape[1]
    optimal = res.status == 0
    dual = getattr(res, "mip_dual_bound", None)
    bound = red.constant - dual if dual is not None and np.isfinite(dual) else np.inf
    if res.x is None:
        return MCLPResult(bound, np.nan, (), False, res.message)
    picked = red.columns[np.flatnonzero(res.x[:n_cols] > 0.5)]
    value = red.constant - res.fun
    if optimal and not np.isfinite(bound):
        bound = value
    return MCLPResult(bound, value, (*fixed, *picked.tolist()), optimal, res.message)


def _conflict_rows(
    conflicts: sparse.csr_array, columns: np.ndarray, n_groups: int
) -> sparse.csr_array | None:
    sub = sparse.triu(sparse.csr_array(conflicts)[columns][:, columns], k=1).tocoo()
    if sub.nnz == 0:
        return None
    k = sub.nnz
    rows = np.repeat(np.arange(k), 2)
    cols = np.column_stack([sub.row, sub.col]).ravel()
    return sparse.csr_array((np.ones(2 * k), (rows, cols)), shape=(k, len(columns) + n_groups))
