"""The distributed greedy: exactly the single-machine greedy, in rounds over tiles.

Method. Every tile proposes its next picks as if no other tile picked (its own
lazy greedy, run on a copy of its state). The coordinator merges the proposals in
greedy order (gain, then lower global site index) and accepts them one by one; a
pick of site ``j`` changes only the demand within the reach of ``j``, so it can
change the gains of the tiles whose rectangles lie within twice the reach of
``j`` only: those tiles are *blocked* for the rest of the round. The walk stops at
the first proposal of a blocked tile, or after the last proposal of a tile that
still has sites left. Every accepted pick is then the pick the single-machine greedy
makes at that step (a blocked tile's gains can only have fallen below its next
proposal, an untouched tile's proposals are still exact), so the plan is the same,
site for site. Accepted picks are committed on their own tile and their coverage
sent to the blocked tiles; only tiles that were touched or ran out propose again.

Guarantee: the greedy plan itself, so at least ``1 - 1/e`` of the optimum (Nemhauser,
Wolsey & Fisher 1978), with the online submodular bound as certificate: at the
start and at checkpoints, ``f(S) + sum of the p largest gains`` over all tiles
(every host sends its top-p gains, the coordinator adds the p largest).
"""

from __future__ import annotations

import heapq
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from planner.distributed.partition import Grid
from planner.distributed.tile import Proposal

__all__ = ["GreedyRun", "Hosts", "distributed_greedy", "online_bound"]

logger = logging.getLogger(__name__)

#: First number of picks a tile proposes; doubled each time a tile's list runs out.
FIRST_PROPOSAL = 32
MAX_PROPOSAL = 4096


@dataclass
class Hosts:
    """The actors and which tile lives on which (coordinator side)."""

    actors: list
    host_of: dict[int, int]
    grid: Grid

    def call(self, method: str, per_host: dict[int, object]) -> dict[int, object]:
        """Call ``method`` on several hosts at once; results by host."""
        futures = {h: getattr(self.actors[h], method)(arg) for h, arg in per_host.items()}
        return {h: f.result() for h, f in futures.items()}

    def by_host(self, per_tile: dict[int, object]) -> dict[int, dict[int, object]]:
        """Group per-tile values by the host that keeps the tile."""
        out: dict[int, dict[int, object]] = defaultdict(dict)
        for t, v in per_tile.items():
            out[self.host_of[t]][t] = v
        return out

    def touched(self, x: float, y: float) -> np.ndarray:
        """Tiles whose demand a pick at ``(x, y)`` can reach (within twice the reach)."""
        _, tiles = self.grid.near(np.array([x]), np.array([y]), 2.0 * self.grid.reach)
        return tiles


@dataclass
class GreedyRun:
    """The picks of a run, in order, and the bound observations."""

    order: list[int] = field(default_factory=list)
    gains: list[float] = field(default_factory=list)
    rounds: int = 0
    proposals: int = 0
    bounds: np.ndarray = field(default_factory=lambda: np.zeros(0))
    value: float = 0.0
    seconds_bound: float = 0.0
    online: np.ndarray = field(default_factory=lambda: np.zeros(0))


def online_bound(hosts: Hosts, budgets: Sequence[int]) -> tuple[np.ndarray, float]:
    """``f(S) + sum of the b largest gains`` for every budget ``b``, and ``f(S)``."""
    top = max([int(b) for b in budgets] + [0])
    answers = hosts.call("top_gains", dict.fromkeys(range(len(hosts.actors)), top))
    value = float(sum(v for _, v in answers.values()))
    gains = np.sort(np.concatenate([g for g, _ in answers.values()]))[::-1]
    sums = np.concatenate([[0.0], np.cumsum(gains)])
    return np.array([value + sums[min(int(b), len(gains))] for b in budgets]), value


#: Multipliers ``alpha`` of the one-parameter Lagrangian bound (0 is the online bound).
ALPHAS = np.array([0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.85])


def line_bound(hosts: Hosts, budgets: Sequence[int]) -> np.ndarray | None:
    """The Lagrangian bound along one line of multipliers, for every budget.

    For plain coverage and any multipliers ``u`` with ``0 <= u_i <= w_i``,
    ``OPT <= f0 + sum_i (r_i - u_i) + (sum of the b largest column sums of u)``, where
    ``f0`` is the weight covered at the start (existing cameras, forced sites) and ``r``
    the weight not covered then (Church & ReVelle's relaxation, multipliers on the
    coverage constraints). With ``u = w`` on points the plan leaves uncovered and
    ``u = alpha * w`` on points its picks cover this is
    ``f0 + (1 - alpha) * (f(S) - f0) + top_b(gain + alpha * covered)``; ``alpha = 0``
    gives the online bound. The smallest over :data:`ALPHAS` is returned (``None``
    unless the coverage is plain).
    """
    top = max([int(b) for b in budgets] + [0])
    answers = hosts.call("line_tops", dict.fromkeys(range(len(hosts.actors)), (top, ALPHAS)))
    if any(a is None for a in answers.values()):
        return None
    value = float(sum(a[1] for a in answers.values()))
    start = float(sum(a[2] for a in answers.values()))
    tops = -np.sort(-np.concatenate([a[0] for a in answers.values()], axis=1), axis=1)
    sums = np.concatenate([np.zeros((len(ALPHAS), 1)), np.cumsum(tops, axis=1)], axis=1)
    out = []
    for b in budgets:
        k = min(int(b), tops.shape[1])
        out.append(float(np.min(start + (1 - ALPHAS) * (value - start) + sums[:, k])))
    return np.array(out)


