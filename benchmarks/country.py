"""Country scale on a local Dask cluster: 20 million demand points x 2 million sites.

A seeded synthetic country (500 km x 400 km in UTM 50N, EPSG:32650): cities of
varied size made of Gaussian hot spots, plus countryside spread over the whole
area; candidate sites follow the demand (60 %, jittered 30 m), fill the cities
(30 %) or the countryside (10 %). The benchmark writes both layers itself as
partitioned GeoParquet folders (one file per chunk of about a million points,
generated chunk by chunk, so writing never holds the whole country), then plans
them on a local cluster of ``--workers`` processes, each limited to
``--worker-memory``::

    camplan plan --demand demand/ --weight weight --sites sites/ --site-id id \\
        --radius 100 --sets 20000 --phases 5000,5000 --workers 2 --worker-memory 3GB

(run here through :func:`planner.distributed.plan_distributed`, the function that
command calls) and prints wall time, the peak memory of every worker process, the
peak memory its tiles held and what they spilled to disk, the coverage, the bound
(online or Lagrangian) and gap, the tiles and hosts; and what the coverage relation
alone would take on one machine. ``--hk`` also plans the Hong Kong-scale
instance of ``hk_scale.py`` on one machine (the whole command, plain greedy) and on
1 and 2 workers, and checks the plans are the same.

Usage::

    .venv/bin/python benchmarks/country.py [--demand 20000000] [--sites 2000000] \\
        [--workers 2] [--worker-memory 3GB] [--sets 20000] [--hk]
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import sys
import time
from pathlib import Path

import numpy as np
from _common import Table, fmt_seconds, run_camplan, work_dir

CRS = "EPSG:32650"
X0, Y0, WIDTH, HEIGHT = 200_000.0, 2_400_000.0, 500_000.0, 400_000.0
RADIUS_M = 100.0
SEED = 2030
DEMAND_PER_CITY = 1_250_000  # cities of about Hong Kong's density: one per 1.25M points
SPOTS_PER_CITY = 250
CITY_SHARE = 0.85
CHUNK = 1_000_000


def _country(seed: int, n: int) -> dict[str, np.ndarray]:
    """The geography: city centres, sizes and masses; hot spots of every city. The number
    of cities grows with the demand, so that a city keeps its density at every size."""
    rng = np.random.default_rng(seed)
    cities = max(2, round(n / DEMAND_PER_CITY))
    cx = rng.uniform(X0 + 30_000, X0 + WIDTH - 30_000, cities)
    cy = rng.uniform(Y0 + 30_000, Y0 + HEIGHT - 30_000, cities)
    size = np.clip(rng.lognormal(np.log(12_000.0), 0.4, cities), 5_000.0, 25_000.0)
    mass = rng.lognormal(0.0, 0.6, cities)
    city = np.repeat(np.arange(cities), SPOTS_PER_CITY)
    sx = cx[city] + rng.normal(0, 1, city.size) * size[city]
    sy = cy[city] + rng.normal(0, 1, city.size) * size[city]
    sigma = np.clip(rng.lognormal(np.log(450.0), 0.6, city.size), 120.0, 2500.0)
    spot_mass = rng.gamma(1.0, 1.0, city.size) * (mass / mass.sum())[city]
    return {"cx": cx, "cy": cy, "size": size, "sx": sx, "sy": sy, "sigma": sigma,
            "p": spot_mass / spot_mass.sum(), "cities": cities}


def _clip(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.clip(x, X0, X0 + WIDTH), np.clip(y, Y0, Y0 + HEIGHT)


def _chunk(geo: dict, k: int, n: int, m: int, seed: int):
    """Demand (x, y, weight) and sites (x, y) of chunk ``k``, from their own seed."""
    rng = np.random.default_rng([seed, k])
    n_city = int(n * CITY_SHARE)
    spot = rng.choice(geo["p"].size, size=n_city, p=geo["p"])
    dx = np.concatenate([geo["sx"][spot] + rng.normal(0, 1, n_city) * geo["sigma"][spot],
                         rng.uniform(X0, X0 + WIDTH, n - n_city)])
    dy = np.concatenate([geo["sy"][spot] + rng.normal(0, 1, n_city) * geo["sigma"][spot],
                         rng.uniform(Y0, Y0 + HEIGHT, n - n_city)])
    dx, dy = _clip(dx, dy)
    w = rng.gamma(2.0, 0.5, n)
    m_near, m_city = int(m * 0.6), int(m * 0.3)
    near = rng.choice(n, size=m_near, replace=False)
    city = rng.integers(0, geo["cities"], m_city)
    r = geo["size"][city] * np.sqrt(rng.uniform(0, 4, m_city))
    a = rng.uniform(0, 2 * np.pi, m_city)
    sx = np.concatenate([dx[near] + rng.normal(0, 30, m_near), geo["cx"][city] + r * np.cos(a),
                         rng.uniform(X0, X0 + WIDTH, m - m_near - m_city)])
    sy = np.concatenate([dy[near] + rng.normal(0, 30, m_near), geo["cy"][city] + r * np.sin(a),
                         rng.uniform(Y0, Y0 + HEIGHT, m - m_near - m_city)])
    sx, sy = _clip(sx, sy)
    return dx, dy, w, sx, sy


def write_country(folder: Path, n: int, m: int, seed: int = SEED) -> tuple[Path, Path]:
    """Partitioned GeoParquet folders ``demand_*`` and ``sites_*`` (reused when present)."""
    import geopandas as gpd

    demand = folder / f"demand_{n}_{seed}_v4"
    sites = folder / f"sites_{m}_{n}_{seed}_v4"
    if (demand / "_done").exists() and (sites / "_done").exists():
        return demand, sites
    geo = _country(seed, n)
    chunks = max(1, -(-n // CHUNK))
    demand.mkdir(parents=True, exist_ok=True)
    sites.mkdir(parents=True, exist_ok=True)
    first_id = 1
    for k in range(chunks):
        nk = n // chunks + (k < n % chunks)
        mk = m // chunks + (k < m % chunks)
        dx, dy, w, sx, sy = _chunk(geo, k, nk, mk, seed)
        gpd.GeoDataFrame({"weight": w}, geometry=gpd.points_from_xy(dx, dy), crs=CRS
                         ).to_parquet(demand / f"part.{k:04d}.parquet")
        ids = np.arange(first_id, first_id + mk, dtype=np.int64)
        first_id += mk
        gpd.GeoDataFrame({"id": ids}, geometry=gpd.points_from_xy(sx, sy), crs=CRS
                         ).to_parquet(sites / f"part.{k:04d}.parquet")
    (demand / "_done").touch()
    (sites / "_done").touch()
    return demand, sites


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def plan_on_cluster(demand, sites, *, workers: int, memory: str, sets: int,
                    phases: tuple[int, ...]) -> tuple[object, float, dict[str, float]]:
    """Plan on a fresh local cluster; the plan, wall seconds and peak MB per worker."""
    from planner.api import PlanOptions
    from planner.distributed import (
        ClusterOptions,
        DistributedInputs,
        cluster_client,
        plan_distributed,
    )

    options = PlanOptions(radius_m=RADIUS_M, sets=sets, phases=phases, local_search=False,
                          exact="never")
    cluster = ClusterOptions(workers=workers, worker_memory=memory)
    t0 = time.perf_counter()
    with cluster_client(cluster) as client:
        plan = plan_distributed(client, DistributedInputs(demand, sites, site_id="id"),
                                options, cluster)
        peaks = client.run(_peak_mb)
    return plan, time.perf_counter() - t0, peaks


def _gb(values) -> str:
    return " / ".join(f"{v / 2**30:.2f}" for v in values) + " GB"


def _row(table: Table, name: str, plan, wall: float, peaks: dict[str, float], memory: str):
    e = plan.parameters["engine"]
    held = e["tile_memory"]
    table.add(name, fmt_seconds(wall), memory,
              " / ".join(f"{peaks[w] / 1024:.2f}" for w in sorted(peaks)) + " GB",
              _gb(held["peak_bytes_per_worker"]), _gb(held["spilled_bytes_per_worker"]),
              f"{plan.coverage_share:.4%}",
              f"{plan.certificate.upper_bound / plan.total_weight:.4%}",
              f"{plan.certificate.gap:.4%}", plan.certificate.method,
              f"{e['tiles']} tiles / {e['hosts']} hosts", f"{e['rounds']:,}", f"{e['pairs']:,}")


def _hk(table: Table, args: argparse.Namespace) -> None:
    """HK scale: the single-machine command beside 1 and 2 workers; the same plan."""
    from hk_scale import PHASES, SETS, write_inputs

    folder = work_dir("hk_scale")
    demand, sites = write_inputs(folder, 1_000_000, 100_000)
    single = run_camplan(["--demand", demand, "--weight", "weight", "--sites", sites,
                          "--site-id", "id", "--radius", f"{RADIUS_M:g}", "--sets", str(SETS),
                          "--phases", PHASES, "--no-local-search", "--no-exact"],
                         folder / "out_greedy_single")
    s = single.summary
    peak = "-" if single.peak_rss_mb is None else f"{single.peak_rss_mb / 1024:.2f} GB"
    table.add("HK 1M x 100k, one machine (command, plain greedy)", fmt_seconds(single.wall_s),
              "-", peak, "-", "-", f"{s['coverage_share']:.4%}", f"{s['upper_bound_share']:.4%}",
              f"{s['gap']:.4%}", s.get("bound_method", "-"), "-", "-", "-")
    ids = json.loads((folder / "out_greedy_single" / "sites.geojson").read_text())["features"]
    single_ids = [f["properties"]["site_id"] for f in ids]
    phases = tuple(int(p) for p in PHASES.split(","))
    for workers in (1, 2):
        plan, wall, peaks = plan_on_cluster(demand, sites, workers=workers, memory="3GB",
                                            sets=SETS, phases=phases)
        _row(table, f"HK 1M x 100k, {workers} worker(s)", plan, wall, peaks, "3GB")
        same = plan.sites["site_id"].tolist() == single_ids
        ratio = plan.covered_weight / s["covered_weight"]
        print(f"HK, {workers} worker(s): plan {'IDENTICAL to' if same else 'differs from'} "
              f"the single-machine greedy plan ({len(single_ids)} sets; one machine presolves, "
              f"which can swap sets of equal gain); coverage ratio {ratio:.7f}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--demand", type=int, default=20_000_000)
    parser.add_argument("--sites", type=int, default=2_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-memory", default="3GB")
    parser.add_argument("--sets", type=int, default=20_000)
    parser.add_argument("--hk", action="store_true", help="also the HK-scale comparison")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("distributed").setLevel(logging.ERROR)
    table = Table(["run", "wall", "memory limit / worker", "peak RSS per worker",
                   "peak tile memory per worker", "spilled per worker", "coverage", "bound",
                   "gap", "bound method", "partitions", "rounds", "coverage pairs"])
    if args.hk:
        _hk(table, args)
    t0 = time.perf_counter()
    demand, sites = write_country(work_dir("country"), args.demand, args.sites)
    print(f"country: {args.demand:,} demand points x {args.sites:,} sites written as "
          f"partitioned GeoParquet in {time.perf_counter() - t0:.0f} s (or reused): {demand}",
          flush=True)
    sets = args.sets
    phases = (sets // 4, sets // 4)
    plan, wall, peaks = plan_on_cluster(demand, sites, workers=args.workers,
                                        memory=args.worker_memory, sets=sets, phases=phases)
    _row(table, f"country {args.demand / 1e6:g}M x {args.sites / 1e6:g}M, {sets:,} sets, "
         f"{args.workers} workers", plan, wall, peaks, args.worker_memory)
    print()
    table.print()
    from planner.coverage.disc import BYTES_PER_PAIR

    pairs = plan.parameters["engine"]["pairs"]
    print(f"\none machine (planner.coverage.disc.BYTES_PER_PAIR) would hold the coverage "
          f"relation alone in {pairs:,} pairs x {BYTES_PER_PAIR} B = "
          f"{pairs * BYTES_PER_PAIR / 2**30:.1f} GiB, before the {args.demand:,} demand "
          f"geometries; each worker was limited to {args.worker_memory}; "
          f"the coordinator process peaked at {_peak_mb() / 1024:.2f} GB")
    print("stage timings (s):", {k: round(v, 1) for k, v in plan.timings.items()})
    held = plan.parameters["engine"]["tile_memory"]
    print(f"tile store: budget per worker {held['budget_bytes_per_worker'][0] / 2**30:.2f} GB "
          f"(60 % of its limit), largest tile "
          f"{max(held['largest_tile_bytes_per_worker']) / 2**30:.2f} GB, {held['spills']:,} "
          "tiles spilled "
          f"({held['spilled_bytes'] / 2**30:.2f} GB written), {held['reads']:,} read back")
    print("phases:", [(p.cumulative_sets, f"{p.coverage_share:.4%}",
                       f"{p.upper_bound / plan.total_weight:.4%}") for p in plan.phases])
    return 0


if __name__ == "__main__":
    sys.exit(main())
