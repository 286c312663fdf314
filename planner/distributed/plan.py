"""Plan camera sets on a Dask cluster: the distributed counterpart of :func:`plan_sites`.

Layers are read as dask-geopandas frames, cut into tiles with halos, shuffled to
optimiser actors (one or more per worker) that build their coverage blocks where
they live; the coordinator (this process) runs the distributed greedy
(:mod:`planner.distributed.greedy`), which chooses exactly the sites the
single-machine greedy chooses, the online submodular bound and the Lagrangian bound
(:mod:`planner.distributed.lagrange`). Tiles beyond a host's memory budget wait on
the worker's disk (:mod:`planner.distributed.store`). Only the chosen sites,
per-tile counters and a per-cell summary of the demand come back.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

import dask
import dask.dataframe as dd
import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.crs import is_metric
from geodata.errors import LayerError, OptionError
from planner.api import PlanOptions
from planner.distributed.engine import TILE_SHARE, ClusterOptions
from planner.distributed.greedy import Hosts, distributed_greedy
from planner.distributed.host import TileHost
from planner.distributed.partition import (
    Grid,
    points_frame,
    read_layer,
    shuffle_to_hosts,
    tile_hosts,
)
from planner.distributed.result import assemble
from planner.plan.result import Plan
from planner.solver.bounds import lagrangian_steps
from planner.solver.constraints import phase_sizes
from planner.solver.optimise import _checkpoints

__all__ = ["DistributedInputs", "plan_distributed"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistributedInputs:
    """The layers of a distributed plan and their columns.

    ``demand`` and ``sites`` are paths (GeoParquet file or folder, or any OGR
    format), GeoDataFrames or dask-geopandas frames; ``existing`` is a small
    GeoDataFrame (it is sent to every worker).
    """

    demand: Any
    sites: Any
    weight: str = "weight"
    site_id: str | None = None
    existing: gpd.GeoDataFrame | None = None
    owner_column: str = "owner"
    sources: dict[str, str] = field(default_factory=dict)


def _check_options(options: PlanOptions) -> None:
    if options.budget is not None:
        raise OptionError("--budget", "is not available on a cluster yet: plan a number of sets")
    if options.min_spacing_m > 0:
        raise OptionError("--min-spacing", "is not available on a cluster yet: leave it at 0")


def _read(inputs: DistributedInputs, client: Any) -> tuple[Any, Any, Any]:
    src = {"demand": "demand", "sites": "sites", **inputs.sources}
    nparts = max(2, len(client.scheduler_info().get("workers", {})))
    demand = read_layer(inputs.demand, source=src["demand"], npartitions=nparts)
    sites = read_layer(inputs.sites, source=src["sites"], npartitions=nparts)
    if demand.crs is None or not is_metric(demand.crs):
        raise LayerError(src["demand"], "must be in a projected CRS (metres) for --cluster/"
                         "--workers: reproject it first (e.g. ogr2ogr -t_srs EPSG:32650)")
    if sites.crs is None:
        raise LayerError(src["sites"], "has no CRS: set one")
    if sites.crs != demand.crs:
        sites = sites.to_crs(demand.crs)
    return demand, sites, demand.crs


def _canonical_sites(sites: dd.DataFrame) -> dd.DataFrame:
    """Global site index: the rank of the id as text, then of the input row.

    As :func:`planner.api.plan_sites` numbers the sites.
    """
    keyed = sites.set_index("key", npartitions=sites.npartitions)

    def _sorted(part: pd.DataFrame) -> pd.DataFrame:
        part = part.reset_index()
        return part.sort_values(["key", "row"], kind="mergesort").reset_index(drop=True)

    ordered = keyed.map_partitions(_sorted, meta=keyed._meta.reset_index()).persist()
    lengths = ordered.map_partitions(len).compute().to_numpy()
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])

    def _index(part: pd.DataFrame, partition_info: dict | None = None) -> pd.DataFrame:
        start = offsets[partition_info["number"]] if partition_info else 0
        return part.assign(index=np.arange(start, start + len(part), dtype=np.int64))

    meta = ordered._meta.assign(index=pd.Series(dtype="i8"))
    return ordered.map_partitions(_index, meta=meta).persist()


def _lookup(table: dd.DataFrame, wanted: tuple[Any, ...], option: str) -> pd.DataFrame:
    if not wanted:
        return table._meta
    keys = [str(w) for w in wanted]
    found = table[table["key"].isin(keys)].compute().drop_duplicates("key")
    missing = [k for k in keys if k not in set(found["key"])]
    if missing:
        raise OptionError(option, f"no candidate site has the id {missing[0]!r}")
    return found.set_index("key").loc[list(dict.fromkeys(keys))].reset_index()


def _tiles(part: pd.DataFrame, grid: Grid) -> pd.Series:
    return pd.Series(grid.tile(part["x"].to_numpy(), part["y"].to_numpy())).value_counts()


#: A tile holds at most about this many demand points and sites (4 points a site) when
#: the tile side is chosen automatically: the densest city is cut into small tiles.
MAX_TILE_LOAD = 400_000


def _tile_side(demand: dd.DataFrame, sites: dd.DataFrame, bounds: np.ndarray, reach: float,
               hosts: int) -> float:
    """The widest tile side ``4 r * 2^k`` whose fullest tile holds at most MAX_TILE_LOAD.

    At least 8 tiles a host are kept; counts come from a fine grid, in one pass.
    """
    fine = Grid.over(bounds, reach, 4.0 * reach)
    meta = pd.Series(dtype="i8")
    d, s = (c.groupby(level=0).sum() for c in dask.compute(
        demand.map_partitions(_tiles, fine, meta=meta),
        sites.map_partitions(_tiles, fine, meta=meta)))
    load = d.add(4 * s, fill_value=0)
    ix, iy = load.index.to_numpy() % fine.nx, load.index.to_numpy() // fine.nx
    best = 0
    for k in range(1, 16):
        coarse = pd.Series(load.to_numpy()).groupby((iy >> k) * (fine.nx + 1) + (ix >> k)).sum()
        if coarse.max() > MAX_TILE_LOAD or len(coarse) < 8 * hosts:
            break
        best = k
    return fine.cell * 2**best


def _layout(demand: dd.DataFrame, sites: dd.DataFrame, options: PlanOptions,
            cluster: ClusterOptions, n_workers: int):
    """Grid, tile -> host map, tiles with sites, and the weight checks, in one pass."""
    stats = dask.compute(demand.x.min(), demand.y.min(), demand.x.max(), demand.y.max(),
                         sites.x.min(), sites.y.min(), sites.x.max(), sites.y.max(),
                         demand.w.min(), (~np.isfinite(demand.w)).sum(), sites.x.count())
    if not int(stats[10]):
        raise LayerError("sites", "has no candidate site")
    if int(stats[9]) or float(stats[8]) < 0:
        raise LayerError("demand", "weights must be finite and non-negative")
    bounds = np.array([min(stats[0], stats[4]), min(stats[1], stats[5]),
                       max(stats[2], stats[6]), max(stats[3], stats[7])])
    hosts = max(1, n_workers * cluster.hosts_per_worker)
    side = cluster.tile_m or _tile_side(demand, sites, bounds, options.radius_m, hosts)
    grid = Grid.over(bounds, options.radius_m, side)
    meta = pd.Series(dtype="i8")
    d_load, s_load = (c.groupby(level=0).sum() for c in dask.compute(
        demand.map_partitions(_tiles, grid, meta=meta),
        sites.map_partitions(_tiles, grid, meta=meta),
    ))
    load = d_load.add(4 * s_load, fill_value=0)
    return grid, tile_hosts(load, hosts), np.sort(s_load.index.to_numpy())


def _cameras(existing: gpd.GeoDataFrame | None, owner_column: str, crs: Any):
    if existing is None or existing.empty:
        return {}, None
    from planner.api import _points

    ext = existing.to_crs(crs) if existing.crs is not None and existing.crs != crs else existing
    owner = (ext[owner_column].astype(str) if owner_column in ext.columns
             else pd.Series("existing", index=ext.index))
    import shapely

    xy = shapely.get_coordinates(_points(ext))
    return {name: xy[(owner == name).to_numpy()] for name in sorted(owner.unique())}, ext


def _budgets(client: Any, n_hosts: int, cluster: ClusterOptions) -> tuple[list[str], list[tuple]]:
    """The worker of every host, and its store: the plan's token and the worker's budget."""
    info = client.scheduler_info()["workers"]
    workers = sorted(info)
    token = uuid.uuid4().hex
    stores = []
    for h in range(n_hosts):
        limit = (cluster.tile_memory if cluster.tile_memory is not None
                 else int(TILE_SHARE * (info[workers[h % len(workers)]].get("memory_limit") or 0)))
        stores.append((token, int(limit)))
    return [workers[h % len(workers)] for h in range(n_hosts)], stores


def _start_hosts(client: Any, demand: dd.DataFrame, sites: dd.DataFrame, host_of: dict,
                 args: tuple, cluster: ClusterOptions) -> list:
    """One actor per host, each built on a worker from its partitions of the shuffle."""
    d_parts = client.compute(demand.to_delayed())
    s_parts = client.compute(sites.to_delayed())
    n_hosts = max(host_of.values()) + 1
    workers, budgets = _budgets(client, n_hosts, cluster)
    futures = [
        client.submit(TileHost, d_parts[h], s_parts[h], *args, budgets[h], actor=True,
                      workers=[workers[h]], allow_other_workers=False)
        for h in range(n_hosts)
    ]
    actors = []
    for h, future in enumerate(futures):  # each host's partitions go once its actor stands
        actors.append(future.result())
        d_parts[h].release()
        s_parts[h].release()
    return actors


def _forced(hosts: Hosts, table: pd.DataFrame) -> list[float]:
    """Pick the forced sites first, in the order given; their gains."""
    gains = []
    for x, y, index in table[["x", "y", "index"]].itertuples(index=False):
        tile = int(hosts.grid.tile(np.array([x]), np.array([y]))[0])
        gains.append(hosts.actors[hosts.host_of[tile]].force((tile, int(index))).result())
        others = {u: (0, np.array([[x, y]])) for u in hosts.touched(x, y).tolist()
                  if u != tile and u in hosts.host_of}
        hosts.call("commit", hosts.by_host(others))
    return gains


#: Most Lagrangian steps by default on a cluster: every step is two round trips to the hosts.
MAX_BOUND_STEPS = 300


def _bound_steps(cluster: ClusterOptions, tiles: dict) -> int:
    """Lagrangian steps for the whole plan's bound (as on one machine, at most 300)."""
    if cluster.bound_steps is not None:
        return int(cluster.bound_steps)
    pairs = sum(int(s["pairs"]) for host in tiles.values() for s in host.values())
    return min(lagrangian_steps(pairs), MAX_BOUND_STEPS)


