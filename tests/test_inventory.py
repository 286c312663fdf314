"""Mount inventories with types: several registers at once, buildings, a grid filling the gaps."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point, box

from geodata import LayerError, OptionError
from planner.sites.inventory import GridFill, Inventory, mounts_from_inventories

CRS = "EPSG:2326"
AREA = gpd.GeoDataFrame(geometry=[box(0, 0, 1000, 1000)], crs=CRS)


def points(xy: list[tuple[float, float]], **columns: object) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(dict(columns), geometry=[Point(x, y) for x, y in xy], crs=CRS)


def test_inventories_keep_their_types_costs_and_ids() -> None:
    lampposts = Inventory(points([(100, 100), (200, 100)], ref=["L7", "L9"]), "smart lamppost",
                          cost=1.0, id_column="ref")
    stations = Inventory(gpd.GeoDataFrame(geometry=[box(500, 500, 540, 530)], crs=CRS),
                         "police station", cost=3.0)
    sites = mounts_from_inventories([lampposts, stations], area=AREA)
    assert sites["site_id"].tolist() == ["smart_lamppost:L7", "smart_lamppost:L9",
                                         "police_station:1"]
    assert sites["mount_type"].tolist() == ["smart lamppost"] * 2 + ["police station"]
    assert sites["cost"].tolist() == [1.0, 1.0, 3.0]
    # The building gives one mounting point, on the building.
    assert shapely.intersects(sites.geometry.iloc[2], box(500, 500, 540, 530))


def test_points_in_one_building_give_one_mount_and_sea_points_go() -> None:
    posts = Inventory(points([(510, 510), (520, 520), (900, 900), (1500, 1500)]), "post box")
    offices = Inventory(points([(530, 515)]), "post office")
    buildings = gpd.GeoDataFrame(geometry=[box(500, 500, 540, 530)], crs=CRS)
    sites = mounts_from_inventories([offices, posts], area=AREA, buildings=buildings)
    # The office comes first, so it is the building's mount; (1500, 1500) lies outside the area.
    assert sites["site_id"].tolist() == ["post_office:1", "post_box:3"]


def test_grid_fills_only_the_gaps_near_people() -> None:
    stations = Inventory(points([(150, 150)]), "police station", cost=5.0)
    people = shapely.points(np.array([[150.0, 150.0], [850.0, 850.0]]))
    fill = GridFill(spacing_m=100.0, cost=1.0, gap_m=60.0, near=people, near_m=120.0)
    sites = mounts_from_inventories([stations], area=AREA, fill=fill)
    grid = sites[sites["mount_type"] == "lamppost grid"]
    xy = shapely.get_coordinates(np.asarray(grid.geometry.array))
    # Near (150, 150): the grid site on the station is dropped, its 4 neighbours kept;
    # near (850, 850): the 5 sites within 120 m.
    assert len(grid) == 9
    assert not ((xy[:, 0] == 150) & (xy[:, 1] == 150)).any()
    assert (np.hypot(xy[:, 0] - 850, xy[:, 1] - 850) <= 120).sum() == 5
    assert sites["cost"].tolist()[0] == 5.0
    assert set(grid["cost"]) == {1.0}
    assert sites["site_id"].is_unique


def test_costs_for_some_types_only_are_an_error() -> None:
    a = Inventory(points([(100, 100)]), "smart lamppost", cost=1.0)
    b = Inventory(points([(200, 100)]), "post box")
    with pytest.raises(OptionError, match="every mount type a cost"):
        mounts_from_inventories([a, b], area=AREA)
    with pytest.raises(OptionError, match="every mount type a cost"):
        mounts_from_inventories([a], area=AREA, fill=GridFill(spacing_m=100.0))


def test_repeated_ids_and_lines_are_errors() -> None:
    a = Inventory(points([(100, 100), (200, 100)], ref=["X", "X"]), "post box", id_column="ref")
    with pytest.raises(LayerError, match="site ids repeat"):
        mounts_from_inventories([a])
    lines = Inventory(gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1, 1)])], crs=CRS),
                      "footbridge", source="bridges.geojson")
    with pytest.raises(LayerError, match="points or polygons"):
        mounts_from_inventories([lines])
    with pytest.raises(OptionError, match="spacing"):
        mounts_from_inventories([], area=AREA, fill=GridFill(spacing_m=0.0))


# --- in a scenario file: raster population, typed inventories, a fill grid, owned cameras ---

TOML = """
title = "raster city"
radius = 80
sets = 8
phases = [4, 4]
districts = "districts.gpkg"
district_name = "name"
existing = [
    {{ layer = "traffic.csv", owner = "Transport Department" }},
    {{ layer = "exits.gpkg", owner = "MTR" }},
]

[surface]
cell = 50
area = "land.gpkg"
population = "pop.tif"

