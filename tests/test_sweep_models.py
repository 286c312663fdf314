"""A plan cut from a longer plan (a sweep over sizes) uses the run's own coverage and bounds.

With line-of-sight coverage, buildings hide demand points that a disc of the same
reach would count as covered: the cut plan's per-point and per-district figures
must be the sightline ones, equal to a direct plan of the same sites.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import box

from maps.compare.run import ComparisonOutput
from maps.compare.sweep import plan_prefix, rank_coverage, sweep_scenario
from planner.api import PlanLayers, PlanOptions, plan_sites
from planner.coverage.disc import coverage_matrix
from planner.coverage.sightline import SightlineModel
from planner.plan.result import Plan
from planner.scenario import load_scenario, run_scenario

QUIET = ComparisonOutput(interactive_map=False)
"""Sweeps written without the interactive comparison map (faster)."""

CRS = "EPSG:32612"
X0, Y0 = 412_000.0, 3_697_000.0
RADIUS = 120.0
DISTRICT_COLUMNS = ["district", "sets", "covered_weight", "total_weight", "covered_share",
                    "population", "sets_per_1000"]


def _layers() -> dict[str, gpd.GeoDataFrame]:
    """The buildings scene of tests/test_sightline.py, in UTM, with weights and four districts."""
    rng = np.random.default_rng(3)
    buildings = []
    for x0, y0 in rng.uniform(0, 400, size=(25, 2)):
        w, h = rng.uniform(10, 40, size=2)
        buildings.append(box(X0 + x0, Y0 + y0, X0 + x0 + w, Y0 + y0 + h))
    demand_xy = rng.uniform(0, 450, size=(400, 2))
    sites_xy = rng.uniform(0, 450, size=(30, 2))
    demand = gpd.GeoDataFrame({"weight": rng.gamma(2.0, 1.0, 400).round(4)},
                              geometry=shapely.points(demand_xy + np.array([X0, Y0])), crs=CRS)
    sites = gpd.GeoDataFrame({"pole": [f"P{i:02d}" for i in range(30)]},
                             geometry=shapely.points(sites_xy + np.array([X0, Y0])), crs=CRS)
    quarters = [box(X0 + x, Y0 + y, X0 + x + 225, Y0 + y + 225)
                for x in (0, 225) for y in (0, 225)]
    districts = gpd.GeoDataFrame({"name": ["SW", "NW", "SE", "NE"],
                                  "people": [4000, 2500, 3000, 1500]},
                                 geometry=quarters, crs=CRS)
    return {"demand": demand, "sites": sites, "districts": districts,
            "buildings": gpd.GeoDataFrame(geometry=buildings, crs=CRS)}


def _plan(layers: dict[str, gpd.GeoDataFrame], options: PlanOptions) -> Plan:
    model = SightlineModel(np.asarray(layers["buildings"].geometry.array))
    context = PlanLayers(districts=layers["districts"], district_name="name",
                         population="people", coverage=model)
    return plan_sites(layers["demand"], layers["sites"], options, site_id="pole", layers=context)


@pytest.fixture(scope="module")
def layers() -> dict[str, gpd.GeoDataFrame]:
    return _layers()


@pytest.fixture(scope="module")
def run(layers: dict[str, gpd.GeoDataFrame]) -> Plan:
    return _plan(layers, PlanOptions(radius_m=RADIUS, sets=8, phases=(3, 5)))


def test_a_cut_plan_has_the_sightline_figures_of_a_direct_plan(
    layers: dict[str, gpd.GeoDataFrame], run: Plan
) -> None:
    cut = plan_prefix(run, 3)
    ids = tuple(cut.sites["site_id"])
    direct = _plan(layers, PlanOptions(radius_m=RADIUS, sets=3, forced=ids))
    assert set(direct.sites["site_id"]) == set(ids)
    np.testing.assert_array_equal(cut.demand["covered"].to_numpy(),
                                  direct.demand["covered"].to_numpy())
    assert cut.covered_weight == pytest.approx(direct.covered_weight, rel=1e-12)
    assert cut.districts is not None
    assert direct.districts is not None
    got = cut.districts[DISTRICT_COLUMNS].reset_index(drop=True)
    want = direct.districts[DISTRICT_COLUMNS].reset_index(drop=True)
    assert got["district"].tolist() == want["district"].tolist()
    assert got["sets"].tolist() == want["sets"].tolist()
    for column in DISTRICT_COLUMNS[2:]:
        np.testing.assert_allclose(got[column], want[column], rtol=1e-12, err_msg=column)
    # the disc model (what cuts used to recompute) would count hidden points as covered
    disc = coverage_matrix(shapely.get_coordinates(cut.demand.geometry.array),
                           np.asarray(cut.sites.geometry.array), RADIUS).max(axis=1)
    disc = np.asarray(disc.toarray() if hasattr(disc, "toarray") else disc).ravel()
    assert float(np.dot(cut.demand["weight"], disc)) > cut.covered_weight + 1.0


def test_the_run_keeps_its_coverage_per_rank(run: Plan) -> None:
    cover = rank_coverage(run)
    assert cover is run.rank_quality
    assert cover is not None
    assert cover.n_sets == run.n_sets
    for k in range(run.n_sets + 1):
        assert float(np.dot(run.demand["weight"], cover.after(k))) == pytest.approx(
            run.curve[k], rel=1e-12)
    np.testing.assert_array_equal(cover.after(run.n_sets), run.demand["covered"].to_numpy())


def test_a_cut_plan_takes_its_phase_bound_and_method(run: Plan) -> None:
    assert [p.bound_method for p in run.phases][-1] == run.certificate.method
    cut = plan_prefix(run, 3)
    first = run.phases[0]
    assert cut.certificate.method == first.bound_method
    assert cut.certificate.upper_bound == max(first.upper_bound, cut.covered_weight)
    assert cut.phases == run.phases[:1]
    # a relabelled phase shows through: the label is the phase's, not a fixed one
    relabelled = dataclasses.replace(run, phases=(dataclasses.replace(first, bound_method="mip"),
                                                  *run.phases[1:]))
    assert plan_prefix(relabelled, 3).certificate.method == "mip"


def test_a_sightline_sweep_writes_direct_plan_districts(
    layers: dict[str, gpd.GeoDataFrame], tmp_path: Path
) -> None:
    for name, gdf in layers.items():
        gdf.to_file(tmp_path / f"{name}.gpkg")
    path = tmp_path / "town.toml"
    path.write_text(
        'title = "Town"\ndemand = "demand.gpkg"\nsites = "sites.gpkg"\nsite_id = "pole"\n'
        f'radius = {RADIUS}\nsets = 3\ndistricts = "districts.gpkg"\ndistrict_name = "name"\n'
        'population = "people"\nmodel = "sightline"\nbuildings = "buildings.gpkg"\n',
        encoding="utf-8")
    out = sweep_scenario(path, "sets", (3, 8), tmp_path / "sweep", output=QUIET)
    cut = out / "plans" / "sets-3"
    summary = json.loads((cut / "summary.json").read_text(encoding="utf-8"))
    full = json.loads((out / "plans" / "sets-8" / "summary.json").read_text(encoding="utf-8"))
    assert summary["parameters"]["coverage_model"] == "sightline"
    assert summary["bound_method"] == full["phases"][0]["bound_method"]
    ids = [f["properties"]["site_id"] for f in
           json.loads((cut / "sites.geojson").read_text(encoding="utf-8"))["features"]]
    scenario = load_scenario(path).with_values(forced=tuple(ids))
    direct = run_scenario(scenario)
    assert direct.districts is not None
    with (cut / "districts.csv").open(encoding="utf-8") as fh:
        rows = {r["district"]: r for r in csv.DictReader(fh)}
    for row in direct.districts.itertuples(index=False):
        assert int(rows[row.district]["sets"]) == row.sets
        assert float(rows[row.district]["covered_weight"]) == pytest.approx(
            row.covered_weight, rel=1e-12)
        assert float(rows[row.district]["covered_share"]) == pytest.approx(
            row.covered_share, rel=1e-12)
