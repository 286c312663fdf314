"""Run a scenario on a Dask cluster (``cluster`` or ``workers`` given).

Demand and sites are read by the workers, never by this process; only the existing
cameras (a small layer) are read here. Options a cluster run cannot honour end with
an error naming them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from geodata.errors import OptionError
from geodata.layers import load_existing
from planner.api import PlanOptions
from planner.distributed.engine import ClusterOptions, cluster_client
from planner.distributed.plan import DistributedInputs, plan_distributed
from planner.plan.result import Plan
from planner.scenario.cameras import uses_cameras

if TYPE_CHECKING:
    from planner.scenario.files import Scenario

__all__ = ["run_on_cluster"]

#: Options a cluster run cannot honour yet, with what to do instead.
_NOT_ON_A_CLUSTER = ("districts", "exclusions", "cost_column", "budget", "district_population",
                     "buildings", "streets")


def _check(scenario: Scenario) -> None:
    for key in _NOT_ON_A_CLUSTER:
        if scenario.given(key):
            raise OptionError(scenario.label(key), "is not available on a cluster (cluster/"
                              "workers) yet: plan without it, or on one machine")
    for table in ("surface", "candidates"):
        if scenario.table(table):
            raise OptionError(f"[{table}]", "is not available on a cluster yet: give demand "
                              "and sites layers")
    if uses_cameras(scenario):
        raise OptionError("cameras", "directional cameras are not available on a cluster yet: "
                          "plan camera sets (discs), or on one machine")
    if scenario.model != "disc":
        raise OptionError(scenario.label("model"), "only the disc model runs on a cluster")
    for key in ("local_search", "exact", "windows"):
        if scenario.given(key) and scenario.get(key):
            raise OptionError(scenario.label(key), "is not available on a cluster: a cluster "
                              "plans plain greedy (the single machine's plan without it)")
    if scenario.demand is None or scenario.sites is None:
        raise OptionError(scenario.label("demand" if scenario.demand is None else "sites"),
                          "is required on a cluster (a layer file or GeoParquet folder)")


def _existing(scenario: Scenario) -> gpd.GeoDataFrame | None:
    owner = scenario.owner_column if scenario.given("owner_column") else None
    layers = [load_existing(p, owner=owner, crs=scenario.crs) for p in scenario.existing]
    if not layers:
        return None
    crs = layers[0].crs
    parts = [gpd.GeoDataFrame({"owner": g["owner"].to_numpy()},
                              geometry=g.to_crs(crs).geometry.to_numpy(), crs=crs)
             for g in layers]
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=crs)


def run_on_cluster(scenario: Scenario, options: PlanOptions) -> Plan:
    """Plan ``scenario`` on the cluster it names (an address or a local worker count)."""
    _check(scenario)
    cluster = ClusterOptions(address=scenario.cluster, workers=scenario.workers,
                             worker_memory=scenario.worker_memory)
    inputs = DistributedInputs(
        scenario.demand, scenario.sites, weight=scenario.weight, site_id=scenario.site_id,
        existing=_existing(scenario), owner_column="owner",
        sources={"demand": str(scenario.demand), "sites": str(scenario.sites)})
    with cluster_client(cluster) as client:
        return plan_distributed(client, inputs, options, cluster, title=scenario.title)
