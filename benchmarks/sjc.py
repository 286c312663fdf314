"""São José dos Campos (SJC324 ... SJC818): camplan against proven MCLP optima.

For every (instance, r, p) row of ``../shared/data/benchmarks/sjc/optima.tsv`` (optima
proven with a HiGHS MIP), the instance is written as CSV (``x,y,demand,id``; the points
are both the demand and the candidate sites; Euclidean metres, read with ``--crs
EPSG:32723``) and planned as a whole command with the default options::

    camplan plan --demand F --weight demand --sites F --site-id id --crs EPSG:32723 \\
        --radius r --sets p --out DIR --overwrite

``covered_weight`` is read from ``summary.json``. Plain greedy is taken from the table
and recomputed by camplan (``--no-local-search --no-exact``; greedy picks are nested,
so one run with the largest p of an (instance, r) gives every p from ``sites.csv``'s
``cumulative_weight``). The same instances also go through the Python core
(:func:`planner.coverage.coverage_matrix` + :func:`planner.optimise.optimise`).

Target: camplan (the command, default options) >= 0.999 of the optimum on every row.

Usage::

    .venv/bin/python benchmarks/sjc.py [--api-only] [--instances SJC324,SJC402]
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from _common import EXIT_FAILED, Table, require_data, run_camplan, work_dir

CRS = "EPSG:32723"  # any projected metric CRS: the coordinates are metres as given
TARGET = 0.999


@dataclass(frozen=True)
class Case:
    instance: str
    r: float
    p: int
    optimum: float
    greedy: float
    total: float


def read_cases(folder: Path) -> list[Case]:
    with (folder / "optima.tsv").open(encoding="utf-8") as fh:
        return [Case(row["instance"], float(row["r"]), int(row["p"]), float(row["optimum"]),
                     float(row["greedy"]), float(row["total_demand"]))
                for row in csv.DictReader(fh, delimiter="\t")]


def read_instance(path: Path) -> np.ndarray:
    """``(n, 3)`` array of x, y, demand (first line ``n 9999 p S``)."""
    with path.open(encoding="utf-8") as fh:
        n = int(fh.readline().split()[0])
        data = np.loadtxt(fh, ndmin=2)
    if data.shape != (n, 3):
        sys.exit(f"{path}: expected {n} rows of 'x y demand', found shape {data.shape}")
    return data


def write_csv(data: np.ndarray, path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["x", "y", "demand", "id"])
        for i, (x, y, d) in enumerate(data, start=1):
            out.writerow([f"{x:.0f}", f"{y:.0f}", f"{d:g}", i])
    return path


def api_value(data: np.ndarray, r: float, p: int, *, plain: bool) -> tuple[float, bool, float]:
    """Covered weight, proven_optimal and seconds through the Python core."""
    from planner.coverage.disc import coverage_matrix
    from planner.solver.optimise import Constraints, SolverOptions, optimise
    from planner.solver.problem import CoverageProblem

    t0 = time.perf_counter()
    xy = data[:, :2]
    problem = CoverageProblem.from_matrix(coverage_matrix(xy, xy, r), data[:, 2])
    options = SolverOptions(local_search=not plain, exact="never" if plain else "auto")
    sol = optimise(problem, Constraints(sets=p), options)
    return sol.covered_weight, sol.proven_optimal, time.perf_counter() - t0


def cli_greedy_curve(csv_path: Path, r: float, p_max: int, out: Path) -> list[float]:
    """Plain greedy's covered weight after 1..p_max sets, by the command."""
    run = run_camplan(["--demand", csv_path, "--weight", "demand", "--sites", csv_path,
                       "--site-id", "id", "--crs", CRS, "--radius", f"{r:g}",
                       "--sets", str(p_max), "--no-local-search", "--no-exact"], out,
                      measure_memory=False)
    with (out / "sites.csv").open(encoding="utf-8") as fh:
        rows = sorted(csv.DictReader(fh), key=lambda row: int(row["rank"]))
    curve = [float(row["cumulative_weight"]) for row in rows]
    if not curve or len(curve) > p_max:
        print(f"greedy run chose {len(curve)} sites, expected 1..{p_max}: {run.argv}",
              file=sys.stderr)
        raise SystemExit(EXIT_FAILED)
    # camplan stops early once no site adds weight (everything coverable is covered).
    return curve + [curve[-1]] * (p_max - len(curve))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--api-only", action="store_true",
                        help="only the Python core (fast); the target is for the command")
    parser.add_argument("--instances", help="comma-separated subset, e.g. SJC324,SJC402")
    args = parser.parse_args(argv)

    folder = require_data("benchmarks", "sjc")
    cases = read_cases(folder)
    if args.instances:
        wanted = set(args.instances.split(","))
        cases = [c for c in cases if c.instance in wanted]
    work = work_dir("sjc")
    names = sorted({c.instance for c in cases})
    data = {name: read_instance(folder / f"{name}.txt") for name in names}
    csvs = {name: write_csv(d, work / f"{name}.csv") for name, d in data.items()}
    for name, d in data.items():
        total = {c.total for c in cases if c.instance == name}
        if total != {float(d[:, 2].sum())}:
            sys.exit(f"{name}: total demand {d[:, 2].sum():g} differs from optima.tsv {total}")

    greedy_cli: dict[tuple[str, float], list[float]] = {}
    if not args.api_only:
        p_max: dict[tuple[str, float], int] = defaultdict(int)
        for c in cases:
            p_max[c.instance, c.r] = max(p_max[c.instance, c.r], c.p)
        for (name, r), p in sorted(p_max.items()):
            greedy_cli[name, r] = cli_greedy_curve(csvs[name], r, p, work / "out_greedy")

    columns = ["instance", "r", "p", "optimum", "camplan", "camplan/opt", "greedy (tsv)",
               "greedy (camplan)", "greedy/opt", "camplan time", "API", "API/opt",
               "API proven", "API time"]
    table = Table(columns)
    worst_cli = worst_api = 1.0
    misses: list[str] = []
    t_cli = 0.0
    for c in cases:
        api, proven, api_s = api_value(data[c.instance], c.r, c.p, plain=False)
        worst_api = min(worst_api, api / c.optimum)
        if args.api_only:
            cli = greedy = cli_s = None
        else:
            run = run_camplan(["--demand", csvs[c.instance], "--weight", "demand",
                               "--sites", csvs[c.instance], "--site-id", "id", "--crs", CRS,
                               "--radius", f"{c.r:g}", "--sets", str(c.p)],
                              work / "out_default", measure_memory=False)
            cli, cli_s = float(run.summary["covered_weight"]), run.wall_s
            t_cli += cli_s
            greedy = greedy_cli[c.instance, c.r][c.p - 1]
            worst_cli = min(worst_cli, cli / c.optimum)
            if cli / c.optimum < TARGET:
                misses.append(f"{c.instance} r={c.r:g} p={c.p}: {cli / c.optimum:.4f}")
        table.add(c.instance, f"{c.r:g}", c.p, f"{c.optimum:.0f}",
                  "-" if cli is None else f"{cli:.0f}",
                  "-" if cli is None else f"{cli / c.optimum:.4f}",
                  f"{c.greedy:.0f}", "-" if greedy is None else f"{greedy:.0f}",
                  f"{(greedy if greedy is not None else c.greedy) / c.optimum:.4f}",
                  "-" if cli_s is None else f"{cli_s:.2f} s",
                  f"{api:.0f}", f"{api / c.optimum:.4f}", proven, f"{api_s:.3f} s")
        print(f"  {c.instance} r={c.r:g} p={c.p} done", file=sys.stderr, flush=True)
    table.print()
    n = len(cases)
    print(f"\n{n} cases; worst API/opt {worst_api:.4f}", end="")
    if args.api_only:
        print(" (command not run: --api-only; the target applies to the command)")
        return 0
    print(f"; worst camplan/opt {worst_cli:.4f}; camplan command time {t_cli:.0f} s in all "
          f"({t_cli / n:.2f} s per run)")
    print(f"target camplan >= {TARGET} x optimum on every case: "
          f"{'met' if not misses else 'MISSED on ' + '; '.join(misses)}")
    return 0 if not misses else 1


if __name__ == "__main__":
    sys.exit(main())
