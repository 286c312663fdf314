"""Camera sets solved exactly (MIP) or relaxed (LP) with HiGHS: optimum and proven bounds.

Variables: ``x_c`` per configuration column ``c`` of mount ``j(c)`` (a camera
with free pans; a whole fixed-spread set otherwise), ``z_j`` per mount, and
``y_il`` per demand point ``i`` and quality level ``l``. With the distinct
qualities ``0 = t_0 < t_1 < ... < t_L`` and the baseline ``b_i``, the value of a
point is ``b_i + sum_{l: t_l > b_i} (t_l - max(t_{l-1}, b_i)) * [seen at >= t_l]``::

    max  sum_i w_i sum_l a_il y_il
    s.t. y_il <= sum_{c: q_ic >= t_l} x_c          (point i reached at level l)
         sum_{c on j} x_c <= k_j z_j,  x_c <= z_j   (k cameras, or 1 fixed-spread set)
         sum_j z_j <= count (or sum_j cost_j z_j <= budget)
         z_j = 1 for forced mounts; z_j + z_h <= 1 for mounts closer than the spacing
         0 <= x, y, z <= 1, x and z integral for the MIP

The LP relaxation (no integrality, no spacing rows) bounds every plan of the model.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

from planner.solver.lp import solve_lp
from planner.solver.problem import CoverageProblem
from planner.solver.sets import SetLayout

if TYPE_CHECKING:  # scipy.optimize is imported by the functions that solve (start-up)
    from scipy import optimize

__all__ = ["SetMIPResult", "config_matrix", "solve_sets"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SetMIPResult:
    """Bound (LP value or MIP dual bound), the plan's value and its sets (MIP only)."""

    upper_bound: float
    value: float
    mounts: tuple[int, ...]
    pans: tuple[tuple[int, ...], ...]
    optimal: bool
    status: str


