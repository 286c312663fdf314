"""Distances in ground metres whatever the layers' CRS: Web Mercator, distorted grids, feet."""

from __future__ import annotations

import geopandas as gpd
import pyproj
import pytest
from shapely.geometry import Point

from geodata import CRSError, metric_choice, to_metric
from geodata.crs import MAX_SCALE_ERROR, scale_error
from maps.export.summary import plan_summary
from planner.api import PlanOptions, plan_sites

GEOD = pyproj.Geod(ellps="WGS84")
LONDON = (-0.1276, 51.5072)


def _lonlat_layers(origin: tuple[float, float]) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Two sites 400 m apart; demand points at known ground distances from them (metres)."""
    lon0, lat0 = origin
    lon1, lat1, _ = GEOD.fwd(lon0, lat0, 90.0, 400.0)
    sites = gpd.GeoDataFrame({"sid": ["A", "B"]}, geometry=[Point(lon0, lat0), Point(lon1, lat1)],
                             crs="EPSG:4326")
    points, weights = [], []
    for (lon, lat), reach in (((lon0, lat0), [20.0, 35.0, 38.0]), ((lon1, lat1), [30.0, 45.0])):
        for k, distance in enumerate(reach):
            x, y, _ = GEOD.fwd(lon, lat, 10.0 + 100.0 * k, distance)
            points.append(Point(x, y))
            weights.append(distance)  # a distinct weight per point: the sum names the points
    demand = gpd.GeoDataFrame({"weight": weights}, geometry=points, crs="EPSG:4326")
    return demand, sites


@pytest.mark.parametrize("crs", ["EPSG:3857", "EPSG:27700", "EPSG:32630", "EPSG:3395"])
def test_london_layers_cover_the_same_ground_in_any_crs(crs: str) -> None:
    demand, sites = _lonlat_layers(LONDON)
    plan = plan_sites(demand.to_crs(crs), sites.to_crs(crs), PlanOptions(radius_m=40.0, sets=2),
                      site_id="sid")
    # within 40 ground metres: 20 + 35 + 38 (site A) and 30 (site B); 45 is not.
    # Web Mercator's "metres" are 1.61 ground metres here: used as they are, only 20 would be.
    assert plan.covered_weight == pytest.approx(20.0 + 35.0 + 38.0 + 30.0)
    assert plan.crs == ("EPSG:27700" if crs == "EPSG:27700" else "EPSG:32630")
    reason = plan_summary(plan)["crs_reason"]
    assert reason == plan.parameters["crs_reason"]
    assert reason.startswith(crs)
    if crs in ("EPSG:3857", "EPSG:3395"):
        assert "projected to EPSG:32630" in reason
    else:
        assert reason.endswith("used as is")


def test_web_mercator_is_reprojected_even_on_the_equator() -> None:
    # near the equator its scale is within 1 %, but its metres are spherical ones
    demand, _ = _lonlat_layers((103.85, 1.29))  # Singapore
    choice = metric_choice(demand.to_crs("EPSG:3857"), source="demand.geojson")
    assert choice.crs.to_epsg() == 32648
    assert "Web (pseudo-)Mercator" in choice.reason
    assert choice.reason.startswith("EPSG:3857 (WGS 84 / Pseudo-Mercator)")


def test_a_good_local_grid_is_kept() -> None:
    grid = gpd.GeoDataFrame(geometry=[Point(835_500, 818_200), Point(836_500, 819_000)],
                            crs="EPSG:2326")
    choice = metric_choice(grid)
    assert choice.crs.to_epsg() == 2326
    assert choice.reason.startswith("EPSG:2326 (Hong Kong 1980 Grid System) is projected in metres")
    assert to_metric(grid, source="sites.gpkg").geometry.iloc[0].equals(Point(835_500, 818_200))


def test_a_grid_far_from_its_zone_is_replaced_by_the_data_utm_zone() -> None:
    demand, _ = _lonlat_layers(LONDON)
    far = demand.to_crs("EPSG:32633")  # UTM 33N: 15 degrees of longitude east of London
    error = scale_error(pyproj.CRS("EPSG:32633"), far.total_bounds)
    assert error is not None
    assert error > MAX_SCALE_ERROR
    choice = metric_choice(far)
    assert choice.crs.to_epsg() == 32630
    assert f"{error:.1%}" in choice.reason
    assert "more than the 1% allowed" in choice.reason
    # the threshold is the caller's to set
    assert metric_choice(far, max_scale_error=0.02).crs.to_epsg() == 32633


def test_feet_and_degrees_say_so() -> None:
    demand, _ = _lonlat_layers(LONDON)
    assert "in degrees, not metres" in metric_choice(demand).reason
    feet = demand.to_crs("EPSG:2263")  # New York Long Island, US survey feet
    assert "US survey foot, not metres" in metric_choice(feet).reason


def test_empty_web_mercator_layer_cannot_be_measured() -> None:
    empty = gpd.GeoDataFrame(geometry=[], crs="EPSG:3857")
    with pytest.raises(CRSError, match=r"^empty\.gpkg: cannot choose a metric CRS.*Mercator"):
        metric_choice(empty, source="empty.gpkg")


def test_scenario_layers_record_the_input_crs_reason() -> None:
    from planner.api import About
    from planner.scenario.files import Scenario
    from planner.scenario.layers import build_inputs

    demand, sites = _lonlat_layers(LONDON)
    main = {"demand": demand.to_crs("EPSG:3857"), "sites": sites.to_crs("EPSG:3857")}
    built = build_inputs(Scenario(values={"radius": 40.0, "sets": 2}), {}, main, None)
    assert built.parameters["crs_reason"].startswith("EPSG:3857 (WGS 84 / Pseudo-Mercator)")
    plan = plan_sites(built.demand, built.sites, PlanOptions(radius_m=40.0, sets=2),
                      site_id="sid", about=About(parameters=built.parameters))
    assert plan.crs == "EPSG:32630"
    assert plan.parameters["crs_reason"] == built.parameters["crs_reason"]
    assert plan.covered_weight == pytest.approx(20.0 + 35.0 + 38.0 + 30.0)
