"""`camplan plan` with directional cameras: flags, scenario keys, user types and refusals."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point

from maps.cli.main import main

CRS = "EPSG:32650"


@pytest.fixture
def layers(tmp_path: Path) -> dict[str, Path]:
    rng = np.random.default_rng(4)
    x0, y0 = 200_000.0, 2_470_000.0
    d = rng.uniform(0, 200, (300, 2))
    s = rng.uniform(0, 200, (20, 2))
    demand = gpd.GeoDataFrame({"w": rng.gamma(2.0, 1.0, 300)},
                              geometry=[Point(x0 + x, y0 + y) for x, y in d], crs=CRS)
    sites = gpd.GeoDataFrame({"pole": [f"P{k}" for k in range(20)]},
                             geometry=[Point(x0 + x, y0 + y) for x, y in s], crs=CRS)
    paths = {"demand": tmp_path / "demand.gpkg", "sites": tmp_path / "sites.gpkg"}
    demand.to_file(paths["demand"])
    sites.to_file(paths["sites"])
    return paths


def _args(layers: dict[str, Path], out: Path, *extra: str) -> list[str]:
    return ["plan", "--demand", str(layers["demand"]), "--weight", "w", "--sites",
            str(layers["sites"]), "--site-id", "pole", "--sets", "3", "--out", str(out), *extra]


def test_plan_with_a_catalogue_camera(layers, tmp_path):
    out = tmp_path / "plan"
    assert main(_args(layers, out, "--camera", "1080p-4mm", "--cameras-per-set", "2",
                      "--pan-step", "30", "--level", "observe")) == 0
    rows = list(csv.DictReader((out / "installation.csv").read_text().splitlines()))
    sites = json.loads((out / "sites.geojson").read_text())["features"]
    assert len(rows) == sum(f["properties"]["cameras"] for f in sites)
    assert {float(r["pan_deg"]) % 30 for r in rows} == {0.0}
    assert rows[0]["camera_type"] == "1080p-4mm"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["parameters"]["camera"]["cameras_per_set"] == 2
    assert "map.html" in {p.name for p in out.iterdir()}


def test_scenario_with_a_user_camera_type(layers, tmp_path):
    scenario = tmp_path / "s.toml"
    scenario.write_text(f'''
demand = "{layers["demand"]}"
weight = "w"
sites = "{layers["sites"]}"
site_id = "pole"
sets = 2
camera = "my-cam"
cameras_per_set = 3
spread = 120.0
pan_step = 30.0
level_weights = {{ identify = 1, recognise = 1, observe = 0.5, detect = 0.1 }}

[camera_types.my-cam]
resolution_px = 2560
hfov_deg = 90.0
''')
    out = tmp_path / "plan"
    assert main(["plan", str(scenario), "--out", str(out)]) == 0
    sites = json.loads((out / "sites.geojson").read_text())["features"]
    for f in sites:
        pans = f["properties"]["pans_deg"]
        assert len(pans) == 3
        assert sorted((p - pans[0]) % 360 for p in pans) == [0.0, 120.0, 240.0]
    rows = list(csv.DictReader((out / "installation.csv").read_text().splitlines()))
    assert float(rows[0]["reach_detect_m"]) == pytest.approx(2560 / (2 * 25.0), abs=0.01)


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--camera", "8k-1mm"], "unknown camera type"),
        (["--camera", "1080p-4mm", "--model", "network"], "no direction"),
        (["--camera", "1080p-4mm", "--pan-step", "7"], "--pan-step"),
        (["--camera", "1080p-4mm", "--cameras-per-set", "5"], "cameras-per-set"),
        (["--resolution", "1920"], "hfov"),
    ],
)
def test_refusals_exit_2(layers, tmp_path, capsys, extra, needle):
    out = tmp_path / "plan"
    assert main(_args(layers, out, *extra)) == 2
    err = capsys.readouterr().err
    assert needle in err
    assert "Traceback" not in err
    assert not out.exists()


def test_without_a_camera_the_disc_model_is_unchanged(layers, tmp_path):
    out = tmp_path / "plan"
    assert main(_args(layers, out, "--radius", "50")) == 0
    assert not (out / "installation.csv").exists()
    props = json.loads((out / "sites.geojson").read_text())["features"][0]["properties"]
    assert "pans_deg" not in props
    summary = json.loads((out / "summary.json").read_text())
    assert "camera" not in summary["parameters"]


def test_report_and_map_show_the_cameras(layers, tmp_path):
    out = tmp_path / "plan"
    assert main(_args(layers, out, "--camera", "1080p-4mm", "--cameras-per-set", "2")) == 0
    report = (out / "report.md").read_text()
    assert "Camera model and coverage by level" in report
    assert "57.2" in report  # the detect reach of 1080p with a 4 mm lens
    page = (out / "map.html").read_text()
    assert "Camera wedges: identify" in page
    assert "Camera wedges: detect" in page
    assert "Pans (degrees from north)" in page


def test_demo_with_cameras(tmp_path):
    out = tmp_path / "demo"
    assert main(["demo", "--camera", "1080p-4mm", "--out", str(out)]) == 0
    rows = list(csv.DictReader((out / "installation.csv").read_text().splitlines()))
    assert rows
    assert {r["camera_type"] for r in rows} == {"1080p-4mm"}
    assert main(["demo", "--camera", "nope", "--out", str(tmp_path / "x")]) == 2


def test_existing_osm_cameras_count_with_their_wedges(layers, tmp_path):
    demand = gpd.read_file(layers["demand"])
    at = demand.geometry.iloc[0]
    cams = gpd.GeoDataFrame({"camera:direction": [90.0], "camera:angle": [60.0]},
                            geometry=[at], crs=CRS)
    bare = gpd.GeoDataFrame({"name": ["pole"]}, geometry=[at], crs=CRS)
    cams.to_file(tmp_path / "cams.gpkg")
    bare.to_file(tmp_path / "bare.gpkg")
    weights = {}
    for name in ("cams", "bare"):
        out = tmp_path / f"plan_{name}"
        assert main(_args(layers, out, "--camera", "1080p-4mm", "--existing",
                          str(tmp_path / f"{name}.gpkg"))) == 0
        weights[name] = json.loads((out / "summary.json").read_text())["existing_weight"]
    assert 0 < weights["cams"] < weights["bare"]
