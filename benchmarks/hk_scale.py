"""Hong Kong scale: 1,000,000 demand points x 100,000 sites, 7,000 sets, as a whole command.

A seeded synthetic city the size of Hong Kong (a 40 km x 27.5 km = 1,100 km² area in
HK 1980 Grid, EPSG:2326): demand is a mixture of Gaussian hot spots of varied size
and mass plus a uniform background, with gamma-distributed weights; candidate sites
follow the demand (60 %, jittered) or are spread uniformly (40 %). Both layers are
written as GeoParquet in EPSG:2326 (the format a GIS team would hand over at this size).

It runs, as whole commands (the console script, timed from start to the last file)::

    camplan plan --demand demand.parquet --weight weight --sites sites.parquet --site-id id \\
        --radius 100 --sets 7000 --phases 2000,2000,3000 --out DIR --overwrite

with the default options, and the same with ``--no-local-search --no-exact`` as the
plain-greedy baseline, and prints wall time, peak memory (``/usr/bin/time -v``), the
stage timings from ``summary.json``, the coverage share, upper bound and gap.

Target: <= 30 s wall and <= 3 GB peak for the default command.

Usage::

    .venv/bin/python benchmarks/hk_scale.py [--demand 1000000] [--sites 100000] [--profile]

``--windows N`` adds a run with the window search (N windows per phase, ``--window-size``
sites each), which city-scale instances do not get by default; ``--profile`` adds a run
under cProfile and prints where the whole command spends its time (reading, validation,
coverage, optimisation, each output file).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from _common import (
    CommandRun,
    Table,
    fmt_seconds,
    profile_camplan,
    profile_stages,
    run_camplan,
    run_command,
    work_dir,
)

CRS = "EPSG:2326"  # Hong Kong 1980 Grid, metres
X0, Y0, WIDTH, HEIGHT = 815_000.0, 812_000.0, 40_000.0, 27_500.0  # 1,100 km²
RADIUS_M = 100.0
SETS = 7000
PHASES = "2000,2000,3000"
SEED = 2027
HOT_SPOTS = 300
HOT_SHARE = 0.75  # share of demand points in hot spots
SITES_NEAR_DEMAND = 0.6
WALL_TARGET_S = 30.0
MEMORY_TARGET_MB = 3 * 1024


def _inside(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (x >= X0) & (x <= X0 + WIDTH) & (y >= Y0) & (y <= Y0 + HEIGHT)


def _uniform(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    return rng.uniform(X0, X0 + WIDTH, n), rng.uniform(Y0, Y0 + HEIGHT, n)


def synthetic_city(
    n_demand: int, n_sites: int, seed: int = SEED
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeded demand (x, y), weights and site (x, y) in EPSG:2326 metres."""
    rng = np.random.default_rng(seed)
    cx, cy = _uniform(rng, HOT_SPOTS)
    sigma = np.clip(rng.lognormal(np.log(450.0), 0.6, HOT_SPOTS), 120.0, 2500.0)
    mass = rng.gamma(1.0, 1.0, HOT_SPOTS)
    n_hot = int(n_demand * HOT_SHARE)
    spot = rng.choice(HOT_SPOTS, size=n_hot, p=mass / mass.sum())
    hx = cx[spot] + rng.normal(0.0, 1.0, n_hot) * sigma[spot]
    hy = cy[spot] + rng.normal(0.0, 1.0, n_hot) * sigma[spot]
    out = ~_inside(hx, hy)  # points that fell outside the area join the background
    bx, by = _uniform(rng, n_demand - n_hot + int(out.sum()))
    dx = np.concatenate([hx[~out], bx])
    dy = np.concatenate([hy[~out], by])
    weights = rng.gamma(2.0, 0.5, n_demand)
    n_near = int(n_sites * SITES_NEAR_DEMAND)
    near = rng.choice(n_demand, size=n_near, replace=False)
    sx = dx[near] + rng.normal(0.0, 30.0, n_near)
    sy = dy[near] + rng.normal(0.0, 30.0, n_near)
    ux, uy = _uniform(rng, n_sites - n_near)
    site_xy = np.column_stack([np.concatenate([sx, ux]), np.concatenate([sy, uy])])
    site_xy[:, 0] = np.clip(site_xy[:, 0], X0, X0 + WIDTH)
    site_xy[:, 1] = np.clip(site_xy[:, 1], Y0, Y0 + HEIGHT)
    return np.column_stack([dx, dy]), weights, site_xy


