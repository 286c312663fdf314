"""Solve one MCLP with PySAL spopt from camplan's benchmark CSV files (run as a command).

Reads the demand CSV (``x,y,weight``) and the sites CSV (``x,y,id``), builds the
Euclidean distance matrix, solves ``spopt.locate.MCLP.from_cost_matrix`` with HiGHS
and prints one JSON line: covered weight, chosen site ids, solver status, seconds.

Usage::

    python benchmarks/_spopt_solve.py DEMAND.csv SITES.csv RADIUS_M P [TIME_LIMIT_S]
"""

from __future__ import annotations

import json
import sys
import time


def main(argv: list[str]) -> int:
    t0 = time.perf_counter()
    import numpy as np
    import pandas as pd
    import pulp
    from scipy.spatial.distance import cdist
    from spopt.locate import MCLP

    demand_csv, sites_csv, radius, p = argv[0], argv[1], float(argv[2]), int(argv[3])
    time_limit = float(argv[4]) if len(argv) > 4 else None
    demand = pd.read_csv(demand_csv)
    sites = pd.read_csv(sites_csv)
    cost = cdist(demand[["x", "y"]].to_numpy(), sites[["x", "y"]].to_numpy())
    weights = demand["weight"].to_numpy(dtype=np.float64)
    t_read = time.perf_counter() - t0
    model = MCLP.from_cost_matrix(cost, weights, service_radius=radius, p_facilities=p)
    t_build = time.perf_counter() - t0 - t_read
    options = {"msg": False}
    if time_limit:
        options["timeLimit"] = time_limit
    solver = pulp.HiGHS(**options) if pulp.HiGHS().available() else pulp.HiGHS_CMD(**options)
    model.solve(solver, results=False)
    chosen = [j for j, var in enumerate(model.fac_vars) if (var.value() or 0) > 0.5]
    covered = (cost[:, chosen] <= radius).any(axis=1) if chosen else np.zeros(len(demand), bool)
    print(json.dumps({
        "covered_weight": float(weights[covered].sum()),
        "objective": float(pulp.value(model.problem.objective)),
        "total_weight": float(weights.sum()),
        "chosen": [sites["id"].iloc[j].item() for j in chosen],
        "status": pulp.LpStatus[model.problem.status],
        "solver": type(solver).__name__,
        "seconds": {"read_and_matrix": t_read, "build_model": t_build,
                    "solve": time.perf_counter() - t0 - t_read - t_build},
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
