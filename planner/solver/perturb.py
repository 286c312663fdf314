"""Iterated swap search: a stronger neighbourhood than single swaps, guided by the LP.

Single swaps stop at a local optimum; on street networks (overlapping discs) that can be
several per cent below the optimum. Each round here drops a few of the phase's sites,
brings in a site the LP relaxation uses but the plan does not, fills the phase up
greedily (the dropped sites held out), and runs the swap search again; the round's
plan is kept when it covers more (Lourenço, Martin & Stützle's iterated local search),
and the search walks on from it when it is at most a little worse.
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
    target
        Stop once a plan covers this much (a bound: nothing better exists).
    walk
        The search moves on from plans up to this share worse than the best (threshold
        accepting, Dueck & Scheuer 1990), the allowance shrinking to 0 over the rounds;
        the best plan seen is kept.
    """

    rounds: int = 40
    seed: int = 0
    target: float = np.inf
    walk: float = 0.002


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
    current, current_value = best, best_value
    near = _overlap(problem)
    for t in range(kick.rounds):
        if best_value >= kick.target:
            break
        members = current.chosen[fixed:]
        if t % 2 == 0:  # anywhere: one to three sites, one site of the LP's
            drop = rng.choice(count, size=min(count, 1 + int(rng.integers(0, 3))), replace=False)
            outside = pool[~np.isin(pool, current.chosen)]
        else:  # one place: a site, its nearest neighbours in the plan, an LP site near them
            drop, outside = _local(near, members, pool, current.chosen, rng)
        bring = int(outside[rng.integers(0, outside.size)]) if outside.size else -1
        trial = _kicked(problem, base, (members, drop.tolist(), bring), eligible, conflicts)
        value = problem.value(trial.best)
        if value > best_value * (1 + 1e-12):
            best, best_value, accepted = trial, value, accepted + 1
        # walk: also move to plans a little worse (the allowance shrinks to 0)
        allowance = kick.walk * best_value * (1.0 - t / max(kick.rounds, 1))
        if value >= current_value - allowance:
            current, current_value = trial, value
    logger.info("iterated swaps: %d of %d rounds improved, +%.6g weight", accepted, kick.rounds,
                best_value - start_value)  # fmt: skip
    return best


def _kicked(
    problem: CoverageProblem,
    base: GreedyState,
    move: tuple[list[int], list[int], int],
    eligible: np.ndarray,
    conflicts: sparse.csr_array | None,
) -> GreedyState:
    """A kicked plan: ``base``, the phase's ``members`` less the positions dropped.

    Then the site brought in, greedy refill (the dropped sites held out) and swaps.
    """
    members, drop, bring = move
    fixed, count = len(base.chosen), len(members)
    keep = [j for t, j in enumerate(members) if t not in set(drop)]
    trial = _rebuild(problem, base, keep, eligible, conflicts)
    if bring >= 0 and trial.available[bring]:
        pick(problem, trial, bring, conflicts=conflicts)
    trial.available[[members[t] for t in drop]] = False
    lazy_greedy(problem, trial, count=fixed + count - len(trial.chosen), conflicts=conflicts)
    _refresh(trial, eligible, conflicts)
    swap_search(problem, trial, list(range(fixed, len(trial.chosen))), eligible=eligible,
                conflicts=conflicts)  # fmt: skip
    return trial


def _overlap(problem: CoverageProblem) -> sparse.csr_array:
    """Site x site: how many demand points two sites both see."""
    seen = sparse.csc_array(
        (np.ones(problem.csc.nnz), problem.csc.indices, problem.csc.indptr), shape=problem.csc.shape
    )
    return sparse.csr_array(seen.T @ seen)


def _local(
    near: sparse.csr_array,
    members: list[int],
    pool: np.ndarray,
    chosen: list[int],
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Positions to drop in one place, and the LP sites near them that the plan lacks.

    A random member and up to two members sharing most neighbours with it.
    """
    t = int(rng.integers(0, len(members)))
    j = members[t]
    row = near[[j]]
    two_hop = np.asarray((row @ near).todense()).ravel()
    ranked = sorted((-two_hop[k], s) for s, k in enumerate(members) if s != t and two_hop[k] > 0)
    drop = np.asarray([t, *(s for _, s in ranked[: int(rng.integers(1, 3))])], dtype=np.int64)
    around = two_hop[pool] > 0
    outside = pool[around & ~np.isin(pool, chosen)]
    return drop, outside


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
