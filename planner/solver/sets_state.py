"""Camera-set states: adding a set, set gains, the coverage curve and phase ranking.

Also the greedy rule's configuration of one mount.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

import numpy as np
from scipy import sparse

from planner.solver.problem import CoverageProblem
from planner.solver.sets import (
    SetLayout,
    SetState,
    apply_column,
    commit_column,
    evaluate_mount,
    restore,
    scratch,
)

__all__ = ["add_set", "best_configuration", "curve_of", "rerank", "set_gain"]


def add_set(problem: CoverageProblem, layout: SetLayout, state: SetState, j: int,
            pans: Sequence[int], *, cost: float = 1.0,
            conflicts: sparse.csr_array | None = None,
            buffers: tuple[np.ndarray, np.ndarray] | None = None) -> float:
    """Add mount ``j`` with cameras at ``pans`` to ``state``; returns the weight it adds."""
    gain = set_gain(problem, layout, state.best, j, pans, buffers)
    csc = problem.csc
    for p in pans:
        commit_column(csc.indptr, csc.indices, csc.data, state.best, j * layout.n_pans + p)
    state.chosen.append(int(j))
    state.pans.append(tuple(sorted(int(p) for p in pans)))
    state.gains.append(float(gain))
    state.spent += cost
    state.available[j] = False
    if conflicts is not None:
        state.available[conflicts.indices[conflicts.indptr[j]:conflicts.indptr[j + 1]]] = False
    return gain


def best_configuration(problem: CoverageProblem, layout: SetLayout, best: np.ndarray,
                       j: int) -> tuple[float, tuple[int, ...]]:
    """The greedy rule's configuration of mount ``j`` given ``best``, and its gain."""
    csc = problem.csc
    save_r, save_v = scratch(problem, layout)
    pans = np.full(max(layout.per_set, len(layout.offsets())), -1, dtype=np.int64)
    gain = evaluate_mount(csc.indptr, csc.indices, csc.data, problem.weights, best, int(j),
                          layout.n_pans, layout.per_set, layout.offsets(), layout.spread_code,
                          pans, save_r, save_v)
    return float(gain), tuple(sorted(int(p) for p in pans if p >= 0))


def set_gain(problem: CoverageProblem, layout: SetLayout, best: np.ndarray, j: int,
             pans: Sequence[int], buffers: tuple[np.ndarray, np.ndarray] | None = None
             ) -> float:
    """Weight mount ``j`` with cameras at ``pans`` would add to ``best`` (left unchanged).

    ``buffers`` are undo stacks from :func:`planner.solver.sets.scratch` (made when absent).
    """
    csc = problem.csc
    save_r, save_v = scratch(problem, layout) if buffers is None else buffers
    top = 0
    for p in pans:
        top = apply_column(csc.indptr, csc.indices, csc.data, best, j * layout.n_pans + p,
                           save_r, save_v, top)
    rows, old = save_r[:top], save_v[:top]
    first = np.unique(rows, return_index=True)[1]  # a row's first push holds its old value
    gain = float(np.dot(problem.weights[rows[first]], best[rows[first]] - old[first]))
    restore(best, save_r, save_v, top)
    return gain


def curve_of(problem: CoverageProblem, layout: SetLayout, state: SetState) -> np.ndarray:
    """Covered weight after each set in order; the last value is the exact total."""
    best = problem.baseline.copy()
    buffers = scratch(problem, layout)
    out = [problem.value(best)]
    csc = problem.csc
    for j, pans in zip(state.chosen, state.pans, strict=True):
        out.append(out[-1] + set_gain(problem, layout, best, j, pans, buffers))
        for p in pans:
            commit_column(csc.indptr, csc.indices, csc.data, best, j * layout.n_pans + p)
    curve = np.asarray(out)
    curve[-1] = problem.value(best)
    return curve


def rerank(problem: CoverageProblem, layout: SetLayout, base: SetState,
           sets: Sequence[tuple[int, tuple[int, ...]]]) -> SetState:
    """Order ``sets`` (mount, pans) greedily on top of ``base``.

    Lazy, ties to the lower mount (the pans are fixed, so stale gains are upper
    bounds and lazy equals eager).
    """
    state = base.copy()
    buffers = scratch(problem, layout)
    pans_of = dict(sets)
    heap = [(-set_gain(problem, layout, state.best, j, pans, buffers), j) for j, pans in sets]
    heapq.heapify(heap)
    stamp = dict.fromkeys(pans_of, 0)
    step = 0
    while heap:
        _, j = heapq.heappop(heap)
        if stamp[j] == step:
            add_set(problem, layout, state, j, pans_of[j], buffers=buffers)
            step += 1
            continue
        stamp[j] = step
        heapq.heappush(heap, (-set_gain(problem, layout, state.best, j, pans_of[j], buffers), j))
    return state
