"""The distributed plan (Dask, 2 local workers) is the single-machine greedy plan, site for site."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("dask_geopandas")
distributed = pytest.importorskip("distributed")

import functools  # noqa: E402
import json  # noqa: E402
from unittest import mock  # noqa: E402

import geopandas as gpd  # noqa: E402
import offlinefolium as folium  # noqa: E402
import pandas as pd  # noqa: E402

from geodata.errors import LayerError, OptionError  # noqa: E402
from maps.cli.main import main  # noqa: E402
from maps.webmap.cells import add_site_cells, site_cells  # noqa: E402
from planner.api import PlanLayers, PlanOptions, plan_sites  # noqa: E402
from planner.distributed import (  # noqa: E402
    ClusterOptions,
    DistributedInputs,
    plan_distributed,
)
from planner.solver.constraints import SolverOptions  # noqa: E402

CRS = "EPSG:32650"


def _instance(seed: int, n: int = 2500, m: int = 360):
    """Clustered demand with rounded weights (many equal gains: ties must break alike)."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 5000, (6, 2))
    d = centres[rng.integers(0, 6, n)] + rng.normal(0, 400, (n, 2))
    w = rng.gamma(2, 0.5, n).round(1)
    near = d[rng.choice(n, m // 2)] + rng.normal(0, 30, (m // 2, 2))
    s = np.vstack([near, rng.uniform(-500, 5500, (m - m // 2, 2))])
    demand = gpd.GeoDataFrame({"weight": w}, geometry=gpd.points_from_xy(d[:, 0], d[:, 1]),
                              crs=CRS)
    ids = [f"s{i:03d}" for i in rng.permutation(m)]
    sites = gpd.GeoDataFrame({"id": ids, "kind": "pole"},
                             geometry=gpd.points_from_xy(s[:, 0], s[:, 1]), crs=CRS)
    return demand, sites


def _existing(seed: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed + 100)
    xy = rng.uniform(0, 5000, (25, 2))
    return gpd.GeoDataFrame({"owner": rng.choice(["police", "mtr"], 25)},
                            geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=CRS)


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as c:
        yield c


def _greedy(demand, sites, options, **kw):
    """The single-machine greedy on the coverage matrix itself (no presolve, which may
    merge rows and drop dominated sites, and so break ties otherwise)."""
    with mock.patch("planner.api.SolverOptions",
                    functools.partial(SolverOptions, presolve=False)):
        return plan_sites(demand, sites, options, site_id="id", **kw)


def _both(client, demand, sites, options, existing=None, tile_m=900.0):
    single = _greedy(demand, sites, options, layers=PlanLayers(existing=existing))
    presolved = plan_sites(demand, sites, options, site_id="id",
                           layers=PlanLayers(existing=existing))
    assert presolved.covered_weight >= 0.99 * single.covered_weight
    dist = plan_distributed(
        client, DistributedInputs(demand, sites, site_id="id", existing=existing),
        options, ClusterOptions(tile_m=tile_m))
    return single, dist


def _assert_same(single, dist):
    assert dist.sites["site_id"].tolist() == single.sites["site_id"].tolist()
    assert dist.sites["phase"].tolist() == single.sites["phase"].tolist()
    np.testing.assert_allclose(dist.sites["marginal_weight"], single.sites["marginal_weight"],
                               rtol=1e-9, atol=1e-9)
    assert dist.covered_weight == pytest.approx(single.covered_weight, rel=1e-12)
    assert dist.total_weight == pytest.approx(single.total_weight, rel=1e-12)
    assert dist.existing_weight == pytest.approx(single.existing_weight, rel=1e-12)
    assert dist.certificate.upper_bound >= dist.covered_weight
    assert dist.certificate.method in ("online-submodular", "lagrangian-line")
    assert dist.sites["kind"].eq("pole").all()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_phases_forced_forbidden_same_plan(client, seed):
    demand, sites = _instance(seed)
    ids = sorted(sites["id"])
    options = PlanOptions(radius_m=150, sets=70, phases=(20, 25), forced=(ids[5], ids[40]),
                          forbidden=tuple(ids[100:130]), local_search=False, exact="never")
    single, dist = _both(client, demand, sites, options)
    _assert_same(single, dist)
    assert dist.sites["site_id"].tolist()[:2] == [ids[5], ids[40]]
    assert not set(ids[100:130]) & set(dist.sites["site_id"])
    assert [p.cumulative_sets for p in dist.phases] == [20, 45, 70]
    for a, b in zip(dist.phases, single.phases, strict=True):
        assert b.covered_weight <= a.upper_bound * (1 + 1e-12)
    assert dist.parameters["engine"]["rounds"] < len(dist.sites)  # picks taken in batches


@pytest.mark.parametrize("seed", [11, 12])
def test_bound_holds_the_proven_optimum(client, seed):
    """Every phase's bound is at least the optimum HiGHS proves for that many sets."""
    demand, sites = _instance(seed, n=500, m=90)
    ids = sorted(sites["id"])
    base = {"radius_m": 200, "forced": (ids[3],), "forbidden": tuple(ids[10:20])}
    dist = plan_distributed(client, DistributedInputs(demand, sites, site_id="id"),
                            PlanOptions(sets=12, phases=(6,), local_search=False,
                                        exact="never", **base),
                            ClusterOptions(tile_m=700.0))
    for phase in dist.phases:
        best = plan_sites(demand, sites, PlanOptions(sets=phase.cumulative_sets, exact="always",
                                                     **base), site_id="id")
        assert best.certificate.proven_optimal
        assert phase.upper_bound >= best.covered_weight * (1 - 1e-12)
        assert phase.covered_weight <= best.covered_weight * (1 + 1e-12)
    online = dist.parameters["engine"]["online_bound"]
    assert dist.certificate.upper_bound <= online


def test_existing_cameras_and_decay_same_plan(client):
    demand, sites = _instance(7)
    options = PlanOptions(radius_m=180, sets=50, bands=((60.0, 1.0), (180.0, 0.5)),
                          local_search=False, exact="never")
    single, dist = _both(client, demand, sites, options, existing=_existing(7), tile_m=700.0)
    _assert_same(single, dist)
    assert dist.owners.keys() == single.owners.keys()
    for name, value in single.owners.items():
        assert dist.owners[name] == pytest.approx(value, rel=1e-12)


def test_tile_size_changes_nothing(client):
    demand, sites = _instance(4)
    options = PlanOptions(radius_m=150, sets=40, local_search=False, exact="never")
    a = plan_distributed(client, DistributedInputs(demand, sites, site_id="id"), options,
                         ClusterOptions(tile_m=400.0))
    b = plan_distributed(client, DistributedInputs(demand, sites, site_id="id"), options,
                         ClusterOptions(tile_m=3000.0))
    assert a.sites["site_id"].tolist() == b.sites["site_id"].tolist()
    assert a.parameters["engine"]["tiles"] > b.parameters["engine"]["tiles"]


def test_layers_from_geopackage_in_chunks(client, tmp_path, monkeypatch):
    """A non-Parquet layer is read by the workers through pyogrio, in chunks."""
    import planner.distributed.partition as partition

    monkeypatch.setattr(partition, "CHUNK_ROWS", 700)  # several chunks of the demand
    demand, sites = _instance(8)
    demand.to_file(tmp_path / "demand.gpkg")
    sites.to_file(tmp_path / "sites.gpkg")
    options = PlanOptions(radius_m=150, sets=25, local_search=False, exact="never")
    assert partition.read_layer(tmp_path / "demand.gpkg", source="demand").npartitions > 1
    single = _greedy(demand, sites, options)
    dist = plan_distributed(
        client, DistributedInputs(tmp_path / "demand.gpkg", tmp_path / "sites.gpkg",
                                  site_id="id"), options, ClusterOptions(tile_m=900.0))
    _assert_same(single, dist)


def test_saturation_stops_like_single_machine(client):
    demand, sites = _instance(5, n=300, m=200)
    options = PlanOptions(radius_m=400, sets=150, local_search=False, exact="never")
    single, dist = _both(client, demand, sites, options)
    _assert_same(single, dist)
    assert len(dist.sites) < 150


def test_unsupported_options_and_bad_input(client):
    demand, sites = _instance(6, n=200, m=40)
    inputs = DistributedInputs(demand, sites, site_id="id")
    with pytest.raises(OptionError, match="--min-spacing"):
        plan_distributed(client, inputs, PlanOptions(radius_m=100, sets=3, min_spacing_m=50))
    with pytest.raises(OptionError, match="no candidate site has the id 'nope'"):
        plan_distributed(client, inputs, PlanOptions(radius_m=100, sets=3, forced=("nope",)))
    lonlat = DistributedInputs(demand.to_crs(4326), sites, site_id="id")
    with pytest.raises(LayerError, match="projected CRS"):
        plan_distributed(client, lonlat, PlanOptions(radius_m=100, sets=3))
    with pytest.raises(OptionError, match="either --cluster"):
        ClusterOptions(address="tcp://127.0.0.1:1", workers=2).check()


def test_command_on_worker_processes_same_plan(tmp_path):
    """``camplan plan --workers 2``: two worker processes read a partitioned GeoParquet
    folder; the plan covers what ``--no-local-search --no-exact`` covers on one machine."""
    demand, sites = _instance(9)
    folder = tmp_path / "demand"
    folder.mkdir()
    for k, part in enumerate(np.array_split(np.arange(len(demand)), 3)):
        demand.iloc[part].to_parquet(folder / f"part.{k}.parquet")
    demand.to_parquet(tmp_path / "demand.parquet")
    sites.to_parquet(tmp_path / "sites.parquet")
    _existing(9).to_file(tmp_path / "existing.gpkg")
    common = ["plan", "--sites", str(tmp_path / "sites.parquet"),
              "--site-id", "id", "--radius", "150", "--sets", "30", "--phases", "10",
              "--existing", str(tmp_path / "existing.gpkg")]
    assert main([*common, "--demand", str(tmp_path / "demand.parquet"), "--no-local-search",
                 "--no-exact", "--out", str(tmp_path / "one")]) == 0
    assert main([*common, "--demand", str(folder), "--workers", "2", "--worker-memory", "1GB",
                 "--out", str(tmp_path / "two")]) == 0
    one = pd.read_csv(tmp_path / "one" / "sites.csv")
    two = pd.read_csv(tmp_path / "two" / "sites.csv")
    # One machine presolves (merged rows, dominated sites), which can break ties otherwise:
    # the same number of sets, at least 0.999 of its coverage (identity: the tests above).
    assert len(two) == len(one)
    assert two["cumulative_weight"].iloc[-1] >= 0.999 * one["cumulative_weight"].iloc[-1]
    parquet = gpd.read_parquet(tmp_path / "two" / "sites.parquet")
    assert parquet["site_id"].tolist() == two["site_id"].tolist()
    assert len(gpd.read_parquet(tmp_path / "two" / "footprints.parquet")) == 30
    summary = json.loads((tmp_path / "two" / "summary.json").read_text())
    assert summary["bound_method"] in ("online-submodular", "lagrangian-line")


def test_map_summarises_sets_per_cell():
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 20_000, (400, 2))
    sites = gpd.GeoDataFrame({"phase": rng.integers(1, 3, 400)},
                             geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=CRS)
    cells, side = site_cells(sites, 50)
    assert cells["sets"].sum() == 400
    assert len(cells) <= 50
    assert side > 250
    m = folium.Map()
    add_site_cells(m, sites, max_cells=50)
    folium.LayerControl().add_to(m)
    html = m.get_root().render()
    assert f"Camera sets per {side / 1000:g} km cell (400 sets: summarised" in html
    assert html.count("L.circleMarker(") == len(cells)
