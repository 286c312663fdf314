"""Presolve: shrink a coverage instance without changing its optimum.

Reductions, each exact for every count or budget (Chen et al.'s "isomorphic
aggregation" and dominated columns; Cordeau, Furini & Ljubić 2019, section 4):

* entries a site adds nothing with (quality at most the point's existing one) dropped;
* demand points no site can improve dropped (their existing coverage is a constant);
* points with the same sites at the same qualities and the same existing coverage
  merged into one row carrying the summed weight;
* forbidden sites dropped; sites that cover nothing dropped unless forced;
* a site whose column is contained in another's (every quality at most the other's)
  dropped when that is safe: it is not forced, the other is not forbidden, costs
  nothing less, and, under a minimum spacing, conflicts with no site the other
  does not (so swapping one for the other keeps every plan feasible). Of identical
  sites the one with the lowest index stays.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numba import njit
from scipy import sparse

from planner.solver.constraints import Constraints
from planner.solver.problem import CoverageProblem

__all__ = ["PresolveReport", "Presolved", "merge_rows", "presolve"]


@dataclass(frozen=True)
class PresolveReport:
    """How much presolve removed (sizes before -> after).

    Attributes
    ----------
    demand_points, demand_rows
        Demand points in, rows after merging and dropping.
    sites, site_columns
        Candidate sites in, columns kept.
    dominated_sites
        Sites dropped as contained in another site's coverage.
    pairs, pairs_kept
        Non-zeros (point-site pairs) in and kept.
    """

    demand_points: int
    demand_rows: int
    sites: int
    site_columns: int
    dominated_sites: int
    pairs: int
    pairs_kept: int

    def as_dict(self) -> dict[str, int]:
        """The sizes by name (for ``summary.json``)."""
        return {k: int(v) for k, v in self.__dict__.items()}


@dataclass(frozen=True, eq=False)
class Presolved:
    """A reduced instance and the way back to the original.

    Attributes
    ----------
    problem
        The reduced instance (rows: merged points; columns: kept sites).
    constraints
        The constraints on the reduced columns (forbidden sites already gone).
    columns
        Original index of every reduced column (increasing).
    constant
        Covered weight of the dropped points (their existing coverage).
    report
        The sizes before and after.
    """

    problem: CoverageProblem
    constraints: Constraints
    columns: np.ndarray
    constant: float
    report: PresolveReport


@njit(cache=True)
def _row_hashes(
    indptr: np.ndarray, indices: np.ndarray, qbits: np.ndarray, base_bits: np.ndarray
) -> np.ndarray:
    out = np.empty(len(indptr) - 1, dtype=np.uint64)
    mult = np.uint64(0x100000001B3)
    for i in range(len(indptr) - 1):
        h = np.uint64(0xCBF29CE484222325) ^ np.uint64(base_bits[i])
        for e in range(indptr[i], indptr[i + 1]):
            h = (h ^ np.uint64(indices[e])) * mult
            h = (h ^ np.uint64(qbits[e])) * mult
        out[i] = h
    return out


@njit(cache=True)
def _same_row(
    indptr: np.ndarray, indices: np.ndarray, qbits: np.ndarray, base_bits: np.ndarray,
    a: int, b: int,
) -> bool:
    if base_bits[a] != base_bits[b]:
        return False
    la, lb = indptr[a + 1] - indptr[a], indptr[b + 1] - indptr[b]
    if la != lb:
        return False
    for t in range(la):
        ea, eb = indptr[a] + t, indptr[b] + t
        if indices[ea] != indices[eb] or qbits[ea] != qbits[eb]:
            return False
    return True


@njit(cache=True)
def _assign_groups(
    order: np.ndarray, hashes: np.ndarray, indptr: np.ndarray, indices: np.ndarray,
    qbits: np.ndarray, base_bits: np.ndarray,
) -> np.ndarray:
    """Group id (the leader's row) of every row, rows visited in (hash, index) order."""
    leader = np.empty(len(order), dtype=np.int64)
    run = 0
    for t in range(len(order)):
        i = order[t]
        if t == 0 or hashes[i] != hashes[order[t - 1]]:
            run = t
        leader[i] = i
        for u in range(run, t):  # earlier rows of the same hash (collisions are rare)
            r = order[u]
            if leader[r] == r and _same_row(indptr, indices, qbits, base_bits, r, i):
                leader[i] = r
                break
    return leader


def merge_rows(
    csr: sparse.csr_array, weights: np.ndarray, baseline: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge rows with the same sites, qualities and baseline.

    Returns the leader rows (increasing), each row's group (index into the leaders)
    and each group's summed weight (summed in row order: deterministic).
    """
    n = csr.shape[0]
    if n == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    qbits = csr.data.view(np.uint64)
    base_bits = np.ascontiguousarray(baseline, dtype=np.float64).view(np.uint64)
    hashes = _row_hashes(csr.indptr, csr.indices, qbits, base_bits)
    order = np.argsort(hashes, kind="stable")  # by hash, then by index
    leader = _assign_groups(order, hashes, csr.indptr, csr.indices, qbits, base_bits)
    # A leader leads its own group and comes before every row of it: the groups are
    # numbered by leader, in one pass (np.unique would sort a million rows again).
    is_leader = leader == np.arange(n)
    leaders = np.flatnonzero(is_leader)
    group = (np.cumsum(is_leader) - 1)[leader]
    return leaders, group, np.bincount(group, weights=weights, minlength=len(leaders))


@njit(cache=True)
def _dominated(  # noqa: PLR0913
    c_ptr: np.ndarray, c_idx: np.ndarray, c_q: np.ndarray, r_ptr: np.ndarray, r_idx: np.ndarray,
    cost: np.ndarray, protected: np.ndarray, can_dominate: np.ndarray,
    k_ptr: np.ndarray, k_idx: np.ndarray,
) -> np.ndarray:
    """Columns contained in another column that may replace them (see module docstring)."""
    m = len(c_ptr) - 1
    out = np.zeros(m, dtype=np.bool_)
    mark = np.full(m, -1, dtype=np.int64)
    for j in range(m):
        lo, hi = c_ptr[j], c_ptr[j + 1]
        if protected[j] or hi == lo:
            continue
        rarest, fewest = c_idx[lo], r_ptr[c_idx[lo] + 1] - r_ptr[c_idx[lo]]
        for e in range(lo, hi):  # candidates: the sites of j's least covered point
            d = r_ptr[c_idx[e] + 1] - r_ptr[c_idx[e]]
            if d < fewest:
                rarest, fewest = c_idx[e], d
        for k_pos in range(r_ptr[rarest], r_ptr[rarest + 1]):
            k = r_idx[k_pos]
            if k == j or not can_dominate[k] or cost[k] > cost[j]:
                continue
            if _contains(c_ptr, c_idx, c_q, k, j) and _spacing_ok(k_ptr, k_idx, mark, j, k):
                equal = c_ptr[k + 1] - c_ptr[k] == hi - lo and cost[k] == cost[j]
                if equal and _contains(c_ptr, c_idx, c_q, j, k) and k > j:
                    continue  # identical: the lower index stays
                out[j] = True
                break
    return out


@njit(cache=True)
def _contains(c_ptr: np.ndarray, c_idx: np.ndarray, c_q: np.ndarray, k: int, j: int) -> bool:
    """Column ``k`` reaches every point of column ``j`` at least as well."""
    a, a_end = c_ptr[k], c_ptr[k + 1]
    for e in range(c_ptr[j], c_ptr[j + 1]):
        r = c_idx[e]
        while a < a_end and c_idx[a] < r:
            a += 1
        if a == a_end or c_idx[a] != r or c_q[a] < c_q[e]:
            return False
    return True


@njit(cache=True)
def _spacing_ok(k_ptr: np.ndarray, k_idx: np.ndarray, mark: np.ndarray, j: int, k: int) -> bool:
    """Every site too close to ``k`` (other than ``j``) is too close to ``j`` too."""
    for e in range(k_ptr[j], k_ptr[j + 1]):
        mark[k_idx[e]] = j
    for e in range(k_ptr[k], k_ptr[k + 1]):
        s = k_idx[e]
        if s != j and mark[s] != j:
            return False
    return True


def presolve(problem: CoverageProblem, constraints: Constraints) -> Presolved:
    """Reduce ``problem`` under ``constraints`` (already checked); see the module docstring."""
    m = problem.n_sites
    eligible = np.ones(m, dtype=bool)
    eligible[np.asarray(list(constraints.forbidden), dtype=np.int64)] = False
    forced = np.zeros(m, dtype=bool)
    forced[np.asarray(list(constraints.forced), dtype=np.int64)] = True
    kept, degree = _useful_entries(problem, eligible)
    empty = degree == 0
    constant = float(np.sum(problem.weights[empty] * problem.baseline[empty]))
    leaders, _, group_weight = merge_rows(kept, problem.weights, problem.baseline)
    live = degree[leaders] > 0
    leaders, group_weight = leaders[live], group_weight[live]
    merged = sparse.csr_array(kept[leaders])
    by_site = sparse.csc_array(merged)
    by_site.sort_indices()
    dominated = _dominated_sites(merged, by_site, constraints, eligible, forced)
    nonempty = np.diff(by_site.indptr) > 0
    columns = np.flatnonzero(eligible & (nonempty | forced) & ~dominated)
    reduced = _remerge(_keep_columns(merged, columns), group_weight, problem.baseline[leaders])
    report = PresolveReport(
        demand_points=problem.n_demand,
        demand_rows=reduced.n_demand,
        sites=m,
        site_columns=len(columns),
        dominated_sites=int(np.count_nonzero(dominated & eligible & nonempty)),
        pairs=int(problem.csc.nnz),
        pairs_kept=int(reduced.csc.nnz),
    )
    return Presolved(
        reduced, _reduced_constraints(constraints, columns, m), columns, constant, report
    )


def _useful_entries(
    problem: CoverageProblem, eligible: np.ndarray
) -> tuple[sparse.csr_array, np.ndarray]:
    """The entries that can raise a point's quality (of eligible sites), and each row's count."""
    csr = problem.csr
    if eligible.all() and not problem.baseline.any() and (csr.nnz == 0 or csr.data.min() > 0):
        return csr, np.diff(csr.indptr)  # no existing cameras, nothing forbidden: all useful
    row_of = np.repeat(np.arange(problem.n_demand), np.diff(csr.indptr))
    useful = (csr.data > problem.baseline[row_of]) & eligible[csr.indices]
    degree = np.bincount(row_of[useful], minlength=problem.n_demand)
    indptr = np.concatenate([[0], np.cumsum(degree)]).astype(csr.indptr.dtype)
    kept = sparse.csr_array((csr.data[useful], csr.indices[useful], indptr), shape=csr.shape)
    return kept, degree


def _keep_columns(csr: sparse.csr_array, columns: np.ndarray) -> sparse.csr_array:
    """``csr[:, columns]`` for increasing ``columns``, in one pass over the entries.

    The entries stay in order (the columns are renumbered in the same order), so
    the result has sorted indices like ``csr``, without a round trip through CSC.
    """
    position = np.full(csr.shape[1], -1, dtype=csr.indices.dtype)
    position[columns] = np.arange(len(columns), dtype=csr.indices.dtype)
    new_index = position[csr.indices]
    keep = new_index >= 0
    before = np.concatenate([[0], np.cumsum(keep)]).astype(csr.indptr.dtype)
    return sparse.csr_array((csr.data[keep], new_index[keep], before[csr.indptr]),
                            shape=(csr.shape[0], len(columns)))


def _remerge(csr: sparse.csr_array, weights: np.ndarray, baseline: np.ndarray) -> CoverageProblem:
    """The instance on the kept columns (``csr``), rows that became identical merged again."""
    leaders, _, weights = merge_rows(csr, weights, baseline)
    if len(leaders) < csr.shape[0]:
        csr = sparse.csr_array(csr[leaders])
    csc = sparse.csc_array(csr)
    csc.sort_indices()
    return CoverageProblem(csc=csc, csr=csr, weights=weights, baseline=baseline[leaders])


def _dominated_sites(
    merged: sparse.csr_array,
    by_site: sparse.csc_array,
    constraints: Constraints,
    eligible: np.ndarray,
    forced: np.ndarray,
) -> np.ndarray:
    m = merged.shape[1]
    with_costs = constraints.budget is not None and constraints.costs is not None
    cost = np.asarray(constraints.costs, dtype=np.float64) if with_costs else np.ones(m)
    if constraints.conflicts is None:
        k_ptr, k_idx = np.zeros(m + 1, dtype=np.int64), np.zeros(0, dtype=np.int64)
    else:
        conf = sparse.csr_array(constraints.conflicts)
        k_ptr, k_idx = conf.indptr.astype(np.int64), conf.indices.astype(np.int64)
    return _dominated(
        by_site.indptr, by_site.indices, by_site.data, merged.indptr, merged.indices,
        cost, forced, eligible, k_ptr, k_idx,
    )  # fmt: skip


def _reduced_constraints(constraints: Constraints, columns: np.ndarray, m: int) -> Constraints:
    position = np.full(m, -1, dtype=np.int64)
    position[columns] = np.arange(len(columns))
    conflicts = constraints.conflicts
    if conflicts is not None:
        conflicts = sparse.csr_array(sparse.csr_array(conflicts)[columns][:, columns])
    costs = constraints.costs
    return replace(
        constraints,
        costs=None if costs is None else np.asarray(costs, dtype=np.float64)[columns],
        forced=tuple(int(position[j]) for j in constraints.forced),
        forbidden=(),
        conflicts=conflicts,
    )
