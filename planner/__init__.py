"""camplan.planner: demand, candidate sites, coverage, optimisation and the plan."""
