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


def _both(client, demand, sites, options, existing=None, tile_m=900.0, bound_steps=40):
    single = _greedy(demand, sites, options, layers=PlanLayers(existing=existing))
    presolved = plan_sites(demand, sites, options, site_id="id",
                           layers=PlanLayers(existing=existing))
    assert presolved.covered_weight >= 0.99 * single.covered_weight
    dist = plan_distributed(
        client, DistributedInputs(demand, sites, site_id="id", existing=existing),
        options, ClusterOptions(tile_m=tile_m, bound_steps=bound_steps))
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
    assert dist.certificate.method in ("online-submodular", "lagrangian")
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


def test_lagrangian_bound_as_one_machine(client):
    """The cluster's Lagrangian bound (steps over 54 tiles with halos) is the one machine's:
    valid, far below the online bound, within a hair of one machine's."""
    demand, sites = _instance(1)
    ids = sorted(sites["id"])
    existing = _existing(1)
    options = PlanOptions(radius_m=150, sets=40, forced=(ids[5],),
                          forbidden=tuple(ids[100:130]), local_search=False, exact="never")
    single = _greedy(demand, sites, options, layers=PlanLayers(existing=existing))
    inputs = DistributedInputs(demand, sites, site_id="id", existing=existing)
    # as many steps as one machine takes on so few pairs (a cluster takes at most 300)
    dist = plan_distributed(client, inputs, options, ClusterOptions(tile_m=900.0,
                                                                    bound_steps=1000))
    assert dist.parameters["engine"]["tiles"] > 50
    assert dist.certificate.method == "lagrangian" == single.certificate.method
    covered, bound = dist.covered_weight, dist.certificate.upper_bound
    assert covered <= bound < dist.parameters["engine"]["online_bound"] - 0.5 * (
        dist.parameters["engine"]["online_bound"] - covered)
    assert abs(bound - single.certificate.upper_bound) <= 0.01 * (bound - covered)


def test_lagrangian_bound_above_brute_force_optimum(client):
    """Every phase's bound is at least the best coverage of any set of that many sites
    (all subsets tried), with existing cameras, a forced and forbidden sites, small tiles;
    the same bounds on a rerun."""
    from itertools import combinations

    demand, sites = _instance(21, n=160, m=14)
    ids = sorted(sites["id"])
    existing = _existing(21).iloc[:4]
    options = PlanOptions(radius_m=600, sets=4, phases=(2,), forced=(ids[2],),
                          forbidden=(ids[7],), local_search=False, exact="never")
    inputs = DistributedInputs(demand, sites, site_id="id", existing=existing)
    dist, again = (plan_distributed(client, inputs, options, ClusterOptions(tile_m=1200.0))
                   for _ in range(2))
    assert [p.upper_bound for p in again.phases] == [p.upper_bound for p in dist.phases]
    dxy = np.column_stack([demand.geometry.x, demand.geometry.y])
    sxy = dict(zip(sites["id"], np.column_stack([sites.geometry.x, sites.geometry.y]),
                   strict=True))
    exy = np.column_stack([existing.geometry.x, existing.geometry.y])
    seen = {k: np.hypot(*(dxy - v).T) <= 600 for k, v in sxy.items()}
    base = (np.hypot(dxy[:, None, 0] - exy[None, :, 0], dxy[:, None, 1] - exy[None, :, 1])
            <= 600).any(axis=1) | seen[ids[2]]
    w = demand["weight"].to_numpy()
    free = [k for k in ids if k not in (ids[2], ids[7])]
    for phase in dist.phases:
        best = max(float(w[base | np.any([seen[k] for k in combo], axis=0)].sum())
                   for combo in combinations(free, phase.cumulative_sets - 1))
        assert phase.covered_weight <= best * (1 + 1e-12)
        assert phase.upper_bound >= best * (1 - 1e-12)


def test_tiles_spilled_to_disk_same_plan(client):
    """With room for a few tiles per host, the others wait on the workers' disks and are
    read back when needed: tiles were spilled, memory stayed within the budget (plus the
    tile being read), and the plan and its bounds are unchanged."""
    demand, sites = _instance(3)
    ids = sorted(sites["id"])
    options = PlanOptions(radius_m=150, sets=40, phases=(15,), forced=(ids[7],),
                          local_search=False, exact="never")
    inputs = DistributedInputs(demand, sites, site_id="id", existing=_existing(3))
    def run(memory):
        return plan_distributed(client, inputs, options, ClusterOptions(
            tile_m=600.0, bound_steps=5, tile_memory=memory))

    free = run(0)
    held = free.parameters["engine"]["tile_memory"]
    assert held["spilled_bytes"] == 0
    # each worker's tiles get half of what the fuller worker held
    budget = max(held["peak_bytes_per_worker"]) // 2
    tight = run(budget)
    spill = tight.parameters["engine"]["tile_memory"]
    assert spill["spilled_bytes"] > 0
    assert spill["reads"] > 0
    assert spill["budget_bytes_per_worker"] == [budget, budget]
    for peak, largest in zip(spill["peak_bytes_per_worker"],
                             spill["largest_tile_bytes_per_worker"], strict=True):
        assert peak <= max(budget, largest) + largest  # the budget, and the tile being read
    assert tight.sites["site_id"].tolist() == free.sites["site_id"].tolist()
    assert [p.upper_bound for p in tight.phases] == [p.upper_bound for p in free.phases]
    assert tight.covered_weight == free.covered_weight


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
                         ClusterOptions(tile_m=400.0, bound_steps=0))
    b = plan_distributed(client, DistributedInputs(demand, sites, site_id="id"), options,
                         ClusterOptions(tile_m=3000.0, bound_steps=0))
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
                                  site_id="id"), options,
        ClusterOptions(tile_m=900.0, bound_steps=0))
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
    assert summary["bound_method"] in ("online-submodular", "lagrangian")


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
