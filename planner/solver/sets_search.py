"""Local search for camera sets: re-orient a camera, move a set; earlier phases held fixed.

For each movable set, in rank order:

* **re-orient**: each camera in turn is taken off and the best other pan of its
  mount (not used by the set) is put on instead when that covers more (with a
  fixed spread, the whole set turns: every base pan is tried);
* **move**: the whole set is taken off and the best configuration of the best
  open mount that shares demand points with it (the greedy rule of
  :mod:`planner.solver.sets`) is put on when it covers more than the set did.
  Open means eligible, not chosen, not closer than the spacing to another chosen
  set and affordable under the budget.

A change is made only when it strictly raises the covered weight (by more than
a relative 1e-12), so the search never lowers coverage and always ends; passes
repeat until nothing changes or ``max_passes``. Taking a camera off recomputes
the quality of its points from the other chosen cameras (the matrix by rows), so
every evaluation is exact. Ties go to the lower pan or mount index: deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from planner.solver.greedy import column_gain_kernel
from planner.solver.sets import SetLayout, SetState, _evaluate_all, commit_column, scratch

__all__ = ["SearchMoves", "search_sets"]

EPS = 1e-12


@dataclass(frozen=True)
class SearchMoves:
    """What a local search did."""

    moved: int
    reoriented: int
    passes: int
    gained: float


@njit(cache=True)
def _recompute(r_ptr, r_idx, r_q, baseline, on, rows, best):
    """``best`` of ``rows`` from the baseline and the columns that are ``on``."""
    for t in range(len(rows)):
        i = rows[t]
        q = baseline[i]
        for e in range(r_ptr[i], r_ptr[i + 1]):
            if on[r_idx[e]] and r_q[e] > q:
                q = r_q[e]
        best[i] = q


@njit(cache=True)
def _best_pan(c_ptr, c_idx, c_q, w, best, j, n_pans, taken):
    """The pan of mount ``j`` not ``taken`` with the largest gain (ties: lower pan)."""
    bg, bp = 0.0, -1
    for p in range(n_pans):
        if taken[p]:
            continue
        g = column_gain_kernel(c_ptr, c_idx, c_q, w, best, j * n_pans + p)
        if g > bg:
            bg, bp = g, p
    return bg, bp


class _Search:
    """The mutable state of one search (internal)."""

    def __init__(self, problem, layout: SetLayout, state: SetState, *, eligible, conflicts,
                 costs, budget) -> None:
        self.p, self.lay, self.s = problem, layout, state
        self.eligible, self.conflicts, self.costs, self.budget = eligible, conflicts, costs, budget
        self.on = np.zeros(problem.n_sites, dtype=np.bool_)
        for j, pans in zip(state.chosen, state.pans, strict=True):
            self.on[[j * layout.n_pans + p for p in pans]] = True
        m = len(eligible)
        self.chosen = np.zeros(m, dtype=bool)
        self.chosen[state.chosen] = True
        self.near = np.zeros(m, dtype=np.int64)  # chosen mounts closer than the spacing
        for j in state.chosen:
            self._count_near(j, 1)
        self.buffers = scratch(problem, layout)
        c = problem.csc
        self.cargs = (c.indptr, c.indices, c.data, problem.weights)
        r = problem.csr
        self.rargs = (r.indptr, r.indices, r.data, problem.baseline)

    def _count_near(self, j: int, delta: int) -> None:
        if self.conflicts is not None:
            k = self.conflicts
            self.near[k.indices[k.indptr[j]:k.indptr[j + 1]]] += delta

    def rows_of(self, cols) -> np.ndarray:
        c = self.p.csc
        parts = [c.indices[c.indptr[x]:c.indptr[x + 1]] for x in cols]
        return np.unique(np.concatenate(parts)) if parts else np.empty(0, dtype=np.int64)

    def take_off(self, cols) -> tuple[np.ndarray, np.ndarray, float]:
        """Switch ``cols`` off; their points' quality recomputed. Returns rows, old, loss."""
        rows = self.rows_of(cols)
        old = self.s.best[rows].copy()
        self.on[list(cols)] = False
        _recompute(*self.rargs, self.on, rows, self.s.best)
        loss = float(np.dot(self.p.weights[rows], old - self.s.best[rows]))
        return rows, old, loss

    def put_on(self, cols) -> None:
        for x in cols:
            self.on[x] = True
            commit_column(*self.cargs[:3], self.s.best, x)


