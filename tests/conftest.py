"""Shared fixtures: small, seeded, hermetic."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

from planner.plan.result import Certificate, PhaseResult, Plan

DATA = Path(__file__).parent / "data"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture
def shared_data() -> Path:
    """The reference data beside the project; skips when a user's clone has none."""
    if not SHARED.is_dir():
        pytest.skip(f"reference data not present at {SHARED}")
    return SHARED


@pytest.fixture
def small_plan() -> Plan:
    """A hand-built plan in UTM 12N (Mesa, AZ), with a hostile district and site name.

    Five sets in two phases (3 + 2), one existing camera owned by ``MTR``,
    two districts, one exclusion zone, 60 demand points.
    """
    crs = "EPSG:32612"
    x0, y0 = 412_000.0, 3_697_000.0
    rng = np.random.default_rng(7)
    xy = rng.uniform(0, 1000, size=(60, 2))
    weights = rng.gamma(2.0, 1.0, size=60).round(6)
    site_xy = np.array([[200, 200], [700, 300], [500, 800], [150, 750], [850, 850]], float)
    radius = 150.0
    dists = np.hypot(xy[:, None, 0] - site_xy[None, :, 0], xy[:, None, 1] - site_xy[None, :, 1])
    existing_xy = np.array([[500.0, 500.0]])
    d_exist = np.hypot(xy[:, 0] - existing_xy[0, 0], xy[:, 1] - existing_xy[0, 1])
    covered = (dists <= radius).any(axis=1) | (d_exist <= radius)
    existing_weight = float(weights[d_exist <= radius].sum())
    curve = [existing_weight]
    seen = d_exist <= radius
    for j in range(5):
        seen = seen | (dists[:, j] <= radius)
        curve.append(float(weights[seen].sum()))
    total = float(weights.sum())
    cum = np.array(curve[1:])
    marginal = np.diff(np.array(curve))
    site_points = [Point(x0 + x, y0 + y) for x, y in site_xy]
    sites = gpd.GeoDataFrame(
        {
            "site_id": ["S1", "S2", HOSTILE, "S4", "S5"],
            "rank": np.arange(1, 6),
            "phase": [1, 1, 1, 2, 2],
            "marginal_weight": marginal,
            "cumulative_weight": cum,
            "cumulative_share": cum / total,
            "mount_type": ["lamp post", "smart pole", "building", "lamp post", "traffic light"],
        },
        geometry=site_points,
        crs=crs,
    )
    demand = gpd.GeoDataFrame(
        {"weight": weights, "covered": covered.astype(float)},
        geometry=[Point(x0 + x, y0 + y) for x, y in xy],
        crs=crs,
    )
    footprints = gpd.GeoDataFrame(
        sites[["site_id", "rank", "phase"]].copy(),
        geometry=[p.buffer(radius) for p in site_points],
        crs=crs,
    )
    existing = gpd.GeoDataFrame(
        {"owner": ["MTR"]},
        geometry=[Point(x0 + 500, y0 + 500)],
        crs=crs,
    )
    districts = gpd.GeoDataFrame(
        {
            "district": ["West", HOSTILE],
            "sets": [3, 2],
            "covered_weight": [total * 0.3, total * 0.2],
            "total_weight": [total * 0.5, total * 0.5],
            "covered_share": [0.6, 0.4],
            "population": [12_000, 8_000],
            "sets_per_1000": [0.25, 0.25],
        },
        geometry=[box(x0, y0, x0 + 500, y0 + 1000), box(x0 + 500, y0, x0 + 1000, y0 + 1000)],
        crs=crs,
    )
    exclusions = gpd.GeoDataFrame(
        {"name": ["school"]}, geometry=[box(x0 + 900, y0, x0 + 1000, y0 + 100)], crs=crs
    )
    ub = min(total, curve[-1] * 1.05)
    phases = (
        PhaseResult(1, 3, 3, curve[3], curve[3] / total, curve[3], min(total, curve[3] * 1.1)),
        PhaseResult(2, 2, 5, curve[5], curve[5] / total, curve[5], ub),
    )
    return Plan(
        sites=sites,
        demand=demand,
        footprints=footprints,
        total_weight=total,
        covered_weight=curve[-1],
        curve=np.array(curve),
        phases=phases,
        certificate=Certificate(ub, (ub - curve[-1]) / ub, "online-submodular", False),
        radius_m=radius,
        crs=crs,
        existing=existing,
        districts=districts,
        exclusions=exclusions,
        existing_weight=existing_weight,
        owners={"MTR": existing_weight},
        parameters={"radius_m": radius, "sets": 5, "phases": [3, 2], "model": "disc"},
        inputs={"demand": "sha256:" + "0" * 64},
        timings={"coverage": 0.01, "greedy": 0.02},
        title=f"Test plan {HOSTILE}",
    )