def config_matrix(problem: CoverageProblem, layout: SetLayout) -> sparse.csc_array:
    """Coverage of each configuration column.

    The cameras themselves with free pans, or per
    mount and base pan the best quality over the cameras of a fixed-spread set.
    """
    if layout.spread is None:
        return problem.csc
    n_pans = layout.n_pans
    m = problem.n_sites // n_pans
    cols = np.arange(m * n_pans)
    out = None
    for off in layout.offsets():
        perm = (cols // n_pans) * n_pans + (cols % n_pans + off) % n_pans
        part = problem.csc[:, perm]
        out = part if out is None else out.maximum(part)
    return sparse.csc_array(out)


def _level_rows(
    cover: sparse.csc_array, baseline: np.ndarray, weights: np.ndarray
) -> tuple[sparse.csr_array, np.ndarray]:
    """Rows ``(point, level)`` still to win: their objective weight and their columns."""
    levels = np.unique(cover.data)
    csr = sparse.csr_array(cover)
    blocks, gains = [], []
    prev = 0.0
    for t in levels:
        need = (baseline < t) & (weights > 0)
        a = t - np.maximum(prev, baseline)
        reach = csr.copy()
        reach.data = (reach.data >= t).astype(np.float64)
        reach.eliminate_zeros()
        rows = np.flatnonzero(need & (np.diff(reach.indptr) > 0))
        blocks.append(reach[rows])
        gains.append(weights[rows] * a[rows])
        prev = t
    return sparse.vstack(blocks, format="csr"), np.concatenate(gains)


@dataclass(frozen=True)
class SetLimits:
    """What a solve must respect: how many sets, fixed and forbidden mounts, costs, spacing."""

    count: float
    forced: Sequence[int] = ()
    eligible: np.ndarray | None = None
    costs: np.ndarray | None = None
    conflicts: sparse.csr_array | None = None


def solve_sets(problem: CoverageProblem, layout: SetLayout, limits: SetLimits, *,
               integral: bool, time_limit: float = 60.0) -> SetMIPResult:
    """Solve the LP relaxation (``integral=False``) or the MIP of the camera-set model."""
    from scipy import optimize

    cover = config_matrix(problem, layout)
    n_pans = layout.n_pans
    m = problem.n_sites // n_pans
    eligible = np.ones(m, dtype=bool) if limits.eligible is None else limits.eligible
    constant = problem.value(problem.baseline)
    cols = np.flatnonzero(np.repeat(eligible, n_pans) & (np.diff(cover.indptr) > 0))
    sub = sparse.csc_array(cover[:, cols])
    rows, gain = _level_rows(sub, problem.baseline, problem.weights)
    n_x, n_y = len(cols), rows.shape[0]
    mount_of = cols // n_pans
    # variables: x (n_x), z (m), y (n_y)
    link = sparse.hstack([-rows, sparse.csr_array((n_y, m)), sparse.identity(n_y)],
                         format="csr")
    cap = 1 if layout.spread is not None else layout.per_set
    per_mount = sparse.csr_array((np.ones(n_x), (mount_of, np.arange(n_x))), shape=(m, n_x))
    kz = sparse.hstack([per_mount, -cap * sparse.identity(m), sparse.csr_array((m, n_y))])
    xz = sparse.hstack([sparse.identity(n_x), -sparse.csr_array(
        (np.ones(n_x), (np.arange(n_x), mount_of)), shape=(n_x, m)), sparse.csr_array((n_x, n_y))])
    cost = np.ones(m) if limits.costs is None else np.asarray(limits.costs, dtype=np.float64)
    budget = sparse.csr_array(np.concatenate([np.zeros(n_x), cost, np.zeros(n_y)])[None, :])
    blocks = [link, kz, xz, budget]
    upper = [np.zeros(n_y), np.zeros(m), np.zeros(n_x), [float(limits.count)]]
    if integral and limits.conflicts is not None:
        pairs = sparse.triu(sparse.csr_array(limits.conflicts), k=1).tocoo()
        if pairs.nnz:
            r = np.repeat(np.arange(pairs.nnz), 2)
            c = n_x + np.column_stack([pairs.row, pairs.col]).ravel()
            blocks.append(sparse.csr_array((np.ones(2 * pairs.nnz), (r, c)),
                                           shape=(pairs.nnz, n_x + m + n_y)))
            upper.append(np.ones(pairs.nnz))
    lb = np.zeros(n_x + m + n_y)
    ub = np.concatenate([np.ones(n_x), eligible.astype(float), np.ones(n_y)])
    lb[n_x + np.asarray(limits.forced, dtype=np.int64)] = 1.0
    objective = np.concatenate([np.zeros(n_x + m), -gain])
    a_ub = sparse.vstack(blocks, format="csr")
    b_ub = np.concatenate([np.asarray(u, float) for u in upper])
    if not integral:
        lp, message = solve_lp(objective, a_ub, b_ub, (lb, ub), time_limit)
        bound = np.inf if lp is None else constant - lp.fun
        return SetMIPResult(bound, np.nan, (), (), lp is not None, message)
    res = optimize.milp(
        objective,
        constraints=optimize.LinearConstraint(a_ub, -np.inf, b_ub),
        bounds=optimize.Bounds(lb, ub),
        integrality=np.concatenate([np.ones(n_x + m), np.zeros(n_y)]),
        options={"time_limit": float(time_limit), "disp": False, "mip_rel_gap": 1e-9},
    )
    logger.info("HiGHS sets MIP: %s", res.message)
    return _result(res, constant, cols, n_x, n_pans, layout)


def _result(res: optimize.OptimizeResult, constant: float, cols: np.ndarray, n_x: int,
            n_pans: int, layout: SetLayout) -> SetMIPResult:
    optimal = res.status == 0
    dual = getattr(res, "mip_dual_bound", None)
    bound = constant - dual if dual is not None and np.isfinite(dual) else np.inf
    if res.x is None:
        return SetMIPResult(bound, np.nan, (), (), False, res.message)
    on = cols[np.flatnonzero(res.x[:n_x] > 0.5)]
    mounts = sorted({int(c // n_pans) for c in on})
    offsets = layout.offsets() if layout.spread is not None else np.zeros(1, dtype=np.int64)
    pans = tuple(
        tuple(sorted({int((c % n_pans + o) % n_pans) for c in on if c // n_pans == j
                      for o in offsets}))
        for j in mounts
    )
    value = constant - res.fun
    if optimal and not np.isfinite(bound):
        bound = value
    return SetMIPResult(bound, value, tuple(mounts), pans, optimal, res.message)
