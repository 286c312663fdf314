"""Mount inventories with types: several registers at once, buildings, a grid filling the gaps."""

from __future__ import annotations

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