def _walk(
    lists: dict[int, Proposal], pos: dict[int, int], limit: int, hosts: Hosts
) -> tuple[list[tuple[int, int, float]], dict[int, list[tuple[float, float]]], bool]:
    """Accept proposals in greedy order while they are certainly greedy's next picks.

    Returns the accepted ``(tile, index, gain)``, the foreign picks' coordinates per
    touched tile, and whether nothing is left to pick anywhere.
    """
    heads = []
    for t, prop in lists.items():
        if pos[t] < len(prop.index):
            heads.append((-prop.gain[pos[t]], int(prop.index[pos[t]]), t))
    heapq.heapify(heads)
    if not heads:
        return [], {}, True
    accepted: list[tuple[int, int, float]] = []
    foreign: dict[int, list[tuple[float, float]]] = defaultdict(list)
    while heads and len(accepted) < limit:
        neg, idx, t = heapq.heappop(heads)
        if t in foreign:
            break  # a pick near this tile changed its gains: its next pick is unknown
        prop, k = lists[t], pos[t]
        accepted.append((t, idx, -neg))
        pos[t] = k + 1
        for u in hosts.touched(float(prop.x[k]), float(prop.y[k])).tolist():
            if u != t and u in hosts.host_of:
                foreign[u].append((float(prop.x[k]), float(prop.y[k])))
        if pos[t] < len(prop.index):
            heapq.heappush(heads, (-prop.gain[pos[t]], int(prop.index[pos[t]]), t))
        elif not prop.dry:
            break  # this tile's next pick is unknown, and may come before any other
    return accepted, foreign, False


def _record(
    run: GreedyRun,
    accepted: list[tuple[int, int, float]],
    foreign: dict[int, list[tuple[float, float]]],
    lists: dict[int, Proposal],
    pos: dict[int, int],
    size: dict[int, int],
) -> tuple[dict[int, tuple[int, np.ndarray]], set[int]]:
    """Record a round's picks; the commits per tile and the tiles that must propose again."""
    own: dict[int, int] = defaultdict(int)
    for t, idx, gain in accepted:
        own[t] += 1
        run.order.append(idx)
        run.gains.append(gain)
    commits = {t: (own.get(t, 0), np.asarray(foreign.get(t, []), dtype=np.float64))
               for t in set(own) | set(foreign)}
    want = set(foreign)
    for t in own:
        if pos[t] >= len(lists[t].index) and not lists[t].dry:
            size[t] = min(2 * size[t], MAX_PROPOSAL)
            want.add(t)
    # A tile whose proposals ran dry has no site that adds weight; foreign picks keep it so.
    return commits, {t for t in want if not (lists[t].dry and pos[t] >= len(lists[t].index))}


def _step(hosts: Hosts, commits: dict, want: set[int], size: dict[int, int],
          lists: dict[int, Proposal], pos: dict[int, int]) -> None:
    """One message per host: commit the round's picks, propose for the tiles in ``want``."""
    by_commit = hosts.by_host(commits)
    by_want = hosts.by_host({t: size[t] for t in sorted(want)})
    work = {h: (by_commit.get(h, {}), by_want.get(h, {})) for h in set(by_commit) | set(by_want)}
    for answer in hosts.call("step", work).values():
        for t, prop in answer.items():
            lists[t], pos[t] = prop, 0


def _observe(hosts: Hosts, run: GreedyRun, budgets: Sequence[int], *, line: bool) -> None:
    """Tighten the run's bounds with the online (and the line) bound at the state now."""
    t1 = time.perf_counter()
    bounds, run.value = online_bound(hosts, budgets)
    run.online = np.minimum(run.online, bounds) if run.online.size else bounds
    run.bounds = np.minimum(run.bounds, bounds)
    if line:
        lagrange = line_bound(hosts, budgets)
        if lagrange is not None:
            run.bounds = np.minimum(run.bounds, lagrange)
    run.seconds_bound += time.perf_counter() - t1


def distributed_greedy(
    hosts: Hosts,
    tiles: Sequence[int],
    count: int,
    *,
    checkpoints: frozenset[int],
    budgets: Sequence[int],
    done: int = 0,
    line_at: frozenset[int] = frozenset(),
) -> GreedyRun:
    """Run greedy to ``count`` more picks (``done`` picks, the forced ones, came before).

    ``checkpoints`` are total pick counts at which the online bound is evaluated for
    ``budgets`` (besides the start and the end); at those in ``line_at`` and at the end
    the one-parameter Lagrangian bound (:func:`line_bound`) too.
    """
    run = GreedyRun()
    t0 = time.perf_counter()
    run.bounds, run.value = online_bound(hosts, budgets)
    run.online = run.bounds.copy()
    run.seconds_bound += time.perf_counter() - t0
    lists: dict[int, Proposal] = {}
    pos: dict[int, int] = {}
    size = dict.fromkeys(tiles, FIRST_PROPOSAL)
    stops = [*sorted(c - done for c in checkpoints if 0 < c - done <= count), count]
    _step(hosts, {}, set(tiles), size, lists, pos)
    run.proposals += len(tiles)
    while len(run.order) < count:
        stop = next(s for s in stops if s > len(run.order))
        accepted, foreign, empty = _walk(lists, pos, stop - len(run.order), hosts)
        if empty:
            break
        run.rounds += 1
        commits, want = _record(run, accepted, foreign, lists, pos, size)
        _step(hosts, commits, want, size, lists, pos)
        run.proposals += len(want)
        if done + len(run.order) in checkpoints and len(run.order) < count:
            _observe(hosts, run, budgets, line=done + len(run.order) in line_at)
    _observe(hosts, run, budgets, line=True)
    logger.info("distributed greedy: %d picks in %d rounds, %d proposals",
                len(run.order), run.rounds, run.proposals)
    return run