def _reorient(search: _Search, k: int) -> int:
    """Re-orient the cameras of set ``k`` one at a time; returns how many turned."""
    s, lay = search.s, search.lay
    j, n_pans = s.chosen[k], lay.n_pans
    if lay.spread is not None:
        return _turn_whole(search, k)
    turned = 0
    for p in list(s.pans[k]):
        if p not in s.pans[k]:
            continue
        rows, old, loss = search.take_off([j * n_pans + p])
        taken = np.zeros(n_pans, dtype=np.bool_)
        taken[list(s.pans[k])] = True
        gain, q = _best_pan(*search.cargs, s.best, j, n_pans, taken)
        if q >= 0 and gain > loss + EPS * max(loss, 1.0):
            search.put_on([j * n_pans + q])
            s.pans[k] = tuple(sorted((set(s.pans[k]) - {p}) | {q}))
            turned += 1
        else:
            search.on[j * n_pans + p] = True
            s.best[rows] = old
    return turned


def _configure(search: _Search, mounts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lay = search.lay
    cfg = np.full((len(search.eligible), max(lay.per_set, len(lay.offsets()))), -1,
                  dtype=np.int64)
    vals = _evaluate_all(*search.cargs, search.s.best, mounts.astype(np.int64), lay.n_pans,
                         lay.per_set, lay.offsets(), lay.spread_code, cfg, *search.buffers)
    return vals, cfg


def _turn_whole(search: _Search, k: int) -> int:
    s, lay = search.s, search.lay
    j, n_pans = s.chosen[k], lay.n_pans
    cols = [j * n_pans + p for p in s.pans[k]]
    rows, old, loss = search.take_off(cols)
    vals, cfg = _configure(search, np.array([j]))
    pans = tuple(sorted(int(p) for p in cfg[j] if p >= 0))
    if pans != s.pans[k] and vals[0] > loss + EPS * max(loss, 1.0):
        search.put_on([j * n_pans + p for p in pans])
        s.pans[k] = pans
        return 1
    search.on[cols] = True
    s.best[rows] = old
    return 0


def _move(search: _Search, k: int) -> bool:
    """Move set ``k`` to the best open mount sharing points with it, when that covers more."""
    s, lay, p = search.s, search.lay, search.p
    j, n_pans = s.chosen[k], lay.n_pans
    cols = [j * n_pans + q for q in s.pans[k]]
    rows = search.rows_of(cols)
    r = p.csr
    cand = np.unique(np.concatenate(
        [r.indices[r.indptr[i]:r.indptr[i + 1]] for i in rows]) // n_pans) if len(rows) else []
    search._count_near(j, -1)
    cand = np.asarray(cand, dtype=np.int64)
    ok = search.eligible[cand] & ~search.chosen[cand] & (search.near[cand] == 0)
    if search.budget is not None:
        spare = search.budget - s.spent + search.costs[j]
        ok &= search.costs[cand] <= spare * (1 + 1e-12)
    cand = cand[ok]
    if not len(cand):
        search._count_near(j, 1)
        return False
    rows, old, loss = search.take_off(cols)
    vals, cfg = _configure(search, cand)
    t = int(np.argmax(vals))  # first of the largest: the lower mount
    if vals[t] > loss + EPS * max(loss, 1.0):
        new = int(cand[t])
        pans = tuple(sorted(int(q) for q in cfg[new] if q >= 0))
        search.put_on([new * n_pans + q for q in pans])
        search.chosen[j], search.chosen[new] = False, True
        search._count_near(new, 1)
        if search.costs is not None:
            s.spent += float(search.costs[new] - search.costs[j])
        s.chosen[k], s.pans[k] = new, pans
        return True
    search.on[cols] = True
    s.best[rows] = old
    search._count_near(j, 1)
    return False


def search_sets(problem, layout: SetLayout, state: SetState, *, first: int,
                eligible: np.ndarray, conflicts=None, costs=None, budget=None,
                max_passes: int = 5) -> SearchMoves:
    """Improve the sets ``state.chosen[first:]`` in place (see the module doc).

    ``state.gains`` is left as it was; the caller re-ranks the phase.
    """
    search = _Search(problem, layout, state, eligible=eligible, conflicts=conflicts,
                     costs=costs, budget=budget)
    before = problem.value(state.best)
    moved = turned = passes = 0
    for passes in range(1, max_passes + 1):  # noqa: B007 - the count is reported
        changes = 0
        for k in range(first, len(state.chosen)):
            t = _reorient(search, k)
            m = int(_move(search, k))
            if m:
                t += _reorient(search, k)
            turned, moved, changes = turned + t, moved + m, changes + t + m
        if not changes:
            break
    return SearchMoves(moved, turned, passes, problem.value(state.best) - before)
