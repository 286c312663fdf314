"""The Hong Kong scenario end to end, on the public reference data (skips without it)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import geopandas as gpd
import pytest

from maps.cli.main import main

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "hong-kong.toml"

pytestmark = pytest.mark.shared_data


def test_hong_kong_plans_4000_sets_on_land(shared_data: Path, tmp_path: Path) -> None:
    data = shared_data / "hong-kong"
    out = tmp_path / "hk"
    assert main(["plan", str(EXAMPLE), "--data-dir", str(data), "--out", str(out)]) == 0
    sites = gpd.read_file(out / "sites.geojson")
    assert len(sites) == 4000
    assert sorted(sites["phase"].value_counts().to_dict().items()) == [(1, 2000), (2, 2000)]
    land = gpd.read_file(data / "geohk_census2001_dcca_land.json").set_crs(
        "EPSG:4326", allow_override=True)
    land = land.set_geometry(land.make_valid()).to_crs("EPSG:2326")
    shore = land.union_all().buffer(0.01)
    assert sites.to_crs("EPSG:2326").within(shore).all()
    with (out / "districts.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 18
    assert {"district", "sets", "covered_share", "population", "sets_per_1000"} <= set(rows[0])
    assert sum(int(r["sets"]) for r in rows) == 4000
    assert sum(float(r["population"]) for r in rows) == 7_070_388
    # A planner's check: no district of more than 250,000 residents is left with < 40 sets.
    thin = [r["district"] for r in rows if float(r["population"]) > 250_000 and int(r["sets"]) < 40]
    assert thin == []
    # Sites come from typed mounts: government registers and the lamppost grid.
    assert "lamppost grid" in set(sites["mount_type"])
    assert len(set(sites["mount_type"])) >= 4
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert set(summary["owners"]) == {"Transport Department", "MTR"}
    assert summary["parameters"]["surface"]["components"] == ["population", "attractors"]
    # issue 14: the scenario's plan is proven within 1 % of the best possible, each phase too
    assert summary["covered_weight"] >= 0.99 * summary["upper_bound"]
    for phase in summary["phases"]:
        assert phase["covered_weight"] >= 0.99 * phase["upper_bound"]
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| Transport Department |" in report
    assert "added by the 4,000 new sets" in report


def test_hong_kong_scenario_validates(shared_data: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    from planner.scenario import check_scenario, load_scenario

    scenario = load_scenario(EXAMPLE, data_dir=shared_data / "hong-kong")
    assert check_scenario(scenario) == []


def test_hong_kong_scenario_without_data_names_every_missing_file(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE, tmp_path / "hong-kong.toml")
    from planner.scenario import check_scenario, load_scenario

    problems = "\n".join(check_scenario(load_scenario(tmp_path / "hong-kong.toml")))
    for name in ("hksar_18_district_boundary.json", "geohk_census2001_dcca_land.json",
                 "mtr_exits.geojson", "hk_census2011_population_by_district.csv",
                 "worldpop2020_hk_100m.tif", "td_traffic_cameras_2019.csv",
                 "Street_Posting_Boxes.geojson"):
        assert name in problems


def test_hong_kong_with_cameras_plans_wedges_for_the_installer(
    shared_data: Path, tmp_path: Path
) -> None:
    example = EXAMPLE.with_name("hong-kong-cameras.toml")
    out = tmp_path / "hk-cams"
    data = shared_data / "hong-kong"
    assert main(["plan", str(example), "--data-dir", str(data), "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["n_sets"] == 4000
    assert summary["upper_bound"] >= summary["covered_weight"] > 0
    with (out / "installation.csv").open(encoding="utf-8") as f:
        cameras = list(csv.DictReader(f))
    per_set = {}
    for c in cameras:
        per_set[c["site_id"]] = per_set.get(c["site_id"], 0) + 1
    assert len(per_set) == 4000
    assert set(per_set.values()) <= {1, 2, 3}  # at most 3; a camera that adds nothing is left out
    assert {float(c["pan_deg"]) % 15 for c in cameras} == {0.0}
    assert {c["camera_type"] for c in cameras} == {"1080p-4mm"}
