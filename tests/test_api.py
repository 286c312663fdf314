"""plan_sites on small GeoDataFrames: CRS, geometry, ids, columns, exclusions, districts."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from shapely.geometry import Point, Polygon, box

from geodata.errors import LayerError, OptionError
from planner.api import RESERVED, PlanLayers, PlanOptions, plan_sites

UTM = "EPSG:32612"  # Mesa, AZ
X0, Y0 = 412_000.0, 3_697_000.0


def _utm(xy, **cols):
    return gpd.GeoDataFrame(cols, geometry=[Point(X0 + x, Y0 + y) for x, y in xy], crs=UTM)


def _random_layers(seed, n=60, m=20, side=1000.0):
    rng = np.random.default_rng(seed)
    demand = _utm(rng.uniform(0, side, (n, 2)), weight=rng.gamma(2.0, 1.0, n))
    sites = _utm(rng.uniform(0, side, (m, 2)),
                 sid=[f"S{k:02d}" for k in range(m)],
                 mount=rng.choice(["lamp post", "pole"], m))
    return demand, sites


# ---------------------------------------------------------------- CRS and distances


@pytest.mark.parametrize(("radius", "covered"), [(75.0, True), (65.0, False)])
def test_geographic_input_is_projected_and_distances_are_right(radius, covered):
    # a site and a demand point 70 m apart, built geodesically in lon/lat
    geod = pyproj.Geod(ellps="WGS84")
    lon0, lat0 = -111.83, 33.41
    lon1, lat1, _ = geod.fwd(lon0, lat0, 60.0, 70.0)  # 70 m towards the north-east
    far_lon, far_lat, _ = geod.fwd(lon0, lat0, 240.0, 3000.0)
    demand = gpd.GeoDataFrame({"weight": [5.0, 1.0]},
                              geometry=[Point(lon1, lat1), Point(far_lon, far_lat)],
                              crs="EPSG:4326")
    sites = gpd.GeoDataFrame({"sid": ["A"]}, geometry=[Point(lon0, lat0)], crs="EPSG:4326")
    plan = plan_sites(demand, sites, PlanOptions(radius_m=radius, sets=1), site_id="sid")
    assert plan.crs == UTM
    assert plan.sites.crs.to_epsg() == 32612
    assert plan.covered_weight == (5.0 if covered else 0.0)
    assert plan.total_weight == 6.0
    # the working coordinates are metres: the two points are ~70 m apart there
    d = plan.demand.geometry.distance(plan.sites.geometry.iloc[0]) if len(plan.sites) else None
    if d is not None:
        assert d.min() == pytest.approx(70.0, abs=0.1)


@pytest.mark.parametrize(("radius", "covered"), [(75.0, True), (65.0, False)])
def test_points_built_in_utm_and_sent_as_lonlat(radius, covered):
    demand = _utm([(70.0, 0.0), (0.0, -70.0 * 0.8), (2000.0, 0.0)], weight=[2.0, 3.0, 7.0])
    sites = _utm([(0.0, 0.0)], sid=[1])
    plan = plan_sites(demand.to_crs(4326), sites.to_crs(4326),
                      PlanOptions(radius_m=radius, sets=1), site_id="sid")
    # the point 56 m away is covered at both radii; the 70 m one only at 75
    assert plan.covered_weight == pytest.approx(3.0 + (2.0 if covered else 0.0))


def test_projected_input_in_metres_is_kept():
    demand, sites = _random_layers(0)
    plan = plan_sites(demand, sites, PlanOptions(radius_m=150.0, sets=3), site_id="sid")
    assert plan.crs == UTM
    chosen = plan.sites.set_index("site_id").geometry
    for sid, geom in chosen.items():
        assert geom.equals(sites.set_index("sid").geometry[sid])


def test_polygon_demand_uses_an_interior_point():
    # an L whose centroid lies outside it
    ell = Polygon([(0, 0), (300, 0), (300, 40), (40, 40), (40, 300), (0, 300)])
    ell = shapely.affinity.translate(ell, X0, Y0)
    assert not ell.contains(ell.centroid)
    inner = ell.representative_point()
    demand = gpd.GeoDataFrame({"weight": [4.0]}, geometry=[ell], crs=UTM)
    at_inner = gpd.GeoDataFrame({"sid": ["in"]}, geometry=[inner], crs=UTM)
    at_centroid = gpd.GeoDataFrame({"sid": ["c"]}, geometry=[ell.centroid], crs=UTM)
    radius = 10.0
    assert ell.centroid.distance(inner) > radius
    plan = plan_sites(demand, at_inner, PlanOptions(radius_m=radius, sets=1), site_id="sid")
    assert plan.covered_weight == 4.0
    plan = plan_sites(demand, at_centroid, PlanOptions(radius_m=radius, sets=1), site_id="sid")
    assert plan.covered_weight == 0.0
    # the demand polygon itself is kept in the output
    assert plan.demand.geometry.iloc[0].geom_type == "Polygon"


# ---------------------------------------------------------------- ids and columns


@pytest.mark.parametrize(
    "ids",
    [
        [f"lamp-{k}" for k in range(20)],
        [1000 + 7 * k for k in range(20)],
        [f"{k:03d}" for k in range(20)],  # leading zeros must survive
    ],
)
def test_site_ids_appear_unchanged(ids):
    demand, sites = _random_layers(1)
    sites = sites.assign(sid=ids)
    plan = plan_sites(demand, sites, PlanOptions(radius_m=150.0, sets=4), site_id="sid")
    got = plan.sites["site_id"].tolist()
    assert len(got) == 4
    assert set(got) <= set(ids)
    assert all(type(g) is type(ids[0]) for g in got)
    for sid, geom in zip(got, plan.sites.geometry, strict=True):
        assert geom.equals(sites.geometry[ids.index(sid)])


def test_default_site_ids_are_row_numbers_from_one():
    demand, sites = _random_layers(2)
    plan = plan_sites(demand, sites.drop(columns="sid"), PlanOptions(radius_m=150.0, sets=3))
    for sid, geom in zip(plan.sites["site_id"], plan.sites.geometry, strict=True):
        assert geom.equals(sites.geometry[int(sid) - 1])


def test_output_columns_and_values():
    demand, sites = _random_layers(3)
    sites = sites.assign(height=np.arange(20.0))
    plan = plan_sites(demand, sites, PlanOptions(radius_m=150.0, sets=5, phases=(2,)),
                      site_id="sid")
    s = plan.sites
    # the id column given by site_id= stays among the site's own attributes
    assert list(s.columns) == [*RESERVED, "sid", "mount", "height", "geometry"]
    assert s["site_id"].tolist() == s["sid"].tolist()
    assert list(RESERVED) == ["site_id", "rank", "phase", "marginal_weight",
                              "cumulative_weight", "cumulative_share"]
    assert s["rank"].tolist() == [1, 2, 3, 4, 5]
    assert s["phase"].tolist() == [1, 1, 2, 2, 2]
    np.testing.assert_allclose(s["cumulative_weight"], np.cumsum(s["marginal_weight"]))
    np.testing.assert_allclose(s["cumulative_share"], s["cumulative_weight"] / plan.total_weight)
    assert plan.total_weight == pytest.approx(demand["weight"].sum())
    assert plan.covered_weight == pytest.approx(s["cumulative_weight"].iloc[-1])
    # attributes travel with their site
    by_id = sites.set_index("sid")
    for _, row in s.iterrows():
        assert row["mount"] == by_id.loc[row["site_id"], "mount"]
        assert row["height"] == by_id.loc[row["site_id"], "height"]
    # covered weight recomputed from the geometry
    chosen = shapely.points(shapely.get_coordinates(s.geometry.array))
    d = shapely.distance(np.asarray(demand.geometry.array)[:, None], chosen[None, :])
    want = demand["weight"].to_numpy()[(d <= 150.0).any(axis=1)].sum()
    assert plan.covered_weight == pytest.approx(want)


def test_demand_output_weight_and_covered():
    demand, sites = _random_layers(4)
    plan = plan_sites(demand, sites, PlanOptions(radius_m=150.0, sets=3), site_id="sid")
    assert {"weight", "covered", "geometry"} <= set(plan.demand.columns)
    assert float((plan.demand["weight"] * plan.demand["covered"]).sum()) == pytest.approx(
        plan.covered_weight)


def test_unknown_site_id_column_and_forced_id():
    demand, sites = _random_layers(5)
    with pytest.raises(LayerError, match="nope"):
        plan_sites(demand, sites, PlanOptions(radius_m=100.0, sets=2), site_id="nope")
    with pytest.raises(OptionError, match="--forced"):
        plan_sites(demand, sites, PlanOptions(radius_m=100.0, sets=2, forced=("X99",)),
                   site_id="sid")


def test_forced_and_forbidden_by_id():
    demand, sites = _random_layers(6)
    free = plan_sites(demand, sites, PlanOptions(radius_m=150.0, sets=3), site_id="sid")
    top = free.sites["site_id"].iloc[0]
    unused = next(s for s in sites["sid"] if s not in set(free.sites["site_id"]))
    plan = plan_sites(demand, sites,
                      PlanOptions(radius_m=150.0, sets=3, forced=(unused,), forbidden=(top,)),
                      site_id="sid")
    assert unused in set(plan.sites["site_id"])
    assert top not in set(plan.sites["site_id"])


def test_min_spacing_in_metres():
    demand, sites = _random_layers(7, m=40)
    plan = plan_sites(demand, sites, PlanOptions(radius_m=200.0, sets=5, min_spacing_m=250.0),
                      site_id="sid")
    pts = np.asarray(plan.sites.geometry.array)
    d = shapely.distance(pts[:, None], pts[None, :])
    assert d[np.triu_indices(len(pts), 1)].min() >= 250.0


def test_existing_cameras_count_before_the_first_set():
    demand, sites = _random_layers(8)
    existing = _utm([(500.0, 500.0)], owner=["MTR"])
    plan = plan_sites(demand, sites, PlanOptions(radius_m=150.0, sets=3), site_id="sid",
                      layers=PlanLayers(existing=existing))
    d = demand.geometry.distance(existing.geometry.iloc[0])
    want = float(demand["weight"][d <= 150.0].sum())
    assert want > 0
    assert plan.existing_weight == pytest.approx(want)
    assert plan.curve[0] == pytest.approx(want)
    assert plan.owners == {"MTR": pytest.approx(want)}


# ---------------------------------------------------------------- exclusions and districts


def test_exclusion_zones_remove_sites():
    demand, sites = _random_layers(9)
    free = plan_sites(demand, sites, PlanOptions(radius_m=150.0, sets=3), site_id="sid")
    top = free.sites.geometry.iloc[0]
    zone = gpd.GeoDataFrame({"name": ["school"]}, geometry=[top.buffer(1.0)], crs=UTM)
    plan = plan_sites(demand, sites, PlanOptions(radius_m=150.0, sets=3), site_id="sid",
                      layers=PlanLayers(exclusions=zone))
    assert free.sites["site_id"].iloc[0] not in set(plan.sites["site_id"])
    assert not plan.sites.geometry.intersects(zone.geometry.iloc[0]).any()
    assert plan.exclusions is not None


def test_exclusion_zones_in_another_crs():
    demand, sites = _random_layers(10)
    zone = gpd.GeoDataFrame(geometry=[box(X0, Y0, X0 + 500, Y0 + 1000)], crs=UTM).to_crs(4326)
    plan = plan_sites(demand, sites, PlanOptions(radius_m=150.0, sets=4), site_id="sid",
                      layers=PlanLayers(exclusions=zone))
    assert (plan.sites.geometry.x > X0 + 499).all()


def test_exclusion_of_every_site_raises():
    demand, sites = _random_layers(11)
    zone = gpd.GeoDataFrame(geometry=[box(X0 - 1, Y0 - 1, X0 + 1001, Y0 + 1001)], crs=UTM)
    with pytest.raises(LayerError, match="no candidate site"):
        plan_sites(demand, sites, PlanOptions(radius_m=150.0, sets=2), site_id="sid",
                   layers=PlanLayers(exclusions=zone))


def test_districts_table_sums():
    demand, sites = _random_layers(12, m=40)
    districts = gpd.GeoDataFrame(
        {"name": ["West", "East"], "pop": [12_000, 8_000]},
        geometry=[box(X0 - 10, Y0 - 10, X0 + 500, Y0 + 1010),
                  box(X0 + 500, Y0 - 10, X0 + 1010, Y0 + 1010)],
        crs=UTM,
    )
    plan = plan_sites(demand, sites, PlanOptions(radius_m=150.0, sets=7), site_id="sid",
                      layers=PlanLayers(districts=districts, district_name="name",
                                        population="pop"))
    t = plan.districts
    assert t["district"].tolist() == ["West", "East"]
    assert int(t["sets"].sum()) == plan.n_sets == 7
    west = int((plan.sites.geometry.x <= X0 + 500).sum())
    assert t["sets"].tolist() == [west, 7 - west]
    assert t["total_weight"].sum() == pytest.approx(plan.total_weight)
    assert t["covered_weight"].sum() == pytest.approx(plan.covered_weight)
    np.testing.assert_allclose(t["sets_per_1000"], t["sets"] / np.array([12.0, 8.0]))


def test_unknown_weight_column():
    demand, sites = _random_layers(13)
    with pytest.raises(LayerError, match="weight"):
        plan_sites(demand, sites, PlanOptions(radius_m=100.0, sets=1), weight="crime")


def test_output_is_independent_of_the_input_index():
    demand, sites = _random_layers(14)
    a = plan_sites(demand, sites, PlanOptions(radius_m=150.0, sets=4), site_id="sid")
    b = plan_sites(demand.set_index(pd.Index(np.arange(100, 160))),
                   sites.set_index(pd.Index(list("abcdefghijklmnopqrst"))),
                   PlanOptions(radius_m=150.0, sets=4), site_id="sid")
    assert a.sites["site_id"].tolist() == b.sites["site_id"].tolist()
    assert a.covered_weight == b.covered_weight


def test_exclusion_removes_only_the_sites_inside_even_with_a_repeated_index():
    # inventories joined with pd.concat keep their own index: labels repeat
    lamps = _utm([(0.0, 0.0)], sid=["lamp"])
    poles = _utm([(500.0, 0.0)], sid=["pole"])
    sites = pd.concat([lamps, poles])
    assert sites.index.tolist() == [0, 0]
    demand = _utm([(0.0, 0.0), (500.0, 0.0)], weight=[1.0, 1.0])
    zone = gpd.GeoDataFrame(geometry=[box(X0 - 5, Y0 - 5, X0 + 5, Y0 + 5)], crs=UTM)
    plan = plan_sites(demand, sites, PlanOptions(radius_m=10.0, sets=1), site_id="sid",
                      layers=PlanLayers(exclusions=zone))
    assert plan.sites["site_id"].tolist() == ["pole"]
    assert plan.covered_weight == 1.0


def test_points_at_one_place_sum_in_one_order_whatever_the_row_order():
    # These weights sum to 13.71 in one order and 13.709999999999999 in another: the order
    # must not depend on the input rows for points that share a place.
    w = [1.911, 0.809, 0.123, 0.05, 2.44, 2.738, 1.82, 2.188, 1.631]
    demand = _utm([(0.0, 0.0)] * 9, weight=w)
    sites = _utm([(1.0, 0.0)], sid=["A"])
    perms = (list(range(9)), list(range(8, -1, -1)), [3, 0, 6, 1, 5, 2, 4, 8, 7])
    plans = [plan_sites(demand.iloc[perm], sites, PlanOptions(radius_m=10.0, sets=1),
                        site_id="sid") for perm in perms]
    assert len({p.covered_weight for p in plans}) == 1
    assert len({p.certificate.upper_bound for p in plans}) == 1
