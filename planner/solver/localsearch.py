"""Local search by site swaps, with the sites of earlier phases held fixed.

For each movable chosen site ``j`` the search finds the unchosen site ``k``
whose swap in for ``j`` raises the covered weight most, and makes the swap
when it raises it at all (first improvement over ``j``, best over ``k``).
Passes repeat until no swap improves or ``max_passes`` is reached. Every
accepted swap strictly raises the objective, so the search never lowers
coverage and always ends.

Each evaluation is local: removing ``j`` lowers the quality only of points
``j`` sees, so only sites that see those points change their gain; every
other site keeps its current gain, and the best of those is read from a
tournament tree over the open sites' gains. "Don't look" bits skip a chosen
site until something near it changed or some open site gains more than
removing it would lose. Works for binary coverage and for distance-decay
qualities.

The search runs compiled (numba): an evaluation touches a few hundred
entries, so interpreter overhead, not arithmetic, would otherwise dominate.
Ties go to the lower site index; the summation order is fixed, so a run is
deterministic.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
from numba import njit
from scipy import sparse

from planner.solver.greedy import GreedyState, column_gain_kernel, conflict_arrays
from planner.solver.problem import CoverageProblem

__all__ = ["SwapStats", "swap_search"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SwapStats:
    """What a local search did."""

    swaps: int
    passes: int
    gained: float


# --- tournament tree: the open site with the largest gain (ties: lower index) ---------------


@njit(cache=True)
def _tree_build(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    size = 1
    while size < max(len(values), 1):
        size *= 2
    tv = np.full(2 * size, -np.inf)
    ti = np.full(2 * size, np.int64(2**62))
    for i in range(len(values)):
        tv[size + i] = values[i]
        ti[size + i] = i
    for node in range(size - 1, 0, -1):
        _tree_pull(tv, ti, node)
    return tv, ti, size


@njit(cache=True, inline="always")
def _tree_pull(tv: np.ndarray, ti: np.ndarray, node: int) -> None:
    a, b = 2 * node, 2 * node + 1
    if tv[b] > tv[a] or (tv[b] == tv[a] and ti[b] < ti[a]):
        tv[node], ti[node] = tv[b], ti[b]
    else:
        tv[node], ti[node] = tv[a], ti[a]


@njit(cache=True)
def _tree_set(tv: np.ndarray, ti: np.ndarray, size: int, i: int, value: float) -> None:
    node = size + i
    tv[node] = value
    node //= 2
    while node >= 1:
        _tree_pull(tv, ti, node)
        node //= 2


@njit(cache=True, inline="always")
def _add_once(c: int, stamp: np.ndarray, tick: int, out: np.ndarray, n: int) -> int:
    """Append ``c`` to ``out[:n]`` unless already stamped with ``tick``; the new length."""
    if stamp[c] == tick:
        return n
    stamp[c] = tick
    out[n] = c
    return n + 1


@njit(cache=True)
def _tree_best_outside(
    tv: np.ndarray, ti: np.ndarray, size: int, stamp: np.ndarray, tick: int, stack: np.ndarray
) -> tuple[int, float]:
    """The largest leaf (ties: lower index) whose ``stamp`` is not ``tick``, or (-1, -inf).

    Each node holds the largest leaf of its subtree (lowest index among equals), so a
    subtree whose leader is not excluded is answered by that leader, and a subtree
    that cannot beat the best found so far is skipped: usually one look at the root.
    """
    best_k, best_v = -1, -np.inf
    top = 0
    stack[0] = 1
    while top >= 0:
        node = stack[top]
        top -= 1
        v, k = tv[node], ti[node]
        if v == -np.inf or v < best_v or (v == best_v and k > best_k >= 0):
            continue
        if stamp[k] != tick:
            best_k, best_v = k, v
        elif node < size:
            a, b = 2 * node, 2 * node + 1
            # Look at the more promising child first (pushed last).
            if tv[a] > tv[b] or (tv[a] == tv[b] and ti[a] < ti[b]):
                a, b = b, a
            stack[top + 1], stack[top + 2] = a, b
            top += 2
    return best_k, best_v


# --- the search ------------------------------------------------------------------------------


@njit(cache=True)
def _search(  # noqa: C901, PLR0913 - one compiled kernel: arrays one by one, loops inline
    c_ptr: np.ndarray, c_idx: np.ndarray, c_q: np.ndarray,  # site columns (CSC): points seen
    r_ptr: np.ndarray, r_idx: np.ndarray, r_q: np.ndarray,  # point rows (CSR): sites that see
    w: np.ndarray, baseline: np.ndarray,  # weights, quality without any site
    best: np.ndarray,  # current quality (updated)
    chosen: np.ndarray,  # chosen sites in pick order (updated)
    movable: np.ndarray,  # positions that may move
    eligible: np.ndarray,  # eligible sites
    k_ptr: np.ndarray, k_idx: np.ndarray,  # conflicts (CSR; empty when no spacing)
    costs: np.ndarray, budget: float,  # site costs, budget (inf: none)
    spent: float, budgeted: bool,  # spent now, whether a budget applies
    tol: float, max_passes: int,
) -> tuple[int, int, float]:
    m = len(c_ptr) - 1
    is_chosen = np.zeros(m, dtype=np.bool_)
    for j in chosen:
        is_chosen[j] = True
    blocked = np.zeros(m, dtype=np.int64)
    for j in chosen:
        for e in range(k_ptr[j], k_ptr[j + 1]):
            blocked[k_idx[e]] += 1
    gains = np.empty(m)
    open_ = np.empty(m)
    for j in range(m):
        gains[j] = column_gain_kernel(c_ptr, c_idx, c_q, w, best, j)
        free = eligible[j] and not is_chosen[j] and blocked[j] == 0
        open_[j] = gains[j] if free else -np.inf
    tv, ti, size = _tree_build(open_)

    slot = np.full(m, -1, dtype=np.int64)
    for i in range(len(movable)):
        slot[chosen[movable[i]]] = i
    dirty = np.ones(len(movable), dtype=np.bool_)
    last_loss = np.full(len(movable), np.inf)

    # Scratch: per-candidate extra gain, stamps marking membership, row buffers.
    extra = np.zeros(m)
    stamp = np.zeros(m, dtype=np.int64)
    near_stamp = np.zeros(m, dtype=np.int64)
    row_stamp = np.zeros(len(w), dtype=np.int64)
    tick = 0
    max_col = 0
    for j in range(m):
        max_col = max(max_col, c_ptr[j + 1] - c_ptr[j])
    without = np.empty(max_col)
    cand = np.empty(m, dtype=np.int64)
    stack = np.empty(2 * 64, dtype=np.int64)
    touched = np.empty(m, dtype=np.int64)

    swaps = 0
    passes = 0
    while passes < max_passes:
        passes += 1
        improved = False
        for i in range(len(movable)):
            if not dirty[i] and not budgeted and last_loss[i] > tv[1] + tol:
                continue
            pos = movable[i]
            j = chosen[pos]
            lo, hi = c_ptr[j], c_ptr[j + 1]
            # Quality of each point j sees once j is gone, and the loss.
            loss = 0.0
            for e in range(lo, hi):
                r = c_idx[e]
                q = baseline[r]
                for f in range(r_ptr[r], r_ptr[r + 1]):
                    c = r_idx[f]
                    if is_chosen[c] and c != j and r_q[f] > q:
                        q = r_q[f]
                without[e - lo] = q
                loss += w[r] * (best[r] - q)
            # Sites that gain more once j is gone, and j's spacing neighbours.
            tick += 1
            n_cand = 0
            for e in range(lo, hi):
                r = c_idx[e]
                wo = without[e - lo]
                if best[r] - wo <= 0.0:
                    continue
                for f in range(r_ptr[r], r_ptr[r + 1]):
                    c = r_idx[f]
                    q = r_q[f]
                    delta = w[r] * (max(q - wo, 0.0) - max(q - best[r], 0.0))
                    if stamp[c] != tick:
                        extra[c] = 0.0
                    n_cand = _add_once(c, stamp, tick, cand, n_cand)
                    extra[c] += delta
            for e in range(k_ptr[j], k_ptr[j + 1]):
                c = k_idx[e]
                near_stamp[c] = tick
                if stamp[c] != tick:
                    extra[c] = 0.0
                n_cand = _add_once(c, stamp, tick, cand, n_cand)
            slack = budget - (spent - costs[j]) if budgeted else np.inf
            best_val, best_k = -np.inf, -1
            for t in range(n_cand):
                c = cand[t]
                if not eligible[c] or is_chosen[c] or costs[c] > slack:
                    continue
                if blocked[c] - (1 if near_stamp[c] == tick else 0) != 0:
                    continue
                v = gains[c] + extra[c]
                if v > best_val or (v == best_val and c < best_k):
                    best_val, best_k = v, c
            # The best open site elsewhere keeps its gain.
            k2, v2 = -1, -np.inf
            if budgeted:
                for c in range(m):
                    if stamp[c] != tick and costs[c] <= slack and open_[c] > v2:
                        k2, v2 = c, open_[c]
            else:
                k2, v2 = _tree_best_outside(tv, ti, size, stamp, tick, stack)
            if k2 >= 0 and (v2 > best_val or (v2 == best_val and k2 < best_k)):
                best_val, best_k = v2, k2
            dirty[i] = False
            last_loss[i] = loss
            k = best_k
            if k < 0 or best_val - loss <= tol:
                continue

            # Swap j out, k in.
            for e in range(lo, hi):
                best[c_idx[e]] = without[e - lo]
            for e in range(c_ptr[k], c_ptr[k + 1]):
                r = c_idx[e]
                if c_q[e] > best[r]:
                    best[r] = c_q[e]
            chosen[pos] = k
            is_chosen[j] = False
            is_chosen[k] = True
            slot[k] = i
            slot[j] = -1
            spent += costs[k] - costs[j]
            for e in range(k_ptr[j], k_ptr[j + 1]):
                blocked[k_idx[e]] -= 1
            for e in range(k_ptr[k], k_ptr[k + 1]):
                blocked[k_idx[e]] += 1
            # Sites whose gain or availability changed: those seeing a point j or k sees.
            tick += 1
            n_t = 0
            for s in (j, k):
                for e in range(c_ptr[s], c_ptr[s + 1]):
                    r = c_idx[e]
                    if row_stamp[r] == tick:
                        continue
                    row_stamp[r] = tick
                    for f in range(r_ptr[r], r_ptr[r + 1]):
                        n_t = _add_once(r_idx[f], stamp, tick, touched, n_t)
                for e in range(k_ptr[s], k_ptr[s + 1]):
                    n_t = _add_once(k_idx[e], stamp, tick, touched, n_t)
                n_t = _add_once(s, stamp, tick, touched, n_t)
            for t in range(n_t):
                c = touched[t]
                gains[c] = column_gain_kernel(c_ptr, c_idx, c_q, w, best, c)
                free = eligible[c] and not is_chosen[c] and blocked[c] == 0
                open_[c] = gains[c] if free else -np.inf
                _tree_set(tv, ti, size, c, open_[c])
            # Chosen sites whose best swap may have changed: sharing a point with a
            # touched site, or closer than the spacing to one.
            tick += 1
            for t in range(n_t):
                c = touched[t]
                for e in range(c_ptr[c], c_ptr[c + 1]):
                    r = c_idx[e]
                    if row_stamp[r] == tick:
                        continue
                    row_stamp[r] = tick
                    for f in range(r_ptr[r], r_ptr[r + 1]):
                        s = slot[r_idx[f]]
                        if s >= 0:
                            dirty[s] = True
                for e in range(k_ptr[c], k_ptr[c + 1]):
                    s = slot[k_idx[e]]
                    if s >= 0:
                        dirty[s] = True
            swaps += 1
            improved = True
        if not improved:
            break
    return swaps, passes, spent


def swap_search(
    problem: CoverageProblem,
    state: GreedyState,
    movable: Sequence[int],
    *,
    eligible: np.ndarray,
    conflicts: sparse.csr_array | None = None,
    costs: np.ndarray | None = None,
    budget: float | None = None,
    max_passes: int = 20,
) -> SwapStats:
    """Improve ``state`` in place by swapping the chosen sites at positions ``movable``.

    Parameters
    ----------
    problem
        The coverage instance.
    state
        A feasible state; ``state.best`` must match ``state.chosen``.
    movable
        Positions in ``state.chosen`` that may be swapped (the current phase).
    eligible
        Sites any plan may contain (not forbidden).
    conflicts
        Sparse site x site matrix of pairs closer than the minimum spacing.
    costs, budget
        Site costs and the total budget a swap must respect.
    max_passes
        Most passes over the movable sites.
    """
    m = problem.n_sites
    start = problem.value(state.best)
    csc, csr = problem.csc, problem.csr
    k_ptr, k_idx = conflict_arrays(problem, conflicts)
    budgeted = costs is not None and budget is not None
    chosen = np.asarray(state.chosen, dtype=np.int64)
    swaps, passes, spent = _search(
        csc.indptr, csc.indices, csc.data,
        csr.indptr, csr.indices, csr.data,
        problem.weights, problem.baseline, state.best,
        chosen, np.asarray(movable, dtype=np.int64),
        np.asarray(eligible, dtype=np.bool_), k_ptr, k_idx,
        np.ones(m) if costs is None else np.asarray(costs, dtype=np.float64),
        float(cast(float, budget)) if budgeted else np.inf,
        float(state.spent), budgeted,
        1e-10 * max(float(problem.weights.sum()), 1e-300), max_passes,
    )  # fmt: skip
    state.chosen[:] = chosen.tolist()
    if costs is not None:
        state.spent = spent
    gained = problem.value(state.best) - start
    logger.debug("local search: %d swaps in %d passes, +%.6g weight", swaps, passes, gained)
    return SwapStats(swaps=int(swaps), passes=int(passes), gained=gained)
