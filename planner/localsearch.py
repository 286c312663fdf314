"""Local search by site swaps, with the sites of earlier phases held fixed.

For each movable chosen site ``j`` the search finds the unchosen site ``k``
whose swap in for ``j`` raises the covered weight most, and makes the swap
when it raises it at all (first improvement over ``j``, best over ``k``).
Passes repeat until no swap improves or ``max_passes`` is reached. Every
accepted swap strictly raises the objective, so the search never lowers
coverage and always ends.

Each evaluation is local: removing ``j`` lowers the quality only of points
``j`` sees, so only sites that see those points change their gain; every
other site keeps its current gain, and the best of those is one masked
``argmax``. Works for binary coverage and for distance-decay qualities.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from planner.coverage import CoverageProblem
from planner.gains import all_gains, gather, segment_sums
from planner.greedy import GreedyState

__all__ = ["SwapStats", "swap_search"]

logger = logging.getLogger(__name__)

#: How many best open sites are kept sorted for the "best site elsewhere" look-up.
LEADERS = 256


@dataclass(frozen=True)
class SwapStats:
    """What a local search did."""

    swaps: int
    passes: int
    gained: float


class _Search:
    """Working arrays of one local search (internal)."""

    def __init__(
        self,
        problem: CoverageProblem,
        state: GreedyState,
        eligible: np.ndarray,
        conflicts: sparse.csr_array | None,
        costs: np.ndarray | None,
        budget: float | None,
    ) -> None:
        self.p = problem
        self.state = state
        self.eligible = eligible
        self.conflicts = conflicts
        self.costs = costs
        self.budget = budget
        m = problem.n_sites
        self.chosen = np.zeros(m, dtype=bool)
        self.chosen[state.chosen] = True
        if conflicts is not None:
            self.blocked = conflicts @ self.chosen.astype(np.int64)
        else:
            self.blocked = np.zeros(m, dtype=np.int64)
        self.gains = all_gains(problem, state.best)
        self.open = np.where(self._free(np.arange(m)), self.gains, -np.inf)
        self._leaders: np.ndarray | None = None
        self.tol = 1e-10 * max(float(problem.weights.sum()), 1e-300)

    def _free(self, cols: np.ndarray) -> np.ndarray:
        return self.eligible[cols] & ~self.chosen[cols] & (self.blocked[cols] == 0)

    def _neighbours(self, j: int) -> np.ndarray:
        if self.conflicts is None:
            return np.empty(0, dtype=np.int64)
        c = self.conflicts
        return c.indices[c.indptr[j] : c.indptr[j + 1]].astype(np.int64)

    def _column(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        csc = self.p.csc
        lo, hi = csc.indptr[j], csc.indptr[j + 1]
        return csc.indices[lo:hi], csc.data[lo:hi]

    def best_swap(self, j: int) -> tuple[float, int, np.ndarray, np.ndarray, float]:
        """Best improvement from swapping ``j`` out, the site in, the new qualities, the loss."""
        p, best = self.p, self.state.best
        rows, _ = self._column(j)
        pos, owner = gather(p.csr.indptr, rows)
        cols = p.csr.indices[pos]
        q = p.csr.data[pos]
        others = np.where(self.chosen[cols] & (cols != j), q, 0.0)
        starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
        without = np.maximum(p.baseline[rows], np.maximum.reduceat(others, starts))
        drop = best[rows] - without
        loss = float(np.dot(p.weights[rows], drop))
        hit = drop[owner] > 0
        c_hit, o_hit, q_hit = cols[hit], owner[hit], q[hit]
        r_hit = rows[o_hit]
        delta = p.weights[r_hit] * (
            np.maximum(q_hit - without[o_hit], 0.0) - np.maximum(q_hit - best[r_hit], 0.0)
        )
        near = self._neighbours(j)
        cand, inv = np.unique(np.concatenate([c_hit, near]), return_inverse=True)
        extra = np.bincount(inv[: len(c_hit)], weights=delta, minlength=len(cand))
        slack = self._slack(j)
        ok = (
            self.eligible[cand]
            & ~self.chosen[cand]
            & (self.blocked[cand] - np.isin(cand, near) == 0)
            & (self._cost(cand) <= slack)
        )
        best_val, best_k = -np.inf, -1
        if ok.any():
            vals = np.where(ok, self.gains[cand] + extra, -np.inf)
            i = int(np.argmax(vals))
            best_val, best_k = float(vals[i]), int(cand[i])
        k2, v2 = self._best_elsewhere(cand, slack)
        if v2 > best_val or (v2 == best_val and 0 <= k2 < best_k):
            best_val, best_k = v2, k2
        return best_val - loss, best_k, rows, without, loss

    def _cost(self, cols: np.ndarray) -> np.ndarray:
        return np.ones(len(cols)) if self.costs is None else self.costs[cols]

    def _slack(self, j: int) -> float:
        if self.budget is None or self.costs is None:
            return np.inf
        return self.budget - (self.state.spent - float(self.costs[j]))

    def _leading(self) -> np.ndarray:
        """The open sites with the largest gains, best first (ties: lower index)."""
        if self._leaders is None:
            k = min(LEADERS, len(self.open))
            top = np.argpartition(-self.open, k - 1)[:k]
            self._leaders = top[np.lexsort((top, -self.open[top]))]
        return self._leaders

    def _best_elsewhere(self, cand: np.ndarray, slack: float) -> tuple[int, float]:
        """The open site with the largest gain outside ``cand`` (its gain is unchanged)."""
        if not np.isfinite(slack):
            leaders = self._leading()
            outside = leaders[~np.isin(leaders, cand)]
            # Valid only if some leader is outside cand and beats every non-leader.
            if outside.size and len(leaders) < len(self.open):
                k = int(outside[0])
                if self.open[k] >= self.open[leaders[-1]]:
                    return k, float(self.open[k])
        saved = self.open[cand].copy()
        self.open[cand] = -np.inf
        try:
            if np.isfinite(slack):
                masked = np.where(self.costs <= slack, self.open, -np.inf)
                k = int(np.argmax(masked))
                return k, float(masked[k])
            k = int(np.argmax(self.open))
            return k, float(self.open[k])
        finally:
            self.open[cand] = saved

    def apply(self, pos: int, k: int, rows_j: np.ndarray, without: np.ndarray) -> np.ndarray:
        """Swap the site at ``state.chosen[pos]`` for ``k``; refresh and return the sites
        whose gain or availability changed."""
        st, p = self.state, self.p
        j = st.chosen[pos]
        st.best[rows_j] = without
        rows_k, q_k = self._column(k)
        st.best[rows_k] = np.maximum(st.best[rows_k], q_k)
        st.chosen[pos] = k
        self.chosen[j], self.chosen[k] = False, True
        if self.costs is not None:
            st.spent += float(self.costs[k] - self.costs[j])
        if self.conflicts is not None:
            self.blocked[self._neighbours(j)] -= 1
            self.blocked[self._neighbours(k)] += 1
        touched_rows = np.unique(np.concatenate([rows_j, rows_k]))
        pos_r, _ = gather(p.csr.indptr, touched_rows)
        affected = np.unique(
            np.concatenate([p.csr.indices[pos_r], [j, k], self._neighbours(j), self._neighbours(k)])
        ).astype(np.int64)
        self._refresh(affected)
        self._leaders = None
        return affected

    def touched_by(self, affected: np.ndarray) -> np.ndarray:
        """Chosen sites whose best swap may have changed because ``affected`` sites did:
        those sharing a demand point with one, or closer than the spacing to one."""
        p = self.p
        pos, _ = gather(p.csc.indptr, affected)
        rows = np.unique(p.csc.indices[pos])
        pos_r, _ = gather(p.csr.indptr, rows)
        near = [p.csr.indices[pos_r].astype(np.int64)]
        if self.conflicts is not None:
            pos_c, _ = gather(self.conflicts.indptr, affected)
            near.append(self.conflicts.indices[pos_c].astype(np.int64))
        sites = np.unique(np.concatenate(near))
        return sites[self.chosen[sites]]

    def best_open_gain(self) -> float:
        return float(self.open.max()) if self.open.size else -np.inf

    def _refresh(self, cols: np.ndarray) -> None:
        p, best = self.p, self.state.best
        pos, owner = gather(p.csc.indptr, cols)
        rows = p.csc.indices[pos]
        contrib = p.weights[rows] * np.maximum(p.csc.data[pos] - best[rows], 0.0)
        self.gains[cols] = segment_sums(contrib, owner, len(cols))
        self.open[cols] = np.where(self._free(cols), self.gains[cols], -np.inf)


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
    search = _Search(problem, state, eligible, conflicts, costs, budget)
    start = problem.value(state.best)
    swaps = passes = 0
    # "Don't look" bits: a site needs a new look only when something near it changed,
    # or when some open site now gains more than removing it would lose.
    dirty = np.ones(len(movable), dtype=bool)
    last_loss = np.full(len(movable), np.inf)
    slot = {state.chosen[pos]: i for i, pos in enumerate(movable)}
    best_open = search.best_open_gain()
    budgeted = costs is not None and budget is not None
    while passes < max_passes:
        passes += 1
        improved = False
        for i, pos in enumerate(movable):
            if not dirty[i] and not budgeted and last_loss[i] > best_open + search.tol:
                continue
            j = state.chosen[pos]
            gain, k, rows_j, without, loss = search.best_swap(j)
            dirty[i], last_loss[i] = False, loss
            if k >= 0 and gain > search.tol:
                affected = search.apply(pos, k, rows_j, without)
                del slot[j]
                slot[k] = i
                dirty[[slot[c] for c in search.touched_by(affected).tolist() if c in slot]] = True
                best_open = search.best_open_gain()
                swaps += 1
                improved = True
        if not improved:
            break
    gained = problem.value(state.best) - start
    logger.info("local search: %d swaps in %d passes, +%.6g weight", swaps, passes, gained)
    return SwapStats(swaps=swaps, passes=passes, gained=gained)
