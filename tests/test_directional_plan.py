"""Directional camera sets end to end: plan_sites, outputs, existing cameras' wedges."""

from __future__ import annotations

import csv
import json

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point

from planner.api import PlanLayers, PlanOptions, plan_sites
from planner.coverage.camera_model import DirectionalModel
from planner.coverage.cameras import catalogue_camera
from planner.coverage.directional import DirectionalOptions

UTM = "EPSG:32650"  # Hong Kong
X0, Y0 = 200_000.0, 2_470_000.0


def _layers(seed=3, n=400, m=25, side=250.0):
    rng = np.random.default_rng(seed)
    d = rng.uniform(0, side, (n, 2))
    demand = gpd.GeoDataFrame({"weight": rng.gamma(2.0, 1.0, n)},
                              geometry=[Point(X0 + x, Y0 + y) for x, y in d], crs=UTM)
    s = rng.uniform(0, side, (m, 2))
    sites = gpd.GeoDataFrame({"sid": [f"M{k:02d}" for k in range(m)]},
                             geometry=[Point(X0 + x, Y0 + y) for x, y in s], crs=UTM)
    return demand, sites


def _model(per_set=3, level=None, step=30.0):
    cam = catalogue_camera("1080p-4mm", per_set=per_set)
    return DirectionalModel(DirectionalOptions(cam, pan_step_deg=step, level=level))


def test_plan_has_pans_wedges_and_levels():
    demand, sites = _layers()
    model = _model()
    plan = plan_sites(demand, sites, PlanOptions(radius_m=50.0, sets=4, exact="never"),
                      site_id="sid", layers=PlanLayers(coverage=model))
    s = plan.sites
    assert list(s.columns[6:9]) == ["cameras", "pans_deg", "camera_type"]
    assert (s["cameras"] <= 3).all()
    assert all(len(p) == c for p, c in zip(s["pans_deg"], s["cameras"], strict=True))
    assert all(p % 30.0 == 0 for ps in s["pans_deg"] for p in ps)
    fp = plan.footprints
    assert len(fp) == 4 * int(s["cameras"].sum())
    assert set(fp["level"]) == {"identify", "recognise", "observe", "detect"}
    assert fp.groupby("level")["reach_m"].first()["detect"] == pytest.approx(57.207, abs=1e-3)
    levels = plan.parameters["coverage_by_level"]
    assert levels["detect"] >= levels["observe"] >= levels["recognise"] >= levels["identify"]
    assert levels["detect"] > 0
    assert plan.parameters["camera"]["cameras_per_set"] == 3
    assert plan.certificate.upper_bound >= plan.covered_weight


def test_outputs_installation_csv(tmp_path):
    from maps.export.folder import write_outputs

    demand, sites = _layers()
    plan = plan_sites(demand, sites, PlanOptions(radius_m=50.0, sets=3, exact="never"),
                      site_id="sid", layers=PlanLayers(coverage=_model(level="observe")))
    write_outputs(plan, tmp_path)
    rows = list(csv.DictReader((tmp_path / "installation.csv").read_text().splitlines()))
    assert len(rows) == int(plan.sites["cameras"].sum())
    assert set(rows[0]) >= {"site_id", "lon", "lat", "camera", "pan_deg", "reach_observe_m"}
    assert float(rows[0]["reach_observe_m"]) == pytest.approx(22.88, abs=0.01)
    gj = json.loads((tmp_path / "sites.geojson").read_text())
    props = gj["features"][0]["properties"]
    assert isinstance(props["pans_deg"], list)
    assert props["camera_type"] == "1080p-4mm"
    fp = json.loads((tmp_path / "footprints.geojson").read_text())
    keys = set(fp["features"][0]["properties"])
    assert {"site_id", "camera", "pan_deg", "level", "reach_m"} <= keys
    again = tmp_path / "again"
    again.mkdir()
    write_outputs(plan, again)
    for name in ("installation.csv", "sites.geojson", "footprints.geojson"):
        assert (again / name).read_bytes() == (tmp_path / name).read_bytes()


def test_existing_cameras_with_direction():
    demand, sites = _layers()
    model = _model(level="detect")
    cam_at = demand.geometry.iloc[0]
    facing = gpd.GeoDataFrame({"camera:direction": [0.0], "camera:angle": [60.0]},
                              geometry=[cam_at], crs=UTM)
    bare = gpd.GeoDataFrame({"x": [1]}, geometry=[cam_at], crs=UTM)
    opts = PlanOptions(radius_m=50.0, sets=1, exact="never")
    with_wedge = plan_sites(demand, sites, opts, site_id="sid",
                            layers=PlanLayers(coverage=model, existing=facing))
    with_disc = plan_sites(demand, sites, opts, site_id="sid",
                           layers=PlanLayers(coverage=model, existing=bare))
    assert 0 < with_wedge.existing_weight < with_disc.existing_weight
    dx = demand.geometry.x - cam_at.x
    dy = demand.geometry.y - cam_at.y
    dist = np.hypot(dx, dy)
    az = np.degrees(np.arctan2(dx, dy)) % 360
    reach = 1920 / (2 * np.tan(np.radians(30.0)) * 25.0)  # its own 60 degrees: 66.5 m
    seen = (dist <= reach) & ((az <= 30) | (az >= 330) | (dist == 0))
    assert with_wedge.existing_weight == pytest.approx(float(demand["weight"][seen].sum()))


def test_deterministic():
    demand, sites = _layers(seed=5)
    opts = PlanOptions(radius_m=50.0, sets=5, exact="never")
    a = plan_sites(demand, sites, opts, site_id="sid", layers=PlanLayers(coverage=_model()))
    b = plan_sites(demand.iloc[::-1], sites.iloc[::-1], opts, site_id="sid",
                   layers=PlanLayers(coverage=_model()))
    assert a.sites["site_id"].tolist() == b.sites["site_id"].tolist()
    assert a.sites["pans_deg"].tolist() == b.sites["pans_deg"].tolist()
    assert a.covered_weight == b.covered_weight
