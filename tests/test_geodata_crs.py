"""Metric CRS choice, projection to metres, plausibility and labels."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
from shapely.geometry import Point

from geodata import CRSError, LayerError, crs_label, metric_crs, to_metric
from geodata.crs import check_lonlat_range, is_metric, resolve_crs

FEET = "ESRI:102649"  # NAD83 / Arizona Central, US survey feet (the Mesa sample data)


def layer(xy: list[tuple[float, float]], crs: object) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"n": range(len(xy))}, geometry=[Point(p) for p in xy], crs=crs)


def test_geographic_layer_goes_to_its_utm_zone() -> None:
    hong_kong = layer([(114.17, 22.30), (114.18, 22.31)], "EPSG:4326")
    mesa = layer([(-111.83, 33.41)], "EPSG:4326")
    assert metric_crs(hong_kong).to_epsg() == 32650
    assert metric_crs(mesa).to_epsg() == 32612


def test_projected_metre_layer_keeps_its_crs() -> None:
    grid = layer([(835_500, 818_200)], "EPSG:2326")
    assert metric_crs(grid) == pyproj.CRS("EPSG:2326")
    result = to_metric(grid, source="sites.csv")
    assert result.crs.to_epsg() == 2326
    assert result.geometry.iloc[0].equals(Point(835_500, 818_200))


def test_projected_feet_layer_goes_to_utm() -> None:
    feet = layer([(723_414.0, 875_929.0), (728_644.0, 881_276.0)], FEET)
    target = metric_crs(feet)
    assert target.to_epsg() == 32612
    assert target.axis_info[0].unit_name == "metre"


def test_distances_come_out_in_metres() -> None:
    feet = layer([(724_000.0, 878_000.0), (725_000.0, 878_000.0)], FEET)
    metric = to_metric(feet, source="crimes.shp")
    distance = metric.geometry.iloc[0].distance(metric.geometry.iloc[1])
    assert distance == pytest.approx(1000 * 0.3048006, rel=1e-3)


def test_to_metric_to_an_explicit_crs() -> None:
    lonlat = layer([(114.1722, 22.2988)], "EPSG:4326")
    result = to_metric(lonlat, source="sites.csv", crs="EPSG:2326")
    assert result.crs.to_epsg() == 2326
    x, y = result.geometry.iloc[0].coords[0]
    assert 830_000 < x < 840_000
    assert 815_000 < y < 822_000


def test_to_metric_refuses_a_target_that_is_not_metric() -> None:
    lonlat = layer([(114.1722, 22.2988)], "EPSG:4326")
    with pytest.raises(CRSError, match="is not a projected CRS in metres") as err:
        to_metric(lonlat, source="sites.csv", crs=FEET)
    assert str(err.value).startswith("sites.csv:")


def test_layer_without_crs_is_a_crs_error() -> None:
    bare = layer([(1.0, 2.0)], None)
    with pytest.raises(CRSError, match=r"^sites\.csv: has no coordinate reference system"):
        to_metric(bare, source="sites.csv")
    with pytest.raises(CRSError, match="--crs"):
        metric_crs(bare)


def test_layer_without_coordinates_cannot_pick_a_utm_zone() -> None:
    empty = gpd.GeoDataFrame({"n": []}, geometry=[], crs="EPSG:4326")
    with pytest.raises(CRSError, match="cannot choose a metric CRS"):
        metric_crs(empty, source="empty.geojson")


@pytest.mark.parametrize("bad", [(1e12, 0.0), (np.inf, 0.0)])
def test_absurd_coordinates_are_a_layer_error(bad: tuple[float, float]) -> None:
    gdf = layer([(835_500, 818_200), bad], "EPSG:2326")
    with pytest.raises(LayerError, match=r"coordinates at row 2 are infinite, NaN or farther"):
        to_metric(gdf, source="sites.gpkg")


def test_crs_label() -> None:
    assert crs_label("EPSG:32612") == "EPSG:32612"
    assert crs_label(pyproj.CRS.from_epsg(2326)) == "EPSG:2326"
    assert crs_label(4326) == "EPSG:4326"
    label = crs_label(FEET)
    assert label.startswith("PROJCRS[")
    assert pyproj.CRS.from_wkt(label).equals(pyproj.CRS(FEET))


def test_is_metric() -> None:
    assert is_metric(pyproj.CRS("EPSG:2326"))
    assert not is_metric(pyproj.CRS(FEET))
    assert not is_metric(pyproj.CRS("EPSG:4326"))


def test_resolve_crs_sets_a_missing_crs_and_keeps_an_equal_one() -> None:
    bare = layer([(835_500, 818_200)], None)
    assert resolve_crs(bare, given="EPSG:2326", source="s").crs.to_epsg() == 2326
    grid = layer([(835_500, 818_200)], "EPSG:2326")
    assert resolve_crs(grid, given=2326, source="s") is grid


def test_lonlat_range_check_names_the_crs() -> None:
    wrong = layer([(835_500, 818_200)], "EPSG:4326")
    with pytest.raises(CRSError, match=r"x 835500\.\.835500, y 818200\.\.818200.*EPSG:4326"):
        check_lonlat_range(wrong, source="sites.geojson")
    check_lonlat_range(layer([(114.17, 22.30)], "EPSG:4326"), source="ok.geojson")
