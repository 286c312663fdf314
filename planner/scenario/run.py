"""Run a scenario: read its layers, build demand, sites and the coverage model, and plan."""

from __future__ import annotations

import time
from dataclasses import replace

import geopandas as gpd
import pandas as pd

from geodata.errors import CamplanError, LayerError, OptionError
from planner.api import About, PlanLayers, plan_sites
from planner.coverage.camera_model import DIRECTION_COLUMNS, FOV_COLUMNS
from planner.plan.result import Plan
from planner.scenario.cameras import uses_cameras
from planner.scenario.files import Scenario
from planner.scenario.layers import build_inputs
from planner.scenario.read import join_district_population, read_layers
from planner.scenario.rules import missing_options
from planner.solver.optimise import Progress

__all__ = ["run_scenario"]


def run_scenario(scenario: Scenario, *, progress: Progress | None = None) -> Plan:
    """Read, validate and plan a scenario.

    Raises
    ------
    CamplanError
        With every problem of every layer (one message), or the first missing option.
    """
    missing = missing_options(scenario)
    if missing:
        option, problem = missing[0].split(": ", 1)
        raise OptionError(option, problem)
    plan = _run(scenario, progress)
    # Recorded with the plan: the outputs (plan.gpkg, summary.json, the report) follow it.
    return replace(plan, parameters={**plan.parameters,
                                     "demand_layer": scenario.get("demand_layer")})


def _run(scenario: Scenario, progress: Progress | None = None) -> Plan:
    """Plan the checked scenario, on one machine or (``cluster``/``workers``) on Dask."""
    options = scenario.options()
    if scenario.given("cluster") or scenario.given("workers"):
        from planner.distributed.scenario import run_on_cluster  # Dask only when asked for

        return run_on_cluster(scenario, options)
    t0 = time.perf_counter()
    read = read_layers(scenario)
    read_s = time.perf_counter() - t0
    if len(read.problems) == 1:  # the message already names its file: no scenario prefix
        raise CamplanError(read.problems[0])
    if read.problems:
        raise LayerError(scenario.source, read.problems)
    districts = read.main.get("districts")
    if districts is not None and "district_population" in read.extra:
        districts = join_district_population(scenario, districts, read.extra)
    t1 = time.perf_counter()
    built = build_inputs(scenario, read.extra, read.main, districts)
    build_s = time.perf_counter() - t1
    existing = read.existing()
    plan = plan_sites(
        built.demand,
        built.sites,
        options,
        weight=scenario.weight if scenario.demand is not None else "weight",
        site_id=scenario.site_id if scenario.sites is not None else "site_id",
        layers=PlanLayers(
            existing=_concat_existing(existing, uses_cameras(scenario)) if existing else None,
            cost_column=scenario.cost_column,
            districts=built.districts,
            district_name=scenario.district_name,
            population=scenario.population,
            exclusions=read.main.get("exclusions"),
            coverage=built.coverage,
        ),
        about=About(
            title=scenario.title,
            sources={r: str(scenario.get(r)) for r in ("demand", "sites", "districts",
                                                       "exclusions")},
            inputs={**read.inputs, **built.inputs},
            parameters=built.parameters,
        ),
        progress=progress,
    )
    return replace(plan, timings={"read": read_s, "build": build_s, **plan.timings})


def _concat_existing(layers: list[gpd.GeoDataFrame], cameras: bool) -> gpd.GeoDataFrame:
    """One layer of existing cameras with the ``owner`` column each loader set.

    With directional ``cameras``, a camera's direction and field of view are kept where
    its layer has them.
    """
    crs = layers[0].crs
    keep = ("owner", *DIRECTION_COLUMNS, *FOV_COLUMNS) if cameras else ("owner",)
    parts = [
        gpd.GeoDataFrame(
            {c: g[c].to_numpy() for c in keep if c in g.columns},
            geometry=g.to_crs(crs).geometry.to_numpy(), crs=crs,
        )
        for g in layers
    ]
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=crs)
