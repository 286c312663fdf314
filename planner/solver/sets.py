"""Camera sets: mounts carrying up to ``k`` directional cameras, chosen by lazy greedy.

The columns of the coverage matrix are cameras: mount ``j`` panned to pan ``p``
is column ``j * P + p`` (:mod:`planner.coverage.directional`). The objective is
the same monotone submodular coverage as for discs, over cameras::

    f(C) = sum_i w_i * max(b_i, max_{c in C} q_ic)

A plan chooses at most ``p`` mounts (or mounts within a cost budget) and at most
``k`` cameras on each, with independent pans, or with pans fixed ``spread``
steps apart (only the first is chosen: back to back, three at 120, ...).

Greedy rule, at the level of mounts: the value of mount ``j`` is the gain of
its best configuration given what is covered. With a fixed spread (or one
camera per set) that is exact: every base pan is tried. With free pans it is
an inner greedy: ``k`` times, the pan with the largest gain on top of the pans
already taken (which reaches ``1 - 1/e`` of the mount's best configuration); on
small instances (``SetLayout.exact``) every combination of pans is tried instead.
The mount with the largest value (per unit cost under a budget) is added with
that configuration; ties go to the lower mount index. Lazy evaluation (Minoux
1978): a heap of stale values, only the top one re-evaluated. Stale values of
exact configurations are upper bounds (gains only shrink as coverage grows:
submodularity), so there the lazy run equals the eager one; the inner-greedy
value of a mount can in rare cases rise, so with free pans the lazy pick can
differ from the eager one (each recorded gain is exact either way).

Guarantee: sets as blocks of cameras, one block per mount and ``p`` blocks, form
a matrix constraint (a partition matroid truncated to rank ``p``): greedy with
exact block values reaches 1/2 of the optimum (Fisher, Nemhauser & Wolsey
1978), with ``(1 - 1/e)``-approximate blocks ``(1 - 1/e) / (2 - 1/e) = 0.387``.
The plan's own certificate (:func:`set_bound_terms`) is usually far tighter.

Certificate (valid for any plan of ``p`` mounts with ``k`` cameras each): for
any state ``S``, ``OPT <= f(S) + sum of the p largest u_j(S)`` where ``u_j(S)``
is the sum of the ``k`` largest single-camera gains on mount ``j`` given ``S``
(with a fixed spread: the largest sum over one configuration's cameras). It
follows from ``f(OPT) <= f(S + OPT) <= f(S) + sum_{c in OPT} gain(c | S)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numba import njit
from scipy import sparse

from planner.solver.gains import all_gains
from planner.solver.greedy import GreedyState, column_gain_kernel
from planner.solver.heap import heap_push, heapify, sift_down
from planner.solver.problem import CoverageProblem

__all__ = [
    "MountRules",
    "SetLayout",
    "SetState",
    "apply_column",
    "commit_column",
    "evaluate_mount",
    "restore",
    "set_bound_terms",
]


@dataclass(frozen=True)
class SetLayout:
    """How the columns group into mounts.

    Attributes
    ----------
    n_pans
        Pans per mount (columns ``j * n_pans .. j * n_pans + n_pans - 1``).
    per_set
        Most cameras per mount, ``k``.
    spread
        Fixed spread between the cameras of a set, in pan steps (``None``: free pans).
    exact
        Free pans: value a mount by its best combination of pans (every one tried)
        instead of the inner greedy.
    """

    n_pans: int
    per_set: int
    spread: int | None = None
    exact: bool = False

    def offsets(self) -> np.ndarray:
        """Pan offsets of a fixed-spread configuration (distinct, first 0)."""
        if self.spread is None:
            return np.zeros(1, dtype=np.int64)
        return np.unique((np.arange(self.per_set) * self.spread) % self.n_pans)

    @property
    def spread_code(self) -> int:
        """The spread for the compiled kernels (-1: free pans, -2: every combination)."""
        if self.spread is None:
            return -2 if self.exact else -1
        return int(self.spread)


@dataclass
class SetState(GreedyState):
    """A greedy state over mounts: ``chosen`` are mounts, ``pans`` their pan indices."""

    pans: list[tuple[int, ...]] = field(default_factory=list)

    def copy(self) -> SetState:
        """An independent copy."""
        return SetState(self.best.copy(), self.available.copy(), list(self.chosen),
                        list(self.gains), self.spent, list(self.pans))


@njit(cache=True)
def apply_column(
    c_ptr: np.ndarray, c_idx: np.ndarray, c_q: np.ndarray, best: np.ndarray, col: int,
    save_r: np.ndarray, save_v: np.ndarray, top: int,
) -> int:
    """Raise ``best`` by column ``col``, pushing the old values on a stack (for :func:`restore`)."""
    for e in range(c_ptr[col], c_ptr[col + 1]):
        r = c_idx[e]
        if c_q[e] > best[r]:
            save_r[top] = r
            save_v[top] = best[r]
            top += 1
            best[r] = c_q[e]
    return top


@njit(cache=True)
def restore(best: np.ndarray, save_r: np.ndarray, save_v: np.ndarray, top: int) -> None:
    """Undo :func:`apply_column` calls down to an empty stack."""
    for t in range(top - 1, -1, -1):
        best[save_r[t]] = save_v[t]


@njit(cache=True)
def commit_column(
    c_ptr: np.ndarray, c_idx: np.ndarray, c_q: np.ndarray, best: np.ndarray, col: int
) -> None:
    """Raise ``best`` by column ``col`` for good."""
    for e in range(c_ptr[col], c_ptr[col + 1]):
        if c_q[e] > best[c_idx[e]]:
            best[c_idx[e]] = c_q[e]


@njit(cache=True)
def _free_pans(  # noqa: PLR0913 - a compiled kernel
    c_ptr: np.ndarray, c_idx: np.ndarray, c_q: np.ndarray, w: np.ndarray, best: np.ndarray,
    j: int, n_pans: int, k: int, pans: np.ndarray, save_r: np.ndarray, save_v: np.ndarray,
) -> float:
    """Inner greedy: up to ``k`` pans of mount ``j``, each the best on top of the others."""
    base, total, top = j * n_pans, 0.0, 0
    for r in range(k):
        bg, bp = 0.0, -1
        for p in range(n_pans):
            used = False
            for s in range(r):
                if pans[s] == p:
                    used = True
            if used:
                continue
            g = column_gain_kernel(c_ptr, c_idx, c_q, w, best, base + p)
            if g > bg:
                bg, bp = g, p
        if bp < 0:
            break
        pans[r] = bp
        total += bg
        if r < k - 1:
            top = apply_column(c_ptr, c_idx, c_q, best, base + bp, save_r, save_v, top)
    restore(best, save_r, save_v, top)
    return total


@njit(cache=True)
def _spread_pans(  # noqa: PLR0913 - a compiled kernel
    c_ptr: np.ndarray, c_idx: np.ndarray, c_q: np.ndarray, w: np.ndarray, best: np.ndarray,
    j: int, n_pans: int, offsets: np.ndarray, pans: np.ndarray,
    save_r: np.ndarray, save_v: np.ndarray,
) -> float:
    """Every base pan of a fixed-spread configuration; the best (ties: lower base pan)."""
    base, best_total, best_p = j * n_pans, 0.0, -1
    for p in range(n_pans):
        total, top = 0.0, 0
        for r in range(len(offsets)):
            col = base + (p + offsets[r]) % n_pans
            total += column_gain_kernel(c_ptr, c_idx, c_q, w, best, col)
            top = apply_column(c_ptr, c_idx, c_q, best, col, save_r, save_v, top)
        restore(best, save_r, save_v, top)
        if total > best_total:
            best_total, best_p = total, p
    if best_p >= 0:
        for r in range(len(offsets)):
            pans[r] = (best_p + offsets[r]) % n_pans
    return best_total


@njit(cache=True)
def _exact_pans(  # noqa: PLR0913, C901
    c_ptr: np.ndarray, c_idx: np.ndarray, c_q: np.ndarray, w: np.ndarray, best: np.ndarray,
    j: int, n_pans: int, k: int, pans: np.ndarray,
) -> float:
    """The best ``k`` pans of mount ``j`` given ``best``, by trying every combination.

    Writes them to ``pans`` (-1 for cameras that add nothing); returns the gain.
    """
    pos = {}
    rows: list[int] = []
    for p in range(n_pans):
        for e in range(c_ptr[j * n_pans + p], c_ptr[j * n_pans + p + 1]):
            r = c_idx[e]
            if r not in pos and c_q[e] > best[r]:
                pos[r] = len(rows)
                rows.append(r)
    lifts = np.zeros((n_pans, max(len(rows), 1)))
    for p in range(n_pans):
        for e in range(c_ptr[j * n_pans + p], c_ptr[j * n_pans + p + 1]):
            r = c_idx[e]
            if c_q[e] > best[r]:
                lifts[p, pos[r]] = w[r] * (c_q[e] - best[r])
    size = min(k, n_pans)
    idx = np.arange(size)
    top = np.zeros(size, dtype=np.int64)
    best_val = -1.0
    while True:
        val = 0.0
        for t in range(len(rows)):
            m = 0.0
            for s in range(size):
                m = max(m, lifts[idx[s], t])
            val += m
        if val > best_val + 1e-12 * max(best_val, 1.0):
            best_val = val
            top[:] = idx
        s = size - 1  # next combination in lexicographic order
        while s >= 0 and idx[s] == n_pans - size + s:
            s -= 1
        if s < 0:
            break
        idx[s] += 1
        for u in range(s + 1, size):
            idx[u] = idx[u - 1] + 1
    for r in range(len(pans)):
        pans[r] = -1
    n = 0
    for s in range(size):
        alone = 0.0
        for t in range(len(rows)):
            alone += lifts[top[s], t]
        if alone > 0:
            pans[n] = top[s]
            n += 1
    return max(best_val, 0.0)


@njit(cache=True)
def evaluate_mount(  # noqa: PLR0913 - a compiled kernel
    c_ptr: np.ndarray, c_idx: np.ndarray, c_q: np.ndarray, w: np.ndarray, best: np.ndarray,
    j: int, n_pans: int, k: int, offsets: np.ndarray, spread: int, pans: np.ndarray,
    save_r: np.ndarray, save_v: np.ndarray,
) -> float:
    """Gain of mount ``j``'s best configuration given ``best`` (left unchanged).

    Writes its pan indices to ``pans[:k]`` (-1 where a camera adds nothing, free pans only).
    """
    for r in range(len(pans)):
        pans[r] = -1
    if spread == -2:
        return _exact_pans(c_ptr, c_idx, c_q, w, best, j, n_pans, k, pans)
    if spread < 0:
        return _free_pans(c_ptr, c_idx, c_q, w, best, j, n_pans, k, pans, save_r, save_v)
    return _spread_pans(c_ptr, c_idx, c_q, w, best, j, n_pans, offsets, pans, save_r, save_v)


def set_bound_terms(problem: CoverageProblem, layout: SetLayout, best: np.ndarray,
                    eligible: np.ndarray) -> np.ndarray:
    """``u_j``: the most any configuration of mount ``j`` can add given ``best``.

    The sum of its ``k`` largest single-camera gains (free pans), or the largest
    sum over the cameras of one configuration (fixed spread); 0 for ineligible mounts.
    """
    gains = all_gains(problem, best).reshape(-1, layout.n_pans)
    k, n_pans = layout.per_set, layout.n_pans
    if layout.spread is None:
        if k >= n_pans:
            u = gains.sum(axis=1)
        else:
            u = np.partition(gains, n_pans - k, axis=1)[:, n_pans - k:].sum(axis=1)
    else:
        u = np.zeros(gains.shape[0])
        for p in range(n_pans):
            u = np.maximum(u, gains[:, (p + layout.offsets()) % n_pans].sum(axis=1))
    return np.where(eligible, u, 0.0)


@njit(cache=True)
def _evaluate_all(  # noqa: PLR0913 - a compiled kernel
    c_ptr: np.ndarray, c_idx: np.ndarray, c_q: np.ndarray, w: np.ndarray, best: np.ndarray,
    mounts: np.ndarray, n_pans: int, k: int, offsets: np.ndarray, spread: int, cfg: np.ndarray,
    save_r: np.ndarray, save_v: np.ndarray,
) -> np.ndarray:
    """Values of ``mounts`` (their configurations into ``cfg`` rows)."""
    out = np.zeros(len(mounts))
    for t in range(len(mounts)):
        j = mounts[t]
        out[t] = evaluate_mount(c_ptr, c_idx, c_q, w, best, j, n_pans, k, offsets, spread,
                                cfg[j], save_r, save_v)
    return out


@njit(cache=True)
def _set_steps(  # noqa: PLR0913 - a compiled kernel
    keys: np.ndarray, mounts: np.ndarray, size: int,  # heap
    stamp: np.ndarray, exact: np.ndarray, cfg: np.ndarray,  # evaluations: stamps, values, pans
    step: int, stop: int,
    c_ptr: np.ndarray, c_idx: np.ndarray, c_q: np.ndarray,  # cameras
    w: np.ndarray, best: np.ndarray,  # weights, qualities (updated)
    layout: np.ndarray,  # (P, k, spread)
    offsets: np.ndarray, available: np.ndarray,  # mounts
    unit: np.ndarray, budget: float, spent: float,  # costs
    k_ptr: np.ndarray, k_idx: np.ndarray,  # conflicts
    save_r: np.ndarray, save_v: np.ndarray,  # scratch
    picks: np.ndarray, picked_gains: np.ndarray,  # out: mounts picked and their gains
) -> tuple[int, int, float, int]:
    """Lazy greedy over mounts from ``step`` until ``stop`` picks or an empty heap."""
    n_pans, k, spread = layout[0], layout[1], layout[2]
    n_picks = 0
    while step < stop and size > 0:
        j = mounts[0]
        size -= 1
        keys[0], mounts[0] = keys[size], mounts[size]
        sift_down(keys, mounts, size, 0)
        if not available[j] or spent + unit[j] > budget * (1 + 1e-12):
            continue
        if stamp[j] != step:
            gain = evaluate_mount(c_ptr, c_idx, c_q, w, best, j, n_pans, k, offsets, spread,
                                  cfg[j], save_r, save_v)
            stamp[j], exact[j] = step, gain
            if gain > 0:
                size = heap_push(keys, mounts, size, -gain / unit[j], j)
            continue
        for r in range(cfg.shape[1]):
            if cfg[j, r] >= 0:
                commit_column(c_ptr, c_idx, c_q, best, j * n_pans + cfg[j, r])
        available[j] = False
        for e in range(k_ptr[j], k_ptr[j + 1]):
            available[k_idx[e]] = False
        spent += unit[j]
        picks[n_picks], picked_gains[n_picks] = j, exact[j]
        n_picks += 1
        step += 1
    return size, step, spent, n_picks


def scratch(problem: CoverageProblem, layout: SetLayout) -> tuple[np.ndarray, np.ndarray]:
    """Undo stacks big enough for one configuration of any mount."""
    lengths = np.diff(problem.csc.indptr)
    size = int(lengths.max()) * max(layout.per_set, 1) if lengths.size else 0
    return np.empty(size + 1, dtype=np.int64), np.empty(size + 1)


@dataclass(frozen=True)
class MountRules:
    """Which mounts a plan may use.

    Attributes
    ----------
    eligible
        Mounts that may be chosen (not forbidden).
    conflicts
        Sparse mount x mount matrix of pairs closer than the minimum spacing.
    costs, budget
        Cost per mount and the total budget (``None``: a count of sets instead).
    """

    eligible: np.ndarray
    conflicts: sparse.csr_array | None = None
    costs: np.ndarray | None = None
    budget: float | None = None


def set_greedy(
    problem: CoverageProblem,
    layout: SetLayout,
    state: SetState,
    count: int,
    rules: MountRules,
    *,
    observe: Callable[[SetState], None] | None = None,
    observe_at: frozenset[int] = frozenset(),
) -> SetState:
    """Extend ``state`` (in place) by at most ``count`` sets, greedily (lazy, see module doc).

    ``observe`` is called after every pick whose total count of sets is in ``observe_at``.
    """
    costs, budget, conflicts = rules.costs, rules.budget, rules.conflicts
    from planner.solver.greedy import conflict_arrays

    m = len(state.available)
    csc = problem.csc
    k = layout.per_set
    cfg = np.full((m, max(k, len(layout.offsets()))), -1, dtype=np.int64)
    save_r, save_v = scratch(problem, layout)
    offsets = layout.offsets()
    args = (csc.indptr, csc.indices, csc.data, problem.weights, state.best)
    cand = np.flatnonzero(state.available).astype(np.int64)
    values = _evaluate_all(*args, cand, layout.n_pans, k, offsets, layout.spread_code, cfg,
                           save_r, save_v)
    unit = np.ones(m) if costs is None else np.asarray(costs, dtype=np.float64)
    cand, values = cand[values > 0], values[values > 0]
    keys = np.empty(len(cand) + 1)
    heap = np.empty(len(cand) + 1, dtype=np.int64)
    keys[: len(cand)], heap[: len(cand)] = -values / unit[cand], cand
    heapify(keys[: len(cand)], heap[: len(cand)])
    stamp = np.full(m, -1, dtype=np.int64)
    stamp[cand] = 0
    exact = np.zeros(m)
    exact[cand] = values
    size, step = len(cand), 0
    k_ptr, k_idx = conflict_arrays(_MountShape(problem, m), conflicts)
    limit = np.inf if budget is None else float(budget)
    picks, picked = np.empty(max(count, 0), dtype=np.int64), np.empty(max(count, 0))
    lay = np.array([layout.n_pans, k, layout.spread_code], dtype=np.int64)
    for stop in sorted({n - len(state.chosen) for n in observe_at if n > len(state.chosen)}
                       | {count}):
        if not 0 < stop <= count:
            continue
        size, step, state.spent, n = _set_steps(
            keys, heap, size, stamp, exact, cfg, step, stop, *args, lay, offsets,
            state.available, unit, limit, float(state.spent), k_ptr, k_idx, save_r, save_v,
            picks[step:], picked[step:])
        for j in picks[step - n: step].tolist():
            state.pans.append(tuple(sorted(int(p) for p in cfg[j] if p >= 0)))
        state.chosen.extend(picks[step - n: step].tolist())
        state.gains.extend(picked[step - n: step].tolist())
        if observe is not None and len(state.chosen) in observe_at:
            observe(state)
        if step < stop:
            break
    return state


@dataclass(frozen=True)
class _MountShape:
    """What :func:`planner.solver.greedy.conflict_arrays` reads, for a mount-level matrix."""

    problem: CoverageProblem
    n_sites: int

    @property
    def csc(self) -> sparse.csc_array:
        return self.problem.csc
