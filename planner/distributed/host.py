"""A host: the tiles one optimiser actor keeps on a worker, and what it answers.

The coordinator (:mod:`planner.distributed.greedy`) talks to hosts only, in batches
of tiles, so one message per host and round carries all of its tiles' work.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import pandas as pd

from planner.coverage.disc import DecayBands
from planner.distributed.dual import TileDual, top_rows
from planner.distributed.partition import Grid
from planner.distributed.store import TileStore, shared_store
from planner.distributed.tile import Proposal, TileData, TileState

__all__ = ["Hosts", "TileHost"]

logger = logging.getLogger(__name__)

T = TypeVar("T")


def _dual(tile: TileState) -> TileDual:
    if tile.dual is None:
        raise RuntimeError("a Lagrangian step before dual_begin")
    return tile.dual


def _near(xy: np.ndarray, lo: np.ndarray, hi: np.ndarray, reach: float) -> np.ndarray:
    """Rows of ``xy`` inside the box ``lo..hi`` grown by ``reach``."""
    if not len(xy):
        return xy
    keep = np.all((xy >= lo - reach) & (xy <= hi + reach), axis=1)
    return xy[keep]


def _by_tile(frame: pd.DataFrame, columns: tuple[str, ...]):
    """``(tile -> (start, stop), arrays)``: the columns sorted by tile, and each tile's run."""
    tiles = frame["tile"].to_numpy()
    order = np.argsort(tiles, kind="stable")
    tiles = tiles[order]
    arrays = {c: frame[c].to_numpy()[order] for c in columns}
    starts = np.flatnonzero(np.r_[True, tiles[1:] != tiles[:-1]]) if len(tiles) else []
    stops = [*starts[1:], len(tiles)] if len(tiles) else []
    runs = {int(tiles[a]): (int(a), int(b)) for a, b in zip(starts, stops, strict=True)}
    return runs, arrays


def _slice(by_tile, tile: int) -> dict[str, np.ndarray]:
    runs, arrays = by_tile
    a, b = runs.get(tile, (0, 0))
    return {c: v[a:b] for c, v in arrays.items()}


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