def plan_distributed(client: Any, inputs: DistributedInputs, options: PlanOptions,
                     cluster: ClusterOptions | None = None, *, title: str = "camplan plan",
                     inputs_fingerprints: dict[str, str] | None = None) -> Plan:
    """Plan on the Dask cluster of ``client``: the single-machine greedy plan, site for site.

    Local search and exact solving are off on a cluster (the plan is plain greedy);
    the certificate is the tighter of the online submodular and the Lagrangian bound.
    Budgets and a minimum spacing are not available on a cluster yet (an error says so).
    """
    with client.as_current():  # every compute and persist below runs on this client
        return _plan(client, inputs, options, cluster or ClusterOptions(), title,
                     inputs_fingerprints or {})


def _plan(client: Any, inputs: DistributedInputs, options: PlanOptions, cluster: ClusterOptions,
          title: str, fingerprints: dict[str, str]) -> Plan:
    _check_options(options)
    sizes = phase_sizes(options.sets if options.sets is not None else 0, options.phases)
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    demand_g, sites_g, crs = _read(inputs, client)
    demand, _ = points_frame(demand_g, inputs.weight, "w", source="demand")
    sites, site_offsets = points_frame(sites_g, inputs.site_id, "key", source="sites")
    if inputs.site_id is None:
        sites = sites.assign(key=(sites["row"] + 1).astype(str).astype("string"))
    table = _canonical_sites(sites)
    n_workers = max(1, len(client.scheduler_info()["workers"]))
    grid, host_of, with_sites = _layout(demand, table, options, cluster, n_workers)
    forced = _lookup(table, options.forced, "--forced")
    forbidden = _lookup(table, options.forbidden, "--forbidden")
    if set(forced["key"]) & set(forbidden["key"]):
        raise OptionError("--forced", "a site is both forced and forbidden")
    if len(forced) > sizes[0]:
        raise OptionError("--forced", f"{len(forced)} forced sites do not fit in the first "
                          f"phase ({sizes[0]} sets): enlarge it or force fewer")
    cameras, existing = _cameras(inputs.existing, inputs.owner_column, crs)
    d_sh, s_sh = shuffle_to_hosts(demand, table[["x", "y", "index"]], grid, host_of, with_sites)
    timings["prepare"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    args = (options.radius_m, options.bands or None, cameras,
            forbidden["index"].to_numpy(dtype=np.int64))
    hosts = Hosts(_start_hosts(client, d_sh, s_sh, host_of, args, cluster), host_of, grid)
    tiles = hosts.call("summary", dict.fromkeys(range(len(hosts.actors))))
    timings["coverage"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    forced_gains = _forced(hosts, forced)
    hosts.call("mark_start", dict.fromkeys(range(len(hosts.actors))))
    ends = [int(e) for e in np.cumsum(sizes)]
    n_fixed = len(forced)
    run = distributed_greedy(hosts, sorted(host_of), ends[-1] - n_fixed,
                             checkpoints=_checkpoints(ends[-1], tuple(ends)),
                             budgets=[e - n_fixed for e in ends], done=n_fixed,
                             dual_at=frozenset(ends),
                             dual_steps=_bound_steps(cluster, tiles))
    timings["greedy"] = time.perf_counter() - t2 - run.seconds_bound
    timings["bound"] = run.seconds_bound
    order = [int(i) for i in forced["index"]] + run.order
    summary = hosts.call("cells", dict.fromkeys(range(len(hosts.actors)),
                                                (grid.x0, grid.y0, cluster.summary_cell_m)))
    memory = hosts.call("memory", dict.fromkeys(range(len(hosts.actors))))
    return assemble(
        sites_g, site_offsets, table, order, forced_gains + run.gains, run, tiles,
        summary, ends=ends, options=replace(options, local_search=False, exact="never"),
        cluster=cluster, existing=existing, crs=crs, site_id=inputs.site_id,
        hosts=len(hosts.actors), memory=memory, timings=timings, title=title, x0=grid.x0,
        y0=grid.y0, tile_m=grid.cell, fingerprints=fingerprints,
    )
