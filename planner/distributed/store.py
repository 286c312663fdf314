"""Where hosts keep their tiles: in memory up to a byte budget, the rest on the worker's disk.

Actors are not spilled by Dask's memory manager, so the hosts spill their own tiles:
all hosts of a plan on one worker share one store (:func:`shared_store`); when the
tiles in memory hold more than the worker's budget, the least recently used ones are
written to the worker's local directory (Dask's spill folder; arrays written as they
lie in memory, without a copy) and dropped, and read back when a round needs them.
A greedy round touches a few tiles, so a plan whose tiles do not fit reads back only
those; a bound step touches them all (tiles in memory first). What the tiles hold and
how they answer does not change, so neither does the plan.
"""

from __future__ import annotations

import logging
import pickle
import shutil
import tempfile
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from pathlib import Path

from planner.distributed.tile import TileState

__all__ = ["TileStore", "local_folder", "shared_store"]

logger = logging.getLogger(__name__)

_STORES: weakref.WeakValueDictionary[str, TileStore] = weakref.WeakValueDictionary()
_LOCK = threading.Lock()


def shared_store(token: str, budget: int) -> TileStore:
    """The store of plan ``token`` on this worker (made on first use).

    It lives as long as a host of the plan holds it.
    """
    key = f"{token}@{_worker_address()}"
    with _LOCK:
        store = _STORES.get(key)
        if store is None:
            store = TileStore(budget, name=key)
            _STORES[key] = store
        return store


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return "local"


def local_folder() -> Path:
    """The Dask worker's local directory (its spill folder), or a temporary folder."""
    try:
        from distributed import get_worker

        base = Path(get_worker().local_directory)
    except (ImportError, ValueError):
        base = Path(tempfile.gettempdir())
    return Path(tempfile.mkdtemp(prefix="camplan-tiles-", dir=base))


class TileStore:
    """Tiles by number; at most ``budget`` bytes of them in memory (0: no limit)."""

    def __init__(self, budget: int, folder: Path | None = None, *, name: str = "") -> None:
        self.budget = int(budget)
        self.name = name
        self.folder = folder
        self._memory: OrderedDict[int, TileState] = OrderedDict()  # least recent first
        self._bytes: dict[int, int] = {}
        self._disk: set[int] = set()
        self.resident = 0
        self.peak = 0
        self.spilled_bytes = 0
        self.spills = 0
        self.loads = 0
        self.largest = 0

    def __len__(self) -> int:
        """Number of tiles, in memory and on disk."""
        return len(self._memory) + len(self._disk)

    def put(self, number: int, tile: TileState) -> None:
        """Keep a new tile (others may go to disk)."""
        self._hold(number, tile)

    def get(self, number: int) -> TileState:
        """The tile, read back from disk if it was spilled; now the most recent."""
        if number in self._memory:
            self._memory.move_to_end(number)
            return self._memory[number]
        path = self._path(number)
        with path.open("rb") as f:
            sizes = pickle.load(f)
            buffers = [bytearray(n) for n in sizes]
            for buffer in buffers:
                f.readinto(buffer)
            tile = pickle.load(f, buffers=buffers)
        path.unlink()
        self._disk.discard(number)
        self.loads += 1
        self._hold(number, tile)
        return tile

    def each(self, numbers: Iterable[int]) -> Iterator[tuple[int, TileState]]:
        """The tiles ``numbers``, those in memory first (fewer reads).

        Callers sum the answers in tile order.
        """
        wanted = sorted(numbers)
        for number in [*(t for t in wanted if t in self._memory),
                       *(t for t in wanted if t not in self._memory)]:
            yield number, self.get(number)

    def refresh(self, number: int) -> None:
        """Count a tile's bytes again after it grew or shrank (then spill if over)."""
        if number in self._memory:
            self._hold(number, self._memory[number])

    def stats(self) -> dict[str, int | str]:
        """Budget, bytes in memory (now, at most), bytes written, spills, reads, largest tile.

        Memory stays within the budget (or the largest tile) plus the tile being read.
        """
        return {"store": self.name or str(id(self)), "budget": self.budget,
                "resident": self.resident, "peak": self.peak,
                "spilled_bytes": self.spilled_bytes, "spills": self.spills,
                "loads": self.loads, "on_disk": len(self._disk), "largest": self.largest}

    def _hold(self, number: int, tile: TileState) -> None:
        self.resident -= self._bytes.get(number, 0)
        self._memory[number] = tile
        self._memory.move_to_end(number)
        self._bytes[number] = tile.nbytes()
        self.largest = max(self.largest, self._bytes[number])
        self.resident += self._bytes[number]
        self.peak = max(self.peak, self.resident)
        while self.budget > 0 and self.resident > self.budget and len(self._memory) > 1:
            self._spill(next(iter(self._memory)))

    def _spill(self, number: int) -> None:
        tile = self._memory.pop(number)
        if self.folder is None:
            self.folder = local_folder()
            weakref.finalize(self, shutil.rmtree, self.folder, True)
        path = self._path(number)
        buffers: list[pickle.PickleBuffer] = []
        meta = pickle.dumps(tile, protocol=5, buffer_callback=buffers.append)
        views = [b.raw() for b in buffers]  # the arrays' own memory: nothing copied
        with path.open("wb") as f:
            pickle.dump([v.nbytes for v in views], f)
            for view in views:
                f.write(view)
            f.write(meta)
        self.spilled_bytes += path.stat().st_size
        self.spills += 1
        self.resident -= self._bytes.pop(number)
        self._disk.add(number)

    def _path(self, number: int) -> Path:
        assert self.folder is not None
        return self.folder / f"tile-{number}.pkl"
