"""The baseline process for hk_scale.py: a bare lazy greedy on the same files, no outputs.

Reads the demand and site GeoParquet files, builds the disc coverage (camplan's own
``coverage_matrix``, so both sides pay the same for it), then makes ``sets`` lazy-greedy
picks in plain Python (a heap of stale gains, Minoux 1978) and prints one JSON line
with the covered weight and the stage times. No local search, no bound, no files.

Usage: ``python _bare_greedy.py DEMAND SITES RADIUS_M SETS``
"""

from __future__ import annotations

import heapq
import json
import sys
import time


def main() -> int:
    t0 = time.perf_counter()
    import geopandas as gpd
    import numpy as np
    import shapely

    from planner.coverage.disc import coverage_matrix

    demand_path, sites_path, radius, sets = sys.argv[1:5]
    demand = gpd.read_parquet(demand_path)
    sites = gpd.read_parquet(sites_path)
    t1 = time.perf_counter()
    dxy = shapely.get_coordinates(demand.geometry.to_numpy())
    sxy = shapely.get_coordinates(sites.geometry.to_numpy())
    w = demand["weight"].to_numpy(dtype=np.float64)
    csc = coverage_matrix(dxy, sxy, float(radius)).tocsc()
    t2 = time.perf_counter()
    indptr, indices = csc.indptr, csc.indices
    covered = np.zeros(len(w), dtype=bool)
    gains = np.add.reduceat(np.append(w[indices], 0.0), indptr[:-1]) * (np.diff(indptr) > 0)
    heap = [(-float(g), j) for j, g in enumerate(gains) if g > 0]
    heapq.heapify(heap)
    total, picks = 0.0, 0
    while heap and picks < int(sets):
        _, j = heapq.heappop(heap)
        rows = indices[indptr[j] : indptr[j + 1]]
        fresh = rows[~covered[rows]]
        gain = float(w[fresh].sum())
        if heap and gain < -heap[0][0]:
            if gain > 0:
                heapq.heappush(heap, (-gain, j))
            continue
        covered[fresh] = True
        total += gain
        picks += 1
    t3 = time.perf_counter()
    print(json.dumps({"covered_weight": total, "picks": picks, "read_s": t1 - t0,
                      "coverage_s": t2 - t1, "greedy_s": t3 - t2}))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
