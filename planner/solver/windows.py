"""Window search: exact re-solves of small neighbourhoods of a plan, a multi-site move.

Single swaps (:mod:`planner.solver.localsearch`) move one site at a time and stop where
no single move helps, although moving three or four neighbouring sites together often
does. A *window* frees a chosen site and its nearest chosen neighbours in the coverage
graph (sites sharing a demand point with it first, then those sharing one with them),
opens every available site sharing a demand point with a freed one, keeps every other
chosen site where it is, and asks HiGHS for the best placement of as many sites inside
it, with the plan's value as the cut-off and a node limit (a fix-and-optimise or
POPMUSIC step; Taillard & Voss 2002). A window's placement is kept when it covers more.

Windows are seeded next to the open sites that would add most (where no single swap let
them in), each site freed at most once per sweep, sweeps repeated while they gain; their
number and every solve's nodes are counted, never timed, so the plan is the same on
every machine. Binary coverage without costs only (the MIP's domain).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from planner.solver.exact import ExactLimits, improve_reduced
from planner.solver.gains import all_gains, gather
from planner.solver.greedy import GreedyState
from planner.solver.mclp import Reduced
from planner.solver.presolve import merge_rows
from planner.solver.problem import CoverageProblem

__all__ = ["WindowStats", "Windows", "unavailable", "window_search"]

logger = logging.getLogger(__name__)

#: Rings of the coverage graph searched for a window's chosen sites (each ring: the
#: sites sharing a demand point with the last), until the window is full.
RINGS = 6
#: Most coverage pairs in a window (after merging its points): windows with more free
#: fewer sites. Measured: HiGHS solves windows of up to ~10,000 pairs in well under a
#: second; at 40,000 pairs its root node alone can take half a minute.
WINDOW_NNZ = 30_000


@dataclass(frozen=True)
class Windows:
    """How much the window search may do.

    Attributes
    ----------
    count
        Windows solved at most (each one HiGHS MIP).
    size
        Chosen sites freed together in a window, at most: fewer where the window would be
        too big for a quick MIP (``WINDOW_NNZ``).
    limits
        Nodes and the safety-net seconds of each window's MIP (a solve the clock stops
        is not used).
    """

    count: int
    size: int = 20
    limits: ExactLimits = field(default_factory=lambda: ExactLimits(nodes=100))


@dataclass(frozen=True)
class WindowStats:
    """What a window search did: windows solved, windows improved, weight gained."""

    solved: int = 0
    improved: int = 0
    gained: float = 0.0


def unavailable(*, local_search: bool, exact: str, binary: bool, costs: bool) -> str | None:
    """Why the window search cannot run under these settings (None: it can)."""
    if not local_search:
        return "it needs local search (--no-local-search or local_search = false is set)"
    if exact == "never":
        return "it needs the MIP (--no-exact or exact = false is set)"
    if costs:
        return "it needs a count of sets, not a budget"
    if not binary:
        return "it needs plain coverage (distance-decay bands are set)"
    return None


def _rows_of(matrix: sparse.csc_array | sparse.csr_array, lines: np.ndarray) -> np.ndarray:
    """Indices stored in each of ``lines`` (columns of a CSC, rows of a CSR), concatenated."""
    out: np.ndarray = matrix.indices[gather(matrix.indptr, lines)[0]]
    return out


def _sites_of(csr: sparse.csr_array, rows: np.ndarray) -> np.ndarray:
    """Sites seeing any of ``rows`` (sorted, unique)."""
    return np.unique(_rows_of(csr, np.unique(rows)))


def _quick(red: Reduced) -> bool:
    """Small enough for a quick MIP: at most WINDOW_NNZ pairs (HiGHS's root grows with them)."""
    return int(red.group_cover.nnz) <= WINDOW_NNZ


@dataclass
class _Plan:
    """The plan being improved: chosen sites, how many cover each point, masks (internal)."""

    problem: CoverageProblem
    state: GreedyState
    count: np.ndarray  # chosen sites seeing each point
    chosen: np.ndarray  # bool per site
    movable: np.ndarray  # bool per site
    eligible: np.ndarray
    conflicts: sparse.csr_array | None

    def seeds(self) -> list[int]:
        """Movable chosen sites, those next to the open sites that would gain most first.

        A site that would add much but that no single swap lets in marks a place where
        moving several sites together may pay; ties keep pick order.
        """
        problem, csr, csc = self.problem, self.problem.csr, self.problem.csc
        movable = np.array([j for j in self.state.chosen if self.movable[j]], dtype=np.int64)
        gains = np.where(self.eligible & ~self.chosen, all_gains(problem, self.state.best), 0.0)
        values, starts = gains[csr.indices], csr.indptr[:-1]
        seen = np.diff(csr.indptr) > 0
        best_open = np.zeros(problem.n_demand)
        best_open[seen] = np.maximum.reduceat(values, starts[seen])
        positions, owner = gather(csc.indptr, movable)
        potential = np.zeros(movable.size)
        np.maximum.at(potential, owner, best_open[csc.indices[positions]])
        seeds: list[int] = movable[np.argsort(-potential, kind="stable")].tolist()
        return seeds

    def freed(self, seed: int, size: int, done: np.ndarray) -> np.ndarray:
        """``seed`` and up to ``size - 1`` movable chosen sites nearest it in the coverage graph."""
        problem, pick = self.problem, [seed]
        ring = _sites_of(problem.csr, _rows_of(problem.csc, np.array([seed])))
        for _ in range(RINGS):
            near = ring[self.movable[ring] & ~done[ring] & (ring != seed)]
            near = near[~np.isin(near, pick)]
            pick.extend(near[: size - len(pick)].tolist())
            if len(pick) >= size:
                break
            ring = _sites_of(problem.csr, _rows_of(problem.csc, ring))
        return np.array(pick, dtype=np.int64)

    def window(self, freed: np.ndarray) -> tuple[Reduced, np.ndarray] | None:
        """The window's instance (points no fixed site covers) and the freed sites' 0/1 vector."""
        problem = self.problem
        freed_rows = _rows_of(problem.csc, freed)
        near = _sites_of(problem.csr, freed_rows)
        open_ = near[self.eligible[near] & ~self.chosen[near]]
        if self.conflicts is not None and open_.size:
            open_ = open_[~self._blocked(open_, freed)]
        columns = np.union1d(open_, freed)
        rows = np.unique(_rows_of(problem.csc, columns))
        hit, times = np.unique(freed_rows, return_counts=True)  # freed sites seeing each row
        own = np.zeros(rows.size, dtype=self.count.dtype)
        own[np.searchsorted(rows, hit)] = times
        open_rows = (self.count[rows] == own) & (problem.weights[rows] > 0)
        rows = rows[open_rows & (problem.baseline[rows] < 1.0)]  # no site that stays sees them
        if rows.size == 0:
            return None
        sub = sparse.csr_array(problem.csr[rows][:, columns])
        sub.sort_indices()
        leaders, _, weight = merge_rows(sub, problem.weights[rows], np.zeros(rows.size))
        cover = sparse.csr_array(sub[leaders])
        cover.data[:] = 1.0
        return Reduced(0.0, columns, weight, cover), np.isin(columns, freed).astype(np.float64)

    def _blocked(self, sites: np.ndarray, freed: np.ndarray) -> np.ndarray:
        """Sites too close to a chosen site that stays (one not in ``freed``)."""
        assert self.conflicts is not None
        sub = sparse.csr_array(self.conflicts[sites])
        stays = self.chosen.copy()
        stays[freed] = False
        hit = stays[sub.indices].astype(np.int64)
        row = np.repeat(np.arange(sites.size), np.diff(sub.indptr))
        return np.bincount(row, weights=hit, minlength=sites.size) > 0

    def move(self, out: np.ndarray, into: np.ndarray) -> None:
        """Replace the chosen sites ``out`` by ``into`` (in place)."""
        problem, state = self.problem, self.state
        np.subtract.at(self.count, _rows_of(problem.csc, out), 1)
        np.add.at(self.count, _rows_of(problem.csc, into), 1)
        touched = np.unique(_rows_of(problem.csc, np.union1d(out, into)))
        state.best[touched] = np.maximum(problem.baseline[touched], self.count[touched] > 0)
        self.chosen[out], self.movable[out] = False, False
        self.chosen[into], self.movable[into] = True, True
        gone = set(out.tolist())
        keep = [(j, g) for j, g in zip(state.chosen, state.gains, strict=True) if j not in gone]
        state.chosen = [j for j, _ in keep] + into.tolist()
        state.gains = [g for _, g in keep] + [0.0] * into.size
        state.spent = float(len(state.chosen))


def window_search(
    problem: CoverageProblem,
    state: GreedyState,
    movable: Sequence[int],
    *,
    eligible: np.ndarray,
    conflicts: sparse.csr_array | None,
    windows: Windows,
) -> WindowStats:
    """Improve the ``movable`` chosen sites of ``state`` window by window (in place).

    Every other chosen site stays. The chosen list keeps the sites that stay in order
    and appends a window's new sites (gains 0): re-rank the phase afterwards.
    ``state.available`` is left stale.
    """
    if windows.count <= 0 or not movable:
        return WindowStats()
    chosen = np.zeros(problem.n_sites, dtype=bool)
    chosen[state.chosen] = True
    mask = np.zeros(problem.n_sites, dtype=bool)
    mask[list(movable)] = True
    counts = np.bincount(
        _rows_of(problem.csc, np.asarray(state.chosen, dtype=np.int64)), minlength=problem.n_demand
    ).astype(np.int32)
    plan = _Plan(problem, state, counts, chosen, mask, eligible, conflicts)
    solved = improved = 0
    gained = 0.0
    while solved < windows.count:
        done = np.zeros(problem.n_sites, dtype=bool)
        sweep_gain = 0.0
        for seed in plan.seeds():
            if solved >= windows.count:
                break
            if done[seed] or not plan.movable[seed]:
                continue
            freed = plan.freed(seed, windows.size, done)
            window = plan.window(freed)
            while window is not None and freed.size > 1 and not _quick(window[0]):
                freed = freed[:-1]  # too big for a quick MIP: free fewer sites
                window = plan.window(freed)
            done[freed] = True
            if window is None:
                continue
            red, current = window
            solved += 1
            better = improve_reduced(red, freed.size, current, conflicts=conflicts,
                                     limits=windows.limits)
            if better is None:
                continue
            into = red.columns[better > 0.5]
            gain = red.covered(better) - red.covered(current)
            plan.move(freed, into)
            done[into] = True
            improved, sweep_gain = improved + 1, sweep_gain + gain
        gained += sweep_gain
        if sweep_gain <= 0.0:
            break
    logger.info("window search: %d windows, %d improved, +%.6g weight", solved, improved, gained)
    return WindowStats(solved, improved, gained)
