"""camplan.planner: the model — demand, candidate sites, coverage, the solver and the plan.

Subpackages, one per job: ``demand`` (the weighted demand surface), ``sites``
(candidate mounting sites), ``coverage`` (coverage models: which site sees which
point), ``solver`` (the matrix optimiser and its certificate, no geometry),
``scenario`` (scenario files and the run they describe), ``plan`` (the result),
``samples`` (the bundled sample cities). :mod:`planner.api` is the public entry.
"""
