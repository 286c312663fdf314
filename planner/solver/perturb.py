"""Iterated swap search: a stronger neighbourhood than single swaps, guided by the LP.

Single swaps stop at a local optimum; on street networks (overlapping discs) that can be
several per cent below the optimum. Each round here drops a few of the phase's sites,
brings in a site the LP relaxation uses but the plan does not, fills the phase up
greedily (the dropped sites held out), and runs the swap search again; the round's
plan is kept when it covers more (Lourenço, Martin & Stützle's iterated local search).
The random choices come from a seeded generator and the number of rounds is fixed, so
the result is the same on every machine.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from planner.solver.greedy import GreedyState, block_neighbours, lazy_greedy, pick
from planner.solver.localsearch import swap_search
from planner.solver.problem import CoverageProblem

__all__ = ["Kick", "iterated_swaps"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Kick:
    """How the iterated search perturbs and how long it runs.

    Attributes
    ----------
    rounds
        Perturbation rounds (each: drop, bring in, refill, swaps).
    seed
        Seed of the generator that picks the sites to drop and bring in.
    """

    rounds: int = 40
    seed: int = 0


def iterated_swaps(
    problem: CoverageProblem,
    base: GreedyState,
    state: GreedyState,
    *,
    eligible: np.ndarray,
    conflicts: sparse.csr_array | None,
    guide: Sequence[int] = (),
    kick: Kick = Kick(),
) -> GreedyState:
    """A plan covering at least as much as ``state`` with ``base``'s sites kept in front.

    ``state`` extends ``base`` by the phase's sites; ``guide`` lists sites the LP uses
    (largest value first), brought in one per round (any eligible site without it).
    """
    fixed, count = len(base.chosen), len(state.chosen) - len(base.chosen)
    if count <= 0:
        return state
    rng = np.random.default_rng(kick.seed)
    best, best_value = state, problem.value(state.best)
    pool = np.asarray(list(guide), dtype=np.int64)
    if pool.size == 0:
        pool = np.flatnonzero(eligible)
    start_value, accepted = best_value, 0
    for _ in range(kick.rounds):
        members = best.chosen[fixed:]
        drop = rng.choice(count, size=min(count, 1 + int(rng.integers(0, 3))), replace=False)
        outside = pool[~np.isin(pool, best.chosen)]
        bring = int(outside[rng.integers(0, outside.size)]) if outside.size else -1
        keep = [j for t, j in enumerate(members) if t not in set(drop.tolist())]
        trial = _rebuild(problem, base, keep, eligible, conflicts)
        if bring >= 0 and trial.available[bring]:
            pick(problem, trial, bring, conflicts=conflicts)
        held = [members[t] for t in drop.tolist()]
        trial.available[held] = False
        lazy_greedy(problem, trial, count=fixed + count - len(trial.chosen), conflicts=conflicts)
        _refresh(trial, eligible, conflicts)
        swap_search(problem, trial, list(range(fixed, len(trial.chosen))), eligible=eligible,
                    conflicts=conflicts)  # fmt: skip
        value = problem.value(trial.best)
        if value > best_value * (1 + 1e-12):
            best, best_value, accepted = trial, value, accepted + 1
    logger.info("iterated swaps: %d of %d rounds improved, +%.6g weight", accepted, kick.rounds,
                best_value - start_value)  # fmt: skip
    return best


def _rebuild(
    problem: CoverageProblem,
    base: GreedyState,
    keep: Sequence[int],
    eligible: np.ndarray,
    conflicts: sparse.csr_array | None,
) -> GreedyState:
    """``base`` with the sites ``keep`` picked after it (gains as they come)."""
    state = base.copy()
    for j in keep:
        pick(problem, state, j, conflicts=conflicts)
    _refresh(state, eligible, conflicts)
    return state


def _refresh(state: GreedyState, eligible: np.ndarray, conflicts: sparse.csr_array | None) -> None:
    """Sites still available: eligible, not chosen, not too close to a chosen one."""
    state.available = eligible.copy()
    state.available[state.chosen] = False
    for j in state.chosen:
        block_neighbours(state, conflicts, j)
