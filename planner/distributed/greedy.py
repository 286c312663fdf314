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
Wolsey & Fisher 1978). Certificate: the online submodular bound at the start and at
checkpoints, ``f(S) + sum of the p largest gains`` over all tiles (every host sends
its top-p gains, the coordinator adds the p largest), and at phase ends and the end
the Lagrangian bound tightened by subgradient steps over the hosts
(:mod:`planner.distributed.lagrange`).
"""

from __future__ import annotations

import heapq
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from planner.distributed.host import Hosts
from planner.distributed.lagrange import lagrangian_descent
from planner.distributed.tile import Proposal

__all__ = ["GreedyRun", "Hosts", "distributed_greedy", "online_bound"]

logger = logging.getLogger(__name__)

#: First number of picks a tile proposes; doubled each time a tile's list runs out.
FIRST_PROPOSAL = 32
MAX_PROPOSAL = 4096


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


def _observe(hosts: Hosts, run: GreedyRun, budgets: Sequence[int], *, steps: int) -> None:
    """Tighten the run's bounds: the online bound at the state now, and the Lagrangian.

    With ``steps`` above 0, that many Lagrangian steps for the budget the picks have
    reached (or the last budget).
    """
    t1 = time.perf_counter()
    bounds, run.value = online_bound(hosts, budgets)
    run.online = np.minimum(run.online, bounds) if run.online.size else bounds
    run.bounds = np.minimum(run.bounds, bounds)
    if steps > 0:
        reached = [t for t, b in enumerate(budgets) if int(b) == len(run.order)]
        t = reached[0] if reached else len(budgets) - 1
        lagrange = lagrangian_descent(hosts, int(budgets[t]), run.value, steps)
        if lagrange is not None:
            run.bounds[t] = min(run.bounds[t], lagrange)
    run.seconds_bound += time.perf_counter() - t1


def distributed_greedy(
    hosts: Hosts,
    tiles: Sequence[int],
    count: int,
    *,
    checkpoints: frozenset[int],
    budgets: Sequence[int],
    done: int = 0,
    dual_at: frozenset[int] = frozenset(),
    dual_steps: int = 0,
) -> GreedyRun:
    """Run greedy to ``count`` more picks (``done`` picks, the forced ones, came before).

    ``checkpoints`` are total pick counts at which the online bound is evaluated for
    ``budgets`` (besides the start and the end); at those in ``dual_at`` the Lagrangian
    bound of that budget with ``dual_steps // 2`` subgradient steps
    (:func:`planner.distributed.lagrange.lagrangian_descent`), and at the end that of
    the last budget with ``dual_steps``.
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
            at = done + len(run.order) in dual_at
            _observe(hosts, run, budgets, steps=dual_steps // 2 if at else 0)
    _observe(hosts, run, budgets, steps=dual_steps)
    logger.info("distributed greedy: %d picks in %d rounds, %d proposals",
                len(run.order), run.rounds, run.proposals)
    return run