class TileHost:
    """The tiles of one host, built on the worker from its partitions of the shuffle.

    Parameters
    ----------
    demand
        Rows ``x, y, w, row, tile, own`` of this host's tiles (halo copies included).
    sites
        Rows ``x, y, index, tile`` of this host's sites.
    radius_m, bands
        The reach and distance-decay bands.
    cameras
        Existing cameras' coordinates by owner (all of them; each tile keeps its own).
    forbidden
        Global indices of sites that must not be chosen.
    store
        ``(token, budget)``: the plan's token and the bytes of tiles the worker keeps in
        memory (0: no limit), shared by the plan's hosts on the worker; the least
        recently used others wait on its disk (:func:`planner.distributed.store.shared_store`).
    """

    def __init__(
        self,
        demand: pd.DataFrame,
        sites: pd.DataFrame,
        radius_m: float,
        bands: DecayBands | None,
        cameras: Mapping[str, np.ndarray],
        forbidden: np.ndarray,
        store: tuple[str, int] = ("", 0),
    ) -> None:
        self.store = shared_store(*store) if store[0] else TileStore(store[1])
        self.numbers: list[int] = []
        dem = _by_tile(demand, ("x", "y", "w", "row", "own"))
        sit = _by_tile(sites, ("x", "y", "index"))
        n_demand, n_sites = len(demand), len(sites)
        del demand, sites  # only the arrays sorted by tile are kept while tiles are built
        self.binary = True
        for tile in sorted(set(dem[0]) | set(sit[0])):
            d = _slice(dem, tile)
            s = _slice(sit, tile)
            xy = np.column_stack([d["x"], d["y"]])
            lo, hi = (xy.min(axis=0), xy.max(axis=0)) if len(xy) else (np.zeros(2), np.zeros(2))
            near = {k: _near(np.asarray(v, dtype=np.float64).reshape(-1, 2), lo, hi, radius_m)
                    for k, v in cameras.items()}
            state = TileState(TileData(d, s), radius_m, bands, near, forbidden)
            self.binary = self.binary and state.problem.binary
            self.store.put(tile, state)
            self.numbers.append(tile)
        logger.info("host: %d tiles, %d demand rows, %d sites; %s", len(self.numbers), n_demand,
                    n_sites, self.store.stats())

    def _each(self, fn: Callable[[int, TileState], T]) -> list[T]:
        """``fn`` on every tile (those in memory first); the answers in tile order."""
        got = {t: fn(t, tile) for t, tile in self.store.each(self.numbers)}
        return [got[t] for t in sorted(got)]

    def summary(self, _: object = None) -> dict[int, dict[str, object]]:
        """Sizes, weights and owners' coverage of every tile."""
        out = self._each(lambda t, tile: (t, {**tile.summary(), "owners": dict(tile.owners)}))
        return dict(out)

    def memory(self, _: object = None) -> dict[str, int | str]:
        """The tile store's budget, bytes in memory (now, at most), bytes spilled, reads."""
        return self.store.stats()

    def propose(self, wants: Mapping[int, int]) -> dict[int, Proposal]:
        """The next picks of the tiles asked, so many each."""
        return {t: self.store.get(t).propose(int(k)) for t, k in wants.items()}

    def commit(self, commits: Mapping[int, tuple[int, np.ndarray]]) -> int:
        """Take each tile's own accepted picks and other tiles' picks near it."""
        for t, (n_own, foreign) in commits.items():
            self.store.get(t).commit(int(n_own), foreign)
        return len(commits)

    def step(self, work: tuple[Mapping[int, tuple[int, np.ndarray]], Mapping[int, int]]
             ) -> dict[int, Proposal]:
        """Commit a round's picks, then propose for the tiles asked (one message a round)."""
        commits, wants = work
        self.commit(commits)
        return self.propose(wants)

    def force(self, pick: tuple[int, int]) -> float:
        """Pick the site ``index`` of ``tile`` now (a forced site); its gain."""
        tile, index = pick
        return self.store.get(int(tile)).force(int(index))

    def top_gains(self, count: int) -> tuple[np.ndarray, float]:
        """The ``count`` largest gains over this host's tiles, and its covered weight."""
        answers = self._each(lambda _, tile: tile.top_gains(count))
        merged = np.concatenate([a[0] for a in answers]) if answers else np.zeros(0)
        k = min(count, merged.size)
        return np.sort(merged)[::-1][:k].copy(), float(sum(a[1] for a in answers))

    def mark_start(self, _: object = None) -> int:
        """Remember every tile's qualities now as the start state (after forced sites)."""
        return len(self._each(lambda _, tile: tile.mark_start()))

    def dual_begin(self, _: object = None) -> tuple[float, float] | None:
        """Start a Lagrangian descent: ``(sum(w - v), covered at the start)``, owned points.

        ``None`` unless coverage is plain (qualities 0 or 1).
        """
        if not self.binary:
            return None

        def begin(t: int, tile: TileState) -> tuple[float, float]:
            tile.dual = TileDual(tile)
            self.store.refresh(t)
            return tile.dual.slack(), tile.dual.constant()

        answers = self._each(begin)
        return float(sum(a[0] for a in answers)), float(sum(a[1] for a in answers))

    def dual_tops(self, count: int) -> tuple[np.ndarray, ...]:
        """The ``count`` largest column sums over this host's free sites: value, index, x, y."""
        parts = self._each(lambda _, tile: _dual(tile).tops(count))
        merged = tuple(np.concatenate([p[k] for p in parts]) if parts else np.zeros(0)
                       for k in range(4))
        rows = top_rows(merged[0], merged[1], count)
        return tuple(a[rows].copy() for a in merged)

    def dual_direction(self, work: tuple[tuple[float, int], Mapping[int, tuple]]) -> float:
        """Count the chosen sites, set the directions; the squared norm over owned points."""
        cut, foreign = work
        empty = (np.zeros(0, dtype=np.int64), np.zeros((0, 2)))

        def direction(t: int, tile: TileState) -> float:
            norm = _dual(tile).direction_norm(cut, foreign.get(t, empty))
            self.store.refresh(t)  # the foreign sites' rows are cached with the tile
            return norm

        return float(sum(self._each(direction)))

    def dual_move(self, work: tuple[float, int]) -> tuple[float, tuple[np.ndarray, ...]]:
        """Take the step; ``sum(w - v)`` after it and the new largest column sums."""
        step, count = work
        slack = float(sum(self._each(lambda _, tile: _dual(tile).move(step))))
        return slack, self.dual_tops(count)

    def dual_end(self, _: object = None) -> int:
        """Drop the multipliers; the most bytes they held."""

        def end(t: int, tile: TileState) -> int:
            if tile.dual is None:  # no descent began (coverage not plain)
                return 0
            held = tile.dual.nbytes()
            tile.dual = None
            self.store.refresh(t)
            return held

        return int(sum(self._each(end)))

    def cells(self, grid: tuple[float, float, float]) -> pd.DataFrame:
        """Owned demand summed per square cell of the grid ``(x0, y0, side)``.

        Columns: weight, covered weight and points.
        """
        x0, y0, size = grid
        parts = []
        for _, tile in self.store.each(self.numbers):
            p = tile.covered_points()
            if not len(p["x"]):
                continue
            parts.append(pd.DataFrame({
                "cx": np.floor((p["x"] - x0) / size).astype(np.int64),
                "cy": np.floor((p["y"] - y0) / size).astype(np.int64),
                "weight": p["w"], "covered": p["w"] * p["q"], "points": 1,
            }))
        if not parts:
            return pd.DataFrame({"cx": [], "cy": [], "weight": [], "covered": [], "points": []})
        return pd.concat(parts).groupby(["cx", "cy"], as_index=False).sum()
