"""Scenario files that build their demand surface and candidates from layers."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, Point, box

from maps.cli.main import main
from planner.demand.surface import areal_share, attractor_footfall, grid_cells, spread_counts
from planner.scenario import check_scenario, load_scenario, run_scenario

CRS = "EPSG:2326"
X0, Y0 = 835_000.0, 818_000.0


def _write(path: Path, gdf: gpd.GeoDataFrame) -> Path:
    gdf.to_file(path, driver="GeoJSON") if path.suffix == ".geojson" else gdf.to_file(path)
    return path


def _city(folder: Path) -> None:
    """Two districts side by side, land on 3/4 of them, streets, exits, buildings, crime."""
    districts = gpd.GeoDataFrame(
        {"name": ["West", "East"]},
        geometry=[box(X0, Y0, X0 + 500, Y0 + 500), box(X0 + 500, Y0, X0 + 1000, Y0 + 500)],
        crs=CRS)
    _write(folder / "districts.gpkg", districts)
    land = gpd.GeoDataFrame(geometry=[box(X0, Y0, X0 + 1000, Y0 + 375)], crs=CRS)
    _write(folder / "land.gpkg", land)
    (folder / "population.csv").write_text("district,residents\nwest,1000\nEAST,3000\n")
    exits = gpd.GeoDataFrame({"w": [1.0, 2.0]},
                             geometry=[Point(X0 + 250, Y0 + 200), Point(X0 + 750, Y0 + 200)],
                             crs=CRS)
    _write(folder / "exits.gpkg", exits)
    streets = [LineString([(X0, Y0 + y), (X0 + 1000, Y0 + y)]) for y in (100, 200, 300)]
    streets += [LineString([(X0 + x, Y0), (X0 + x, Y0 + 375)]) for x in range(100, 1000, 200)]
    _write(folder / "streets.gpkg", gpd.GeoDataFrame(geometry=streets, crs=CRS))
    rng = np.random.default_rng(1)
    crime = rng.uniform([X0, Y0], [X0 + 1000, Y0 + 375], size=(40, 2))
    lines = ["x,y,kind"] + [f"{x:.1f},{y:.1f},{'theft' if i % 3 else 'robbery'}"
                            for i, (x, y) in enumerate(crime)]
    (folder / "crime.csv").write_text("\n".join(lines) + "\n")
    buildings = [box(X0 + x + 20, Y0 + y + 20, X0 + x + 80, Y0 + y + 80)
                 for x in range(0, 1000, 200) for y in (0, 100, 200)]
    _write(folder / "buildings.gpkg", gpd.GeoDataFrame(geometry=buildings, crs=CRS))


SCENARIO = """
title = "test city"
radius = 80
sets = 6
phases = [3, 3]
crs = "EPSG:2326"
districts = "districts.gpkg"
district_name = "name"
population = "residents"
district_population = "population.csv"
model = "{model}"
buildings = "buildings.gpkg"
streets = "streets.gpkg"

[surface]
points = "{points}"
cell = 50
area = "land.gpkg"
population = "districts"
attractors = "exits.gpkg"
attractor_weight = "w"
attractor_decay = 150
crime = "crime.csv"
crime_category = "kind"
severity = {{ theft = 1, robbery = 3 }}
bandwidth = 100

