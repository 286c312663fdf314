"""Local search for camera sets: re-orient a camera, move a set; earlier phases held fixed.

For each movable set, in rank order:

* **re-orient**: each camera in turn is taken off and the best other pan of its
  mount (not used by the set) is put on instead when that covers more (with a
  fixed spread, or when every combination of pans is tried, the whole set is
  re-chosen at once);
* **move**: the whole set is taken off and the best configuration of the best
  open mount that shares demand points with it (of any open mount when the
  instance is small: mounts x movable sets <= 2e5) (the greedy rule of
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
from planner.solver.problem import CoverageProblem
from planner.solver.sets import (
    MountRules,
    SetLayout,
    SetState,
    commit_column,
    evaluate_mount,
    scratch,
)

__all__ = ["SearchMoves", "pair_moves", "search_sets"]

EPS = 1e-12
#: A set may move to any open mount (not only to those sharing points with it) while
#: mounts x movable sets stays within this.
EVERYWHERE_WORK = 200_000
#: Pairs of sets move together while (movable sets x mounts)^2 stays within this.
PAIR_WORK = 20_000_000


@dataclass(frozen=True)
class SearchMoves:
    """What a local search did."""

    moved: int
    reoriented: int
    passes: int
    gained: float


@njit(cache=True)
def _take_off(  # noqa: PLR0913 - a compiled kernel
    c_ptr: np.ndarray, c_idx: np.ndarray, r_ptr: np.ndarray, r_idx: np.ndarray, r_q: np.ndarray,
    w: np.ndarray, baseline: np.ndarray, on: np.ndarray, best: np.ndarray, cols: np.ndarray,
    n_cols: int, mark: np.ndarray, tick: int, rows: np.ndarray, old: np.ndarray,
) -> tuple[int, float]:
    """Switch ``cols[:n_cols]`` off and recompute their points from the other cameras.

    Returns how many points (``rows``, their former quality in ``old``) and the weight lost.
    """
    for t in range(n_cols):
        on[cols[t]] = False
    n = 0
    for t in range(n_cols):
        for e in range(c_ptr[cols[t]], c_ptr[cols[t] + 1]):
            r = c_idx[e]
            if mark[r] != tick:
                mark[r] = tick
                rows[n] = r
                n += 1
    loss = 0.0
    for t in range(n):
        i = rows[t]
        old[t] = best[i]
        q = baseline[i]
        for e in range(r_ptr[i], r_ptr[i + 1]):
            if on[r_idx[e]] and r_q[e] > q:
                q = r_q[e]
        best[i] = q
        loss += w[i] * (old[t] - q)
    return n, loss


@njit(cache=True)
def _put_back(
    on: np.ndarray, best: np.ndarray, cols: np.ndarray, n_cols: int, rows: np.ndarray,
    old: np.ndarray, n: int,
) -> None:
    for t in range(n_cols):
        on[cols[t]] = True
    for t in range(n):
        best[rows[t]] = old[t]


@njit(cache=True)
def _best_pan(
    c_ptr: np.ndarray, c_idx: np.ndarray, c_q: np.ndarray, w: np.ndarray, best: np.ndarray, j: int,
    n_pans: int, pans: np.ndarray,
) -> tuple[float, int]:
    """The pan of mount ``j`` not in ``pans`` with the largest gain (ties: lower pan)."""
    bg, bp = 0.0, -1
    for p in range(n_pans):
        taken = False
        for r in range(len(pans)):
            if pans[r] == p:
                taken = True
        if taken:
            continue
        g = column_gain_kernel(c_ptr, c_idx, c_q, w, best, j * n_pans + p)
        if g > bg:
            bg, bp = g, p
    return bg, bp


@njit(cache=True)
def _set_cols(mount: int, pans: np.ndarray, n_pans: int, cols: np.ndarray) -> int:
    n = 0
    for r in range(len(pans)):
        if pans[r] >= 0:
            cols[n] = mount * n_pans + pans[r]
            n += 1
    return n


@njit(cache=True)
def _commit(
    c_ptr: np.ndarray, c_idx: np.ndarray, c_q: np.ndarray, on: np.ndarray, best: np.ndarray,
    cols: np.ndarray, n_cols: int,
) -> None:
    for t in range(n_cols):
        on[cols[t]] = True
        commit_column(c_ptr, c_idx, c_q, best, cols[t])


@njit(cache=True)
def _reorient(  # noqa: PLR0913 - a compiled kernel
    mat: tuple[np.ndarray, ...], w: np.ndarray, baseline: np.ndarray, on: np.ndarray,
    best: np.ndarray, mount: int, pans: np.ndarray, lay: np.ndarray, offsets: np.ndarray,
    buf: tuple[np.ndarray, ...],
) -> int:
    """Turn the cameras of one set (``pans`` updated in place); returns how many turned."""
    c_ptr, c_idx, c_q, r_ptr, r_idx, r_q = mat
    n_pans, k, spread = lay[0], lay[1], lay[2]
    mark, rows, old, cols, save_r, save_v, cfg, tick = buf
    turned = 0
    if spread != -1:  # a fixed spread, or every combination of pans: the whole set at once
        n_cols = _set_cols(mount, pans, n_pans, cols)
        tick[0] += 1
        n, loss = _take_off(c_ptr, c_idx, r_ptr, r_idx, r_q, w, baseline, on, best, cols,
                            n_cols, mark, tick[0], rows, old)
        val = evaluate_mount(c_ptr, c_idx, c_q, w, best, mount, n_pans, k, offsets, spread,
                             cfg, save_r, save_v)
        if val > loss + EPS * max(loss, 1.0):
            for r in range(len(pans)):
                pans[r] = cfg[r]
            _commit(c_ptr, c_idx, c_q, on, best, cols, _set_cols(mount, pans, n_pans, cols))
            return 1
        _put_back(on, best, cols, n_cols, rows, old, n)
        return 0
    for r in range(len(pans)):
        if pans[r] < 0:
            continue
        cols[0] = mount * n_pans + pans[r]
        tick[0] += 1
        n, loss = _take_off(c_ptr, c_idx, r_ptr, r_idx, r_q, w, baseline, on, best, cols, 1,
                            mark, tick[0], rows, old)
        gain, q = _best_pan(c_ptr, c_idx, c_q, w, best, mount, n_pans, pans)
        if q >= 0 and gain > loss + EPS * max(loss, 1.0):
            pans[r] = q
            cols[0] = mount * n_pans + q
            _commit(c_ptr, c_idx, c_q, on, best, cols, 1)
            turned += 1
        else:
            _put_back(on, best, cols, 1, rows, old, n)
    return turned


@njit(cache=True)
def _candidates(  # noqa: PLR0913 - a compiled kernel
    mat: tuple[np.ndarray, ...], cols: np.ndarray, n_cols: int, n_pans: int,
    buf: tuple[np.ndarray, ...], seen: np.ndarray,
    opened: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float], out: np.ndarray,
    everywhere: bool,
) -> int:
    """Open mounts sharing a point with ``cols``, each once, in order of discovery.

    With ``everywhere``: every open mount, in index order.

    ``opened = (eligible, chosen, near, unit, spare)``: open is eligible, not chosen,
    no chosen mount closer than the spacing, and costing at most ``spare``.
    """
    c_ptr, c_idx, _, r_ptr, r_idx, _ = mat
    mark, rows, tick = buf[0], buf[1], buf[7]
    eligible, chosen, near, unit, spare = opened
    if everywhere:
        found = 0
        for j in range(len(eligible)):
            if eligible[j] and not chosen[j] and near[j] == 0 and unit[j] <= spare * (1 + 1e-12):
                out[found] = j
                found += 1
        return found
    tick[0] += 1
    n = 0
    for t in range(n_cols):
        for e in range(c_ptr[cols[t]], c_ptr[cols[t] + 1]):
            r = c_idx[e]
            if mark[r] != tick[0]:
                mark[r] = tick[0]
                rows[n] = r
                n += 1
    found = 0
    for t in range(n):
        i = rows[t]
        for e in range(r_ptr[i], r_ptr[i + 1]):
            j = r_idx[e] // n_pans
            if seen[j] != tick[0]:
                seen[j] = tick[0]
                if (eligible[j] and not chosen[j] and near[j] == 0
                        and unit[j] <= spare * (1 + 1e-12)):
                    out[found] = j
                    found += 1
    return found


@njit(cache=True)
def _shift_near(k_ptr: np.ndarray, k_idx: np.ndarray, near: np.ndarray, j: int, delta: int) -> None:
    for e in range(k_ptr[j], k_ptr[j + 1]):
        near[k_idx[e]] += delta


@njit(cache=True)
def _config_bound(single: np.ndarray, k: int, offsets: np.ndarray, spread: int) -> float:
    """Bound what any configuration can add.

    Its ``k`` largest single gains (or, with a fixed
    spread, the largest sum over one configuration's cameras).
    """
    n_pans = len(single)
    if spread >= 0:
        top = 0.0
        for p in range(n_pans):
            total = 0.0
            for r in range(len(offsets)):
                total += single[(p + offsets[r]) % n_pans]
            top = max(top, total)
        return top
    ranked = np.sort(single)
    total = 0.0
    for r in range(min(k, n_pans)):
        total += ranked[n_pans - 1 - r]
    return total


@njit(cache=True)
def _move(  # noqa: PLR0913 - a compiled kernel
    mat: tuple[np.ndarray, ...], w: np.ndarray, baseline: np.ndarray, on: np.ndarray,
    best: np.ndarray, mounts: np.ndarray, s: int, pans: np.ndarray, lay: np.ndarray,
    offsets: np.ndarray, buf: tuple[np.ndarray, ...], mask: tuple[np.ndarray, ...],
    conf: tuple[np.ndarray, ...], spare: float, seen: np.ndarray, cand: np.ndarray,
) -> bool:
    """Move set ``s`` to the best open mount sharing points with it, when that covers more."""
    c_ptr, c_idx, c_q, r_ptr, r_idx, r_q = mat
    mark, rows, old, cols, save_r, save_v, cfg, tick = buf
    eligible, chosen, near, unit = mask
    k_ptr, k_idx = conf
    n_pans, k, spread = lay[0], lay[1], lay[2]
    j = mounts[s]
    n_cols = _set_cols(j, pans, n_pans, cols)
    _shift_near(k_ptr, k_idx, near, j, -1)
    found = _candidates(mat, cols, n_cols, n_pans, buf, seen,
                        (eligible, chosen, near, unit, spare), cand, lay[3] > 0)
    if found == 0:
        _shift_near(k_ptr, k_idx, near, j, 1)
        return False
    tick[0] += 1
    n, loss = _take_off(c_ptr, c_idx, r_ptr, r_idx, r_q, w, baseline, on, best, cols, n_cols,
                        mark, tick[0], rows, old)
    best_val, best_mount = 0.0, -1
    best_cfg = np.full(len(pans), -1, dtype=np.int64)
    single = np.empty(n_pans)
    for t in range(found):
        # Prune: no configuration adds more than its cameras' single gains together.
        for p in range(n_pans):
            single[p] = column_gain_kernel(c_ptr, c_idx, c_q, w, best, cand[t] * n_pans + p)
        if _config_bound(single, k, offsets, spread) <= max(best_val, loss):
            continue
        v = evaluate_mount(c_ptr, c_idx, c_q, w, best, cand[t], n_pans, k, offsets, spread,
                           cfg, save_r, save_v)
        if v > best_val:
            best_val, best_mount = v, cand[t]
            best_cfg[:] = cfg[: len(pans)]
    if best_mount >= 0 and best_val > loss + EPS * max(loss, 1.0):
        pans[:] = best_cfg
        _commit(c_ptr, c_idx, c_q, on, best, cols,
                _set_cols(best_mount, pans, n_pans, cols))
        chosen[j], chosen[best_mount] = False, True
        _shift_near(k_ptr, k_idx, near, best_mount, 1)
        mounts[s] = best_mount
        return True
    _put_back(on, best, cols, n_cols, rows, old, n)
    _shift_near(k_ptr, k_idx, near, j, 1)
    return False


@njit(cache=True)
def _pass(  # noqa: PLR0913 - a compiled kernel
    mat: tuple[np.ndarray, ...], w: np.ndarray, baseline: np.ndarray, on: np.ndarray,
    best: np.ndarray, mounts: np.ndarray, pans: np.ndarray, first: int, lay: np.ndarray,
    offsets: np.ndarray, buf: tuple[np.ndarray, ...], mask: tuple[np.ndarray, ...],
    conf: tuple[np.ndarray, ...], budget: float, spent: float, seen: np.ndarray, cand: np.ndarray,
) -> tuple[int, int, float]:
    """One pass over the sets ``first..``: re-orient, then try a move (and re-orient again)."""
    unit = mask[3]
    turned, moved = 0, 0
    for s in range(first, len(mounts)):
        turned += _reorient(mat, w, baseline, on, best, mounts[s], pans[s], lay, offsets, buf)
        was = mounts[s]
        if _move(mat, w, baseline, on, best, mounts, s, pans[s], lay, offsets, buf, mask, conf,
                 budget - spent + unit[was], seen, cand):
            moved += 1
            spent += unit[mounts[s]] - unit[was]
            turned += _reorient(mat, w, baseline, on, best, mounts[s], pans[s], lay, offsets,
                                buf)
    return turned, moved, spent


def search_sets(problem: CoverageProblem, layout: SetLayout, state: SetState, *, first: int,
                rules: MountRules, max_passes: int = 5) -> SearchMoves:
    """Improve the sets ``state.chosen[first:]`` in place (see the module doc).

    ``state.gains`` is left as it was; the caller re-ranks the phase.
    """
    from planner.solver.greedy import conflict_arrays
    from planner.solver.sets import _MountShape

    eligible, conflicts, costs, budget = rules.eligible, rules.conflicts, rules.costs, rules.budget

    m, n_pans = len(eligible), layout.n_pans
    width = max(layout.per_set, len(layout.offsets()))
    pans = np.full((len(state.chosen), width), -1, dtype=np.int64)
    for t, ps in enumerate(state.pans):
        pans[t, : len(ps)] = ps
    mounts = np.asarray(state.chosen, dtype=np.int64)
    on = np.zeros(problem.n_sites, dtype=np.bool_)
    on[(mounts[:, None] * n_pans + pans)[pans >= 0]] = True
    chosen = np.zeros(m, dtype=np.bool_)
    chosen[mounts] = True
    k_ptr, k_idx = conflict_arrays(_MountShape(problem, m), conflicts)
    near = np.zeros(m, dtype=np.int64)
    for j in mounts.tolist():
        near[k_idx[k_ptr[j]:k_ptr[j + 1]]] += 1
    save_r, save_v = scratch(problem, layout)
    size = len(save_r)
    buf = (np.zeros(problem.n_demand, dtype=np.int64), np.empty(size, dtype=np.int64),
           np.empty(size), np.empty(width, dtype=np.int64), save_r, save_v,
           np.empty(width, dtype=np.int64), np.zeros(1, dtype=np.int64))
    c, r = problem.csc, problem.csr
    mat = (c.indptr, c.indices, c.data, r.indptr, r.indices, r.data)
    unit = np.ones(m) if costs is None else np.asarray(costs, dtype=np.float64)
    mask = (np.asarray(eligible, dtype=np.bool_), chosen, near, unit)
    everywhere = m * max(len(state.chosen) - first, 1) <= EVERYWHERE_WORK
    lay = np.array([n_pans, layout.per_set, layout.spread_code, everywhere], dtype=np.int64)
    seen, cand = np.zeros(m, dtype=np.int64), np.empty(m, dtype=np.int64)
    before = problem.value(state.best)
    moved = turned = passes = 0
    spent = float(state.spent)
    limit = np.inf if budget is None else float(budget)
    for passes in range(1, max_passes + 1):  # noqa: B007 - the count is reported
        t, mv, spent = _pass(mat, problem.weights, problem.baseline, on, state.best, mounts,
                             pans, first, lay, layout.offsets(), buf, mask,
                             (k_ptr, k_idx), limit, spent, seen, cand)
        turned, moved = turned + t, moved + mv
        if not t + mv:
            break
    state.chosen[:] = mounts.tolist()
    state.pans[:] = [tuple(sorted(int(p) for p in row if p >= 0)) for row in pans]
    state.spent = spent
    return SearchMoves(moved, turned, passes, problem.value(state.best) - before)


def pair_moves(problem: CoverageProblem, layout: SetLayout, state: SetState, *, first: int,
               rules: MountRules, max_rounds: int = 3) -> int:
    """Small instances: take two sets off together and put two back by the greedy rule.

    For every pair of movable sets (earlier ones first), the plan without them is
    extended greedily by two sets; the change is kept when it covers more. Single
    moves cannot leave a local optimum where two sets must move at once; this can.
    Counts (not budgets) only. Returns the number of pairs replaced.
    """
    if rules.costs is not None:
        return 0
    n_movable, m = len(state.chosen) - first, len(rules.eligible)
    if n_movable * n_movable * m * m > PAIR_WORK:
        return 0
    replaced = 0
    for _ in range(max_rounds):
        changed = False
        value = problem.value(state.best)
        n = len(state.chosen)
        for a in range(first, n):
            for b in range(a + 1, n):
                keep = [t for t in range(n) if t not in (a, b)]
                trial = _best_two(problem, layout, _without(problem, layout, state, keep, rules),
                                  rules)
                if problem.value(trial.best) > value * (1 + 1e-12) + 1e-12:
                    _adopt(state, trial)
                    replaced, changed = replaced + 1, True
                    break
            if changed:
                break
        if not changed:
            break
    return replaced


def _best_two(
    problem: CoverageProblem, layout: SetLayout, base: SetState, rules: MountRules,
) -> SetState:
    """Two sets added to ``base``, the best of: each open mount first, then the greedy rule."""
    from planner.solver.sets import set_greedy
    from planner.solver.sets_state import add_set, best_configuration

    best_state, best_value = None, -np.inf
    for j in np.flatnonzero(base.available).tolist():
        trial = base.copy()
        _, pans = best_configuration(problem, layout, trial.best, j)
        add_set(problem, layout, trial, j, pans, conflicts=rules.conflicts)
        set_greedy(problem, layout, trial, 1, rules)
        value = problem.value(trial.best)
        if value > best_value:
            best_state, best_value = trial, value
    return base if best_state is None else best_state


def _without(problem: CoverageProblem, layout: SetLayout, state: SetState, keep: list[int],
             rules: MountRules) -> SetState:
    """``state`` holding only the sets ``keep`` (available mounts recomputed)."""
    mounts = [state.chosen[t] for t in keep]
    cols = [j * layout.n_pans + p for t in keep for j in [state.chosen[t]] for p in state.pans[t]]
    best = problem.best_quality(np.asarray(cols, dtype=np.int64))
    available = np.asarray(rules.eligible, dtype=bool).copy()
    available[mounts] = False
    if rules.conflicts is not None and mounts:
        available[rules.conflicts[np.asarray(mounts)].indices] = False
    return SetState(best=best, available=available, chosen=mounts,
                    gains=[state.gains[t] for t in keep], spent=float(len(keep)),
                    pans=[state.pans[t] for t in keep])


def _adopt(state: SetState, trial: SetState) -> None:
    """Make ``state`` the trial plan (earlier phases keep their places: never in a pair)."""
    state.best, state.available = trial.best, trial.available
    state.chosen[:], state.pans[:] = trial.chosen, trial.pans
    state.gains[:], state.spent = trial.gains, trial.spent
