"""The Lagrangian bound on a cluster: subgradient steps, one round over the hosts each.

The bound and the steps are those of :func:`planner.solver.bounds.lagrangian_bound`
(Church & ReVelle's relaxation of the coverage constraints, multipliers
``0 <= v_i <= w_i`` on the points the start state leaves uncovered)::

    OPT_p <= C + sum_i (w_i - v_i) + (sum of the p largest column sums c_j = sum_{i in N(j)} v_i)

valid for *any* such ``v``, so the descent only has to be deterministic, not exact.
Each host keeps the multipliers of its tiles' copies of demand points
(:mod:`planner.distributed.dual`); a step is two messages per host: (1) take the last
step and send the p largest ``c_j`` of its free sites (value, index, coordinates);
the coordinator merges them (ties to the lower index), evaluates the bound and sends
the cut and, per tile, the chosen sites of other tiles within twice the reach;
(2) count the chosen sites seeing every copy, set the deflected direction, send the
squared norm. The Polyak step ``scale * (bound - lower) / norm`` goes with the next
message (1). Step counts, never clocks: the same bound on every run.
"""

from __future__ import annotations

import logging
from collections import defaultdict

import numpy as np

from planner.distributed.dual import top_rows
from planner.distributed.host import Hosts
from planner.solver.bounds import StepSchedule

__all__ = ["lagrangian_descent"]

logger = logging.getLogger(__name__)


def _merge(answers: list[tuple[np.ndarray, ...]], count: int) -> tuple[np.ndarray, ...]:
    """The ``count`` largest column sums over all hosts, ties to the lower site index."""
    merged = tuple(np.concatenate([a[k] for a in answers]) for k in range(4))
    rows = top_rows(merged[0], merged[1], count)
    return tuple(a[rows] for a in merged)


def _foreign(hosts: Hosts, top: tuple[np.ndarray, ...]) -> dict[int, dict[int, tuple]]:
    """Per host and tile, the chosen sites of other tiles within twice the reach."""
    _, index, x, y = top
    own = hosts.grid.tile(x, y)
    pos, tiles = hosts.grid.near(x, y, 2.0 * hosts.grid.reach)
    keep = tiles != own[pos]
    per_tile: dict[int, list[int]] = defaultdict(list)
    for p, t in zip(pos[keep].tolist(), tiles[keep].tolist(), strict=True):
        if t in hosts.host_of:
            per_tile[t].append(p)
    out: dict[int, dict[int, tuple]] = {h: {} for h in range(len(hosts.actors))}
    for t in sorted(per_tile):
        rows = np.sort(np.asarray(per_tile[t], dtype=np.int64))
        out[hosts.host_of[t]][t] = (index[rows], np.column_stack([x[rows], y[rows]]))
    return out


def lagrangian_descent(hosts: Hosts, count: int, lower: float, steps: int) -> float | None:
    """The best Lagrangian bound in ``steps`` subgradient steps from the state now.

    ``count`` sites may be added to the start state (existing cameras, forced sites);
    ``lower`` is the covered weight of a plan within that count (the steps' target).
    ``None`` unless coverage is plain (qualities 0 or 1).
    """
    everyone = dict.fromkeys(range(len(hosts.actors)))
    begun = hosts.call("dual_begin", everyone)
    if any(b is None for b in begun.values()):
        hosts.call("dual_end", everyone)
        return None
    slack = float(sum(b[0] for b in begun.values()))  # type: ignore[index]
    constant = float(sum(b[1] for b in begun.values()))  # type: ignore[index]
    if count <= 0:
        hosts.call("dual_end", everyone)
        return constant
    top = _merge(list(hosts.call("dual_tops", dict.fromkeys(everyone, count)).values()), count)
    schedule = StepSchedule()
    for _ in range(max(int(steps), 1)):
        value = constant + slack + float(top[0].sum())
        if schedule.done(value, lower) or not top[0].size:
            break
        cut = (float(top[0][-1]), int(top[1][-1]))
        foreign = _foreign(hosts, top)
        norms = hosts.call("dual_direction", {h: (cut, foreign[h]) for h in everyone})
        norm = float(sum(norms[h] for h in sorted(norms)))  # type: ignore[misc]
        if norm <= 0.0:
            break
        step = schedule.scale * (value - lower) / norm
        moved = hosts.call("dual_move", dict.fromkeys(everyone, (step, count)))
        slack = float(sum(moved[h][0] for h in sorted(moved)))  # type: ignore[index]
        top = _merge([moved[h][1] for h in sorted(moved)], count)  # type: ignore[index]
    held = hosts.call("dual_end", everyone)
    logger.info("distributed Lagrangian bound: %.6g (plan %.6g; multipliers %.0f MB)",
                schedule.best, lower, sum(held.values()) / 2**20)  # type: ignore[arg-type]
    return float(schedule.best)
