"""The matrix solver: lazy greedy, swap local search, exact solving and upper bounds.

Works on a :class:`~planner.solver.problem.CoverageProblem` (a sparse matrix and
arrays) only: no geometry and no geopandas, so it can be used on any coverage relation.
"""
