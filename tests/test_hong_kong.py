"""The Hong Kong scenario end to end, on the public reference data (skips without it)."""

from __future__ import annotations

import csv
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
                 "mtr_exits.geojson", "hk_census2011_population_by_district.csv"):
        assert name in problems