[candidates]
buildings = "buildings.gpkg"
[[candidates.inventory]]
layer = "lampposts.gpkg"
mount_type = "smart lamppost"
cost = 1.0
[[candidates.inventory]]
layer = "buildings.gpkg"
mount_type = "government building"
cost = 2.5
[candidates.fill]
spacing = 50
cost = 1.0
gap = 30
near = 60
{extra}
"""


def _raster_city(folder: Path) -> None:
    import warnings

    import rasterio
    from affine import Affine

    x0, y0 = 835_000.0, 818_000.0
    districts = gpd.GeoDataFrame({"name": ["West", "East"]},
                                 geometry=[box(x0, y0, x0 + 500, y0 + 500),
                                           box(x0 + 500, y0, x0 + 1000, y0 + 500)], crs=CRS)
    districts.to_file(folder / "districts.gpkg")
    gpd.GeoDataFrame(geometry=[box(x0, y0, x0 + 1000, y0 + 400)], crs=CRS).to_file(
        folder / "land.gpkg")
    # People only in the west half: 10 rows x 5 cols of 100 m, 50 people each, lon/lat-free.
    data = np.full((5, 10), -1.0)
    data[:, :5] = 50.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        with rasterio.open(folder / "pop.tif", "w", driver="GTiff", height=5, width=10, count=1,
                           dtype="float32", crs=CRS, nodata=-1.0,
                           transform=Affine(100.0, 0.0, x0, 0.0, -100.0, y0 + 500)) as dst:
            dst.write(data.astype("float32"), 1)
    points([(x0 + 120, y0 + 150), (x0 + 900, y0 + 150)]).to_file(folder / "lampposts.gpkg")
    gpd.GeoDataFrame(geometry=[box(x0 + 300, y0 + 200, x0 + 340, y0 + 240)], crs=CRS).to_file(
        folder / "buildings.gpkg")
    lon_lat = gpd.GeoSeries([Point(x0 + 250, y0 + 100)], crs=CRS).to_crs("EPSG:4326")
    (folder / "traffic.csv").write_text(
        "\ufeffkey,longitude,latitude\n"
        f"T1,{lon_lat.x.iloc[0]:.7f},{lon_lat.y.iloc[0]:.7f}\n", encoding="utf-8")
    points([(x0 + 450, y0 + 300)]).to_file(folder / "exits.gpkg")


def test_scenario_with_raster_population_inventories_and_owners(tmp_path: Path) -> None:
    from planner.scenario import check_scenario, load_scenario, run_scenario

    _raster_city(tmp_path)
    path = tmp_path / "city.toml"
    path.write_text(TOML.format(extra=""), encoding="utf-8")
    scenario = load_scenario(path)
    assert check_scenario(scenario) == []
    plan = run_scenario(scenario)
    assert plan.parameters["surface"]["components"] == ["population"]
    types = plan.parameters["candidates"]["mount_types"]
    assert types["smart lamppost"] == 2
    assert types["government building"] == 1
    assert types["lamppost grid"] > 0
    assert set(plan.owners) == {"Transport Department", "MTR"}
    assert all(v > 0 for v in plan.owners.values())
    # Every set is near people (the west half) and typed; costs ride along.
    sites = plan.sites.to_crs(CRS)
    assert (sites.geometry.x < 835_000 + 500 + 60 + 80).all()
    assert set(sites["mount_type"]) <= {"smart lamppost", "government building", "lamppost grid"}
    assert set(sites["cost"]) <= {1.0, 2.5}


@pytest.mark.parametrize(("extra", "problem"), [
    ('[[candidates.inventory]]\nmount_type = "x"', "needs the key 'layer'"),
    ('[[candidates.inventory]]\nlayer = "a.gpkg"\nmount_type = "x"\ncolour = 1',
     "unknown key 'colour'"),
])
def test_inventory_tables_are_checked(tmp_path: Path, extra: str, problem: str) -> None:
    from geodata import ScenarioError
    from planner.scenario import load_scenario

    path = tmp_path / "city.toml"
    path.write_text(TOML.format(extra=extra), encoding="utf-8")
    with pytest.raises(ScenarioError, match=problem):
        load_scenario(path)


@pytest.mark.parametrize(("text", "problem"), [
    ('existing = ["a.csv", "b.csv"]\nexisting_owners = ["TD"]\n', "names 1 owners for 2"),
    ('[candidates]\nfrom = "grid"\n[candidates.fill]\nspacing = 50\n', "cannot be combined"),
    ('[surface]\npoints = "raster"\npopulation = "pop.gpkg"\n', "needs a population raster"),
])
def test_inconsistent_inventory_options_are_reported(tmp_path: Path, text: str,
                                                     problem: str) -> None:
    from geodata import ScenarioError
    from planner.scenario import load_scenario

    path = tmp_path / "s.toml"
    path.write_text('radius = 50\nsets = 2\ndistricts = "d.gpkg"\n' + text, encoding="utf-8")
    with pytest.raises(ScenarioError, match=problem):
        load_scenario(path)