[candidates]
from = "{candidates}"
spacing = 50
"""


@pytest.mark.parametrize(("model", "points", "candidates"), [
    ("disc", "grid", "grid"),
    ("sightline", "grid", "intersections"),
    ("network", "streets", "intersections"),
])
def test_layered_scenario_plans_on_land(tmp_path: Path, model: str, points: str,
                                        candidates: str) -> None:
    _city(tmp_path)
    path = tmp_path / "city.toml"
    path.write_text(SCENARIO.format(model=model, points=points, candidates=candidates))
    scenario = load_scenario(path)
    assert check_scenario(scenario) == []
    plan = run_scenario(scenario)
    assert plan.n_sets == 6
    assert plan.parameters["coverage_model"] == model
    land = box(X0, Y0, X0 + 1000, Y0 + 375)
    sites = plan.sites.to_crs(CRS)
    assert sites.geometry.intersects(land).all()
    table = plan.districts.set_index("district")
    assert table.loc["West", "population"] == 1000
    assert table.loc["East", "population"] == 3000
    assert table["sets"].sum() == 6
    if model == "sightline":
        fp = plan.footprints.to_crs(CRS)
        assert (fp.area < np.pi * 80**2 * 0.97).any()  # cut by buildings


def test_broken_scenario_reports_every_problem_in_one_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _city(tmp_path)
    (tmp_path / "population.csv").write_text("district,residents\nWest,-5\nWest,x\n")
    (tmp_path / "crime.csv").write_text("x,y,kind\n1,2,arson\n")
    path = tmp_path / "broken.toml"
    path.write_text("""
radius = 80
sets = 6
phasez = [3, 3]
crs = "EPSG:2326"
districts = "districts.gpkg"
district_name = "name"
population = "residents"
district_population = "population.csv"
model = "sightline"
[surface]
area = "missing-land.gpkg"
attractors = "exits.gpkg"
attractor_weight = "weight_missing"
crime = "crime.csv"
crime_category = "kind"
severity = { theft = 1 }
[candidates]
from = "grid"
""")
    code = main(["validate", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    for fragment in ("missing-land.gpkg", "file not found", "weight_missing", "'arson'",
                     "negative", "duplicates", "needs a buildings layer",
                     "unknown key 'phasez' (did you mean 'phases'?)"):
        assert fragment in err, fragment


def test_unknown_surface_keys_are_all_reported(tmp_path: Path) -> None:
    path = tmp_path / "typo.toml"
    path.write_text('radius = 50\nsets = 1\n[surface]\ncel = 50\nrule = 3\n'
                    '[candidates]\nspacing = "far"\n')
    from geodata.errors import ScenarioError

    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    text = str(err.value)
    assert "'cel'" in text
    assert "did you mean 'cell'" in text
    assert "'rule'" in text
    assert "'spacing'" in text


def test_grid_cells_are_clipped_and_keep_the_area() -> None:
    area = gpd.GeoDataFrame(geometry=[Point(X0, Y0).buffer(333.0)], crs=CRS)
    cells = grid_cells(area, cell_m=50.0)
    assert cells.geometry.within(area.geometry.iloc[0].buffer(1e-6)).all()
    assert cells["area_m2"].sum() == pytest.approx(area.area.iloc[0], rel=1e-9)
    assert cells["area_m2"].max() == pytest.approx(2500.0)
    assert cells["cell"].is_unique


def test_areal_share_keeps_each_polygon_total() -> None:
    area = gpd.GeoDataFrame(geometry=[box(X0, Y0, X0 + 300, Y0 + 200)], crs=CRS)
    cells = grid_cells(area, cell_m=40.0)
    polys = gpd.GeoDataFrame({"population": [600.0, 900.0]},
                             geometry=[box(X0, Y0, X0 + 150, Y0 + 200),
                                       box(X0 + 150, Y0, X0 + 300, Y0 + 200)], crs=CRS)
    share = areal_share(cells, polys, "population")
    assert share.sum() == pytest.approx(1500.0)
    west = cells.geometry.representative_point().x < X0 + 150
    assert share[west.to_numpy()].sum() == pytest.approx(600.0)


def test_attractor_decay_and_spread_counts() -> None:
    pts = np.array([Point(0, 0), Point(100, 0), Point(5000, 0)], dtype=object)
    f = attractor_footfall(pts, np.array([Point(0, 0)], dtype=object), decay_m=100.0)
    assert f[0] == pytest.approx(1.0)
    assert f[1] == pytest.approx(np.exp(-1.0))
    assert f[2] == 0.0
    districts = gpd.GeoDataFrame({"crime_count": [10.0]}, geometry=[box(-1, -1, 200, 1)])
    spread = spread_counts(pts, districts, "crime_count", np.array([3.0, 1.0, 5.0]))
    assert spread.tolist() == [7.5, 2.5, 0.0]
