"""Where the Hong Kong-scale gap is: the plan or the bound? Exact answers on small pieces.

On the hk_scale city (``hk_scale.synthetic_city``, r = 100 m, 7,000 sets in phases
2000,2000,3000) it runs the default optimiser, then sets aside the sites whose whole
uncovered weight is below the plan's last marginal gain (they cannot pay for
themselves) and splits the rest into connected components (sites linked by the demand
points they share; every plan site is kept). For every component of at most
``--max-sites`` sites it solves, with as many sites as the plan has there:

* the LP relaxation (HiGHS), the limit of any coverage Lagrangian bound;
* the MIP (HiGHS, ``--time-limit`` seconds each): the best plan with that many sites
  there, and its proven bound.

It prints the sums over those components: if the MIP covers clearly more than the
plan, the plan has room (better plans would close the gap); if the LP lies clearly
above the MIP bound, the LP (and every coverage Lagrangian bound) is loose there.
The split by component holds the plan's count per component fixed, so "MIP" is a
lower bound on what the pieces could give. Offline measurement: minutes.

Usage::

    .venv/bin/python benchmarks/gap_components.py [--demand 1000000] [--sites 100000]
        [--max-sites 150] [--time-limit 5]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import Table
from hk_scale import PHASES, RADIUS_M, SETS, synthetic_city
from scipy import optimize, sparse
from scipy.sparse import csgraph

from planner.coverage.disc import coverage_matrix
from planner.solver.optimise import Constraints, optimise
from planner.solver.problem import CoverageProblem


def _piece(a: sparse.csr_array, w: np.ndarray, k: int, time_limit: float) -> tuple[float, ...]:
    """LP value, MIP value and MIP bound: the most of ``w`` that ``k`` of ``a``'s columns cover."""
    n_rows, n_cols = a.shape
    link = sparse.hstack([-a, sparse.identity(n_rows, format="csr")], format="csr")
    count = sparse.csr_array(np.concatenate([np.ones(n_cols), np.zeros(n_rows)])[None, :])
    cons = optimize.LinearConstraint(
        sparse.vstack([link, count], format="csr"), -np.inf,
        np.concatenate([np.zeros(n_rows), [float(k)]]),
    )  # fmt: skip
    objective = np.concatenate([np.zeros(n_cols), -w])
    lp = optimize.milp(objective, constraints=cons, bounds=optimize.Bounds(0, 1))
    mip = optimize.milp(
        objective, constraints=cons, bounds=optimize.Bounds(0, 1),
        integrality=np.concatenate([np.ones(n_cols), np.zeros(n_rows)]),
        options={"time_limit": time_limit},
    )  # fmt: skip
    value = -mip.fun if mip.x is not None else 0.0
    dual = getattr(mip, "mip_dual_bound", None)
    return -lp.fun, value, -dual if dual is not None else -lp.fun


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--demand", type=int, default=1_000_000)
    parser.add_argument("--sites", type=int, default=100_000)
    parser.add_argument("--max-sites", type=int, default=150, help="largest component solved")
    parser.add_argument("--time-limit", type=float, default=5.0, help="seconds per MIP")
    args = parser.parse_args(argv)

    demand_xy, w, site_xy = synthetic_city(args.demand, args.sites)
    problem = CoverageProblem.from_matrix(coverage_matrix(demand_xy, site_xy, RADIUS_M), w)
    phases = [int(x) for x in PHASES.split(",")]
    t0 = time.perf_counter()
    solution = optimise(problem, Constraints(sets=SETS, phases=phases))
    plan = np.asarray(solution.order, dtype=np.int64)
    print(f"plan: {solution.curve[-1] / solution.total_weight:.4%} of the weight, bound "
          f"{solution.upper_bound / solution.total_weight:.4%} ({solution.bound_method}), "
          f"proven share {solution.curve[-1] / solution.upper_bound:.2%}, "
          f"{time.perf_counter() - t0:.1f} s")  # fmt: skip

    price = float(np.min(solution.marginal[solution.marginal > 0]))
    reach = np.asarray(problem.by_site @ w).ravel()
    keep = np.union1d(np.flatnonzero(reach >= price), plan)
    cover = sparse.csr_array(problem.csc[:, keep])
    n = cover.shape[0]
    graph = sparse.bmat([[None, cover], [cover.T, None]]).tocsr()
    _, labels = csgraph.connected_components(graph, directed=False)
    site_label = labels[n:]
    sums = np.zeros(6)  # components, sites, plan sites, plan, LP, MIP
    bound_sum = 0.0
    t1 = time.perf_counter()
    for label in np.unique(site_label):
        cols = keep[site_label == label]
        chosen = np.isin(cols, plan)
        k = int(chosen.sum())
        if k == 0 or k == cols.size or cols.size > args.max_sites:
            continue
        sub = sparse.csr_array(problem.csc[:, cols])
        rows = np.flatnonzero(np.diff(sub.indptr) > 0)
        a = sparse.csr_array(sub[rows])
        a.data[:] = 1.0
        plan_value = float(w[rows] @ np.minimum(a @ chosen.astype(float), 1.0))
        lp, mip, mip_bound = _piece(a, w[rows], k, args.time_limit)
        sums += [1, cols.size, k, plan_value, lp, max(mip, plan_value)]
        bound_sum += mip_bound
    print(f"\ncomponents at site price {price:.4g} (the plan's last marginal gain), "
          f"up to {args.max_sites} sites each, solved in {time.perf_counter() - t1:.0f} s")
    table = Table(["components", "sites", "plan sites there", "plan", "MIP (best found)",
                   "MIP bound", "LP", "plan / MIP", "MIP bound / LP"])  # fmt: skip
    count, sites, plan_sites, plan_sum, lp_sum, mip_sum = sums
    table.add(f"{count:.0f}", f"{sites:.0f}", f"{plan_sites:.0f} of {plan.size}",
              f"{plan_sum:,.1f}", f"{mip_sum:,.1f}", f"{bound_sum:,.1f}", f"{lp_sum:,.1f}",
              f"{plan_sum / max(mip_sum, 1e-300):.4f}",
              f"{bound_sum / max(lp_sum, 1e-300):.4f}")  # fmt: skip
    table.print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
