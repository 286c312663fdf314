"""The Dask engine: connect to a scheduler, or start and stop a local cluster.

``--cluster ADDRESS`` connects to a running scheduler (dask-jobqueue, dask-kubernetes,
``dask scheduler`` on a head node ...); ``--workers N`` starts a local cluster of N
worker processes (one thread each) with ``--worker-memory`` each, and stops it at
the end. Without either, camplan plans on one machine, without Dask.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import dask

from geodata.errors import OptionError

__all__ = ["TILE_SHARE", "ClusterOptions", "cluster_client"]

#: Share of a worker's memory limit its tiles may hold; beyond it tiles go to disk (Dask's
#: own spill threshold, ``distributed.worker.memory.target``, is 0.6 too).
TILE_SHARE = 0.6

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClusterOptions:
    """Where a distributed plan runs.

    Attributes
    ----------
    address
        Address of an existing Dask scheduler (``tcp://host:8786``).
    workers
        Number of local worker processes to start instead.
    worker_memory
        Memory limit of each local worker (``"4GB"``); Dask spills above 60 % of it.
    processes
        Local workers as processes (default) or threads of this process (tests).
    hosts_per_worker
        Optimiser actors per worker; each holds a contiguous run of tiles.
    tile_m
        Side of a tile in metres (0: chosen from the area and the worker count).
    summary_cell_m
        Side of the grid cells the demand is summarised on for the outputs.
    tile_memory
        Bytes of tiles a worker keeps in memory (shared by its hosts); the least recently
        used others wait in the worker's local directory. ``None``: :data:`TILE_SHARE`
        of the worker's memory limit (no limit when the worker has none); 0: no limit.
    bound_steps
        Lagrangian subgradient steps for the whole plan's bound (half as many at earlier
        phase ends); ``None``: as many as one machine takes
        (:func:`planner.solver.bounds.lagrangian_steps` of the coverage pairs), at most
        300 (each step is two round trips to the hosts); 0: the online bound only.
    """

    address: str | None = None
    workers: int | None = None
    worker_memory: str | None = None
    processes: bool = True
    hosts_per_worker: int = 4
    tile_m: float = 0.0
    summary_cell_m: float = 1000.0
    tile_memory: int | None = None
    bound_steps: int | None = None

    @property
    def enabled(self) -> bool:
        """True when a cluster is asked for (an address or a worker count)."""
        return self.address is not None or self.workers is not None

    def check(self) -> None:
        """Raise an OptionError for options that contradict each other."""
        if self.address is not None and self.workers is not None:
            raise OptionError("--cluster", "give either --cluster ADDRESS or --workers N, not both")
        if self.workers is not None and (isinstance(self.workers, bool) or self.workers < 1):
            raise OptionError("--workers", f"must be a whole number above 0, got {self.workers!r}")
        if self.worker_memory is not None and self.address is not None:
            raise OptionError("--worker-memory", "applies to --workers only; a running "
                              "cluster's workers have their own limits")
        if self.hosts_per_worker < 1:
            raise OptionError("hosts_per_worker", "must be at least 1")
        if self.tile_memory is not None and self.tile_memory < 0:
            raise OptionError("tile_memory", "must be 0 (no limit) or more bytes")
        if self.bound_steps is not None and self.bound_steps < 0:
            raise OptionError("bound_steps", "must be 0 or more subgradient steps")
        if self.tile_m < 0 or self.summary_cell_m <= 0:
            raise OptionError("--tile-m", "tile and summary cell sizes must be positive metres")


def _dask():
    try:
        import dask_geopandas  # noqa: F401
        from distributed import Client, LocalCluster
    except ImportError as err:  # pragma: no cover - the dask extra is part of the tests
        raise OptionError("--workers", "needs the Dask extra: pip install 'camplan[dask]'") from err
    return Client, LocalCluster


@contextmanager
def cluster_client(options: ClusterOptions) -> Iterator[object]:
    """A ``distributed.Client`` for the options; a local cluster is closed on exit."""
    options.check()
    client_cls, cluster_cls = _dask()
    if options.address is not None:
        try:
            client = client_cls(options.address, timeout="20s")
        except OSError as err:
            raise OptionError("--cluster", f"cannot reach the Dask scheduler at "
                              f"{options.address!r} ({err}): start it or fix the address") from err
        try:
            yield client
        finally:
            client.close()
        return
    logging.getLogger("distributed").setLevel(logging.ERROR)  # its start/stop chatter
    # The optimiser's state lives in actors, which Dask cannot spill (they spill their own
    # tiles to disk above TILE_SHARE of the limit): a worker paused at 80 % of its limit
    # would wait for memory Dask cannot free. Spilling stays on (for the shuffle), and a
    # worker above 95 % is still restarted.
    try:
        with dask.config.set({"distributed.worker.memory.pause": False}):
            cluster = cluster_cls(
                n_workers=int(options.workers or 1),
                threads_per_worker=1,
                processes=options.processes,
                memory_limit=options.worker_memory or "auto",
                dashboard_address=":0",
                silence_logs=logging.ERROR,
            )
    except ValueError as err:
        raise OptionError("--worker-memory", f"{options.worker_memory!r}: {err}") from err
    client = client_cls(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()
