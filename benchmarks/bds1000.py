"""BDS1000: 1,000 candidate facilities and 10,000 / 50,000 / 100,000 customers, r = 3.75.

Cordeau, Furini & Ljubić's BDS customers (EJOR 2019) with facilities extended to 1,000
by Wang & Zhou (IJOC 2024); the files are in ``../shared/data/benchmarks/bds1000``
(licence there). A customer is covered when a chosen facility is within 3.75 (Euclidean,
the files' units) of it; weights are the customers' demands.

For every file and p in 10, 25, 50, 100 it runs, through the Python core (the instance
has no CRS), plain greedy (``local_search=False, exact="never"``: the baseline) and
camplan with its default options, and prints plan, bound, proven share of the best
possible, bound method, time, the presolve reduction and camplan's gain over greedy.
Target: camplan above plain greedy wherever greedy is not proven optimal (and never below).

Usage::

    .venv/bin/python benchmarks/bds1000.py [--sizes 10000,50000,100000] [--p 10,25,50,100]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from _common import EXIT_MISSED, Table, require_data

RADIUS = 3.75
SIZES = "10000,50000,100000"
PS = "10,25,50,100"


def read_bds(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Facility (x, y), customer (x, y) and customer demand from a BDS1000 file."""
    facilities, customers, demand = [], [], []
    with path.open(encoding="utf-8") as fh:
        next(fh)  # "1000<TAB>N"
        for line in fh:
            kind, _, x, y, d = line.split()
            if kind == "F":
                facilities.append((float(x), float(y)))
            else:
                customers.append((float(x), float(y)))
                demand.append(float(d))
    return np.asarray(facilities), np.asarray(customers), np.asarray(demand)


def main(argv: list[str] | None = None) -> int:
    from planner.coverage.disc import coverage_matrix
    from planner.solver.optimise import Constraints, SolverOptions, optimise
    from planner.solver.problem import CoverageProblem

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default=SIZES, help="customer counts to run")
    parser.add_argument("--p", default=PS, help="numbers of facilities to open")
    args = parser.parse_args(argv)
    folder = require_data("benchmarks", "bds1000")
    greedy_only = SolverOptions(local_search=False, exact="never")
    table = Table(["customers", "p", "plain greedy", "camplan", "camplan/greedy", "bound",
                   "proven share", "greedy proven share", "bound method", "presolved rows x cols",
                   "greedy time", "camplan time"])  # fmt: skip
    behind = []
    for n in (int(s) for s in args.sizes.split(",")):
        sites, customers, demand = read_bds(folder / f"BDS{n}A.txt")
        problem = CoverageProblem.from_matrix(coverage_matrix(customers, sites, RADIUS), demand)
        for p in (int(s) for s in args.p.split(",")):
            t0 = time.perf_counter()
            greedy = optimise(problem, Constraints(sets=p), greedy_only)
            t1 = time.perf_counter()
            sol = optimise(problem, Constraints(sets=p))
            t2 = time.perf_counter()
            bound = min(sol.upper_bound, greedy.upper_bound)
            gap = greedy.covered_weight < bound * (1 - 1e-9)  # greedy is not proven optimal
            if sol.covered_weight < greedy.covered_weight * (1 - 1e-12) or (
                gap and sol.covered_weight <= greedy.covered_weight * (1 + 1e-12)
            ):
                behind.append(f"{n}/{p}")
            red = sol.presolve
            shape = "-" if red is None else f"{red.demand_rows:,} x {red.site_columns:,}"
            table.add(f"{n:,}", p, f"{greedy.covered_weight:,.0f}", f"{sol.covered_weight:,.0f}",
                      f"{sol.covered_weight / greedy.covered_weight:.4f}", f"{bound:,.0f}",
                      f"{sol.covered_weight / bound:.4%}", f"{greedy.covered_weight / bound:.4%}",
                      sol.bound_method, shape, f"{t1 - t0:.2f} s", f"{t2 - t1:.2f} s")  # fmt: skip
            print(f"  {n:,} customers, p = {p}: done", file=sys.stderr, flush=True)
    print(f"BDS1000 (r = {RADIUS:g}): camplan (defaults) against plain greedy, same process; "
          "'proven share' = plan / best bound found (either run's)")  # fmt: skip
    table.print()
    if behind:
        print(f"camplan not above plain greedy where greedy leaves a gap: {', '.join(behind)}")
        return EXIT_MISSED
    return 0


if __name__ == "__main__":
    sys.exit(main())
