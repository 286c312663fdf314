"""Scenario files: read, check and run a planning scenario described in TOML or options.

``files`` parses a scenario through the option registry (:mod:`planner.options`),
``rules`` checks the options against each other, ``read`` reads and checks every
layer through :mod:`geodata`'s loaders, ``layers`` builds the demand surface,
candidates and coverage model from them, and ``run`` plans.
"""

from planner.scenario.files import Scenario, load_scenario
from planner.scenario.read import check_layer, check_scenario
from planner.scenario.run import run_scenario

__all__ = ["Scenario", "check_layer", "check_scenario", "load_scenario", "run_scenario"]