def write_inputs(folder: Path, n_demand: int, n_sites: int) -> tuple[Path, Path]:
    """Write demand and sites as GeoParquet once per size (reused by later runs)."""
    import geopandas as gpd

    demand_path = folder / f"demand_{n_demand}_{SEED}.parquet"
    sites_path = folder / f"sites_{n_sites}_{n_demand}_{SEED}.parquet"
    if demand_path.exists() and sites_path.exists():
        return demand_path, sites_path
    demand_xy, weights, site_xy = synthetic_city(n_demand, n_sites)
    for path, frame in (
        (demand_path, gpd.GeoDataFrame(
            {"weight": weights},
            geometry=gpd.points_from_xy(demand_xy[:, 0], demand_xy[:, 1]), crs=CRS)),
        (sites_path, gpd.GeoDataFrame(
            {"id": np.arange(1, len(site_xy) + 1, dtype=np.int64)},
            geometry=gpd.points_from_xy(site_xy[:, 0], site_xy[:, 1]), crs=CRS)),
    ):
        tmp = path.with_suffix(".tmp.parquet")
        frame.to_parquet(tmp)
        tmp.replace(path)
    return demand_path, sites_path


def _memory(run: CommandRun) -> str:
    return "-" if run.peak_rss_mb is None else f"{run.peak_rss_mb / 1024:.2f} GB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--demand", type=int, default=1_000_000, help="demand points")
    parser.add_argument("--sites", type=int, default=100_000, help="candidate sites")
    parser.add_argument("--profile", action="store_true", help="also profile the default run")
    parser.add_argument("--no-baseline", action="store_true", help="skip the plain-greedy run")
    parser.add_argument("--windows", type=int, default=0,
                        help="also run with this many windows per phase (the window search, "
                             "which city scale does not get by default)")  # fmt: skip
    parser.add_argument("--window-size", type=int, default=6, help="with --windows: sites each")
    args = parser.parse_args(argv)

    folder = work_dir("hk_scale")
    demand, sites = write_inputs(folder, args.demand, args.sites)
    common = ["--demand", demand, "--weight", "weight", "--sites", sites, "--site-id", "id",
              "--radius", f"{RADIUS_M:g}", "--sets", str(SETS), "--phases", PHASES]
    print(f"hk_scale: {args.demand:,} demand points x {args.sites:,} sites, "
          f"{WIDTH * HEIGHT / 1e6:,.0f} km² (EPSG:2326, GeoParquet), r = {RADIUS_M:g} m, "
          f"{SETS:,} sets in phases {PHASES}",
          flush=True)

    bare = run_command([sys.executable, Path(__file__).resolve().parent / "_bare_greedy.py",
                        demand, sites, f"{RADIUS_M:g}", str(SETS)]).check()
    bare_info = json.loads(bare.stdout.strip().splitlines()[-1])
    runs: list[tuple[str, CommandRun]] = []
    if not args.no_baseline:
        greedy = run_camplan([*common, "--no-local-search", "--no-exact"], folder / "out_greedy")
        runs.append(("plain greedy (--no-local-search --no-exact)", greedy))
    default = run_camplan(common, folder / "out_default")
    runs.append(("camplan (defaults)", default))
    if args.windows:
        extra = ["--windows", str(args.windows), "--window-size", str(args.window_size)]
        runs.append((f"camplan ({' '.join(extra)})",
                     run_camplan([*common, *extra], folder / "out_windows")))  # fmt: skip

    table = Table(["run", "wall", "CPU (user+sys)", "peak RSS", "coverage share",
                   "upper bound share", "gap", "bound method"])
    for name, run in runs:
        s = run.summary
        table.add(name, fmt_seconds(run.wall_s), fmt_seconds(run.cpu_s), _memory(run),
                  f"{s['coverage_share']:.4%}", f"{s['upper_bound_share']:.4%}",
                  f"{s['gap']:.4%}", s["bound_method"])
    print()
    table.print()

    print("\nstage timings from summary.json (seconds); 'not in summary' = wall - sum of stages")
    keys: list[str] = []
    for _, run in runs:
        keys += [k for k in run.summary.get("timings", {}) if k not in keys]
    stages = Table(["stage", *(name.split(" (")[0] for name, _ in runs)])
    for key in keys:
        stages.add(key, *(fmt_seconds(run.summary["timings"].get(key)) for _, run in runs))
    stages.add("not in summary (start-up: imports, compiled kernels; assembling the plan)",
               *(fmt_seconds(run.wall_s - sum(run.summary["timings"].values())) for _, run in runs))
    stages.add("wall", *(fmt_seconds(run.wall_s) for _, run in runs))
    stages.print()
    wanted = ("read", "coverage", "greedy", "local_search", "bound", "write")
    missing = [k for k in wanted if k not in keys]
    if missing:
        print(f"summary.json timings lack: {', '.join(missing)}")

    reduction = Table(["presolve (summary.json)", "before", "after"])
    for name, run in runs:
        pre = run.summary.get("presolve")
        if pre:
            reduction.add(f"{name.split(' (')[0]}: demand rows", f"{pre['demand_points']:,}",
                          f"{pre['demand_rows']:,}")
            reduction.add("  site columns (dominated dropped)", f"{pre['sites']:,}",
                          f"{pre['site_columns']:,} ({pre['dominated_sites']:,})")
            reduction.add("  point-site pairs", f"{pre['pairs']:,}", f"{pre['pairs_kept']:,}")
    print()
    reduction.print()
    layer = default.summary.get("gpkg_demand_layer")
    if layer:
        print(f"plan.gpkg demand layer: {layer['choice']} ({layer['points']:,} of "
              f"{layer['of']:,} points; --demand-layer all writes every point)")

    phases = Table(["phase", "sets", "cumulative coverage share", "bound", "proven share",
                    "bound method"])  # fmt: skip
    total = default.summary.get("total_weight") or 1.0
    for ph in default.summary.get("phases", []):
        bound = ph.get("upper_bound") or 0.0
        proven = f"{ph['covered_weight'] / bound:.2%}" if bound > 0 else "-"
        phases.add(ph.get("phase"), ph.get("n_sets"), f"{ph.get('coverage_share', 0):.4%}",
                   f"{bound / total:.4%}", proven, ph.get("bound_method", "-"))  # fmt: skip
    print()
    phases.print()

    share = default.summary.get("share_of_best_possible", 0.0)
    print(f"\nbare lazy greedy process (read, coverage, {SETS:,} picks in plain Python, no "
          f"outputs): {bare.wall_s:.1f} s wall (read {bare_info['read_s']:.1f} s, coverage "
          f"{bare_info['coverage_s']:.1f} s, picks {bare_info['greedy_s']:.1f} s), covers "
          f"{bare_info['covered_weight']:,.0f}, CPU {fmt_seconds(bare.cpu_s)}; camplan "
          f"(defaults, every output) {default.wall_s:.1f} s = "
          f"{default.wall_s / bare.wall_s:.2f}x the bare process, "
          f"CPU {fmt_seconds(default.cpu_s)}; "
          f"proven share of the best possible {share:.2%} (target >= 99 %)")
    ok_wall = default.wall_s <= WALL_TARGET_S
    ok_mem = default.peak_rss_mb is not None and default.peak_rss_mb <= MEMORY_TARGET_MB
    print(f"\ntarget <= {WALL_TARGET_S:g} s wall: {'met' if ok_wall else 'MISSED'} "
          f"({default.wall_s:.1f} s); <= {MEMORY_TARGET_MB / 1024:g} GB peak: "
          f"{'met' if ok_mem else 'MISSED'} ({_memory(default)})")

    if args.profile:
        stats = folder / "profile.pstats"
        run = profile_camplan([str(a) for a in common], folder / "out_profile", stats)
        prof = Table(["function (cumulative, under cProfile)", "seconds"])
        for label, seconds in profile_stages(stats):
            prof.add(label, f"{seconds:.2f}")
        print(f"\nprofile of the default command ({run.wall_s:.1f} s under cProfile; {stats}):")
        prof.print()
    return 0 if ok_wall and ok_mem else 1


if __name__ == "__main__":
    sys.exit(main())
