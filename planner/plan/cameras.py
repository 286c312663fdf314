"""A plan of directional camera sets: pans per set, wedge footprints, coverage by DORI level."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np

from planner.coverage.camera_model import DirectionalModel
from planner.coverage.directional import DirectionalOptions
from planner.plan.result import Plan
from planner.solver.grouped import SetSolution

__all__ = ["coverage_by_level", "finish_plan"]


def coverage_by_level(demand: gpd.GeoDataFrame, options: DirectionalOptions) -> dict[str, float]:
    """Share of the total weight seen at each level that counts, or better."""
    weights = demand["weight"].to_numpy(dtype=float)
    covered = demand["covered"].to_numpy(dtype=float)
    total = float(weights.sum())
    _, quality = options.thresholds()
    return {
        level: (float(np.sum(weights[covered >= q - 1e-12])) / total if total > 0 else 0.0)
        for level, q in zip(options.levels, quality.tolist(), strict=True)
    }


def finish_plan(plan: Plan, solution: SetSolution, model: DirectionalModel) -> Plan:
    """Add each set's cameras and pans, draw a wedge per camera and level, record the model."""
    opts = model.options
    step = float(opts.pan_step_deg)
    pans = [tuple(p * step for p in ps) for ps in solution.pans]
    sites = plan.sites.copy()
    at = list(sites.columns).index("cumulative_share") + 1
    sites.insert(at, "cameras", np.array([len(p) for p in pans], dtype=np.int64))
    sites.insert(at + 1, "pans_deg", pd_object([list(p) for p in pans]))
    sites.insert(at + 2, "camera_type", opts.camera.name)
    footprints = model.wedges(sites, pans)
    parameters = {
        **plan.parameters,
        "camera": opts.as_dict(),
        "coverage_by_level": coverage_by_level(plan.demand, opts),
    }
    return dataclasses.replace(plan, sites=sites, footprints=footprints, parameters=parameters,
                               radius_m=float(opts.max_reach_m))


def pd_object(values: list) -> np.ndarray:
    """An object array holding one list per row (numpy would make a 2-D array of equal lists)."""
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        out[i] = v
    return out
