"""Scenario files: read, check and run a planning scenario described in TOML or options."""

from planner.scenario.files import (
    Scenario,
    check_layer,
    check_scenario,
    load_scenario,
    run_scenario,
)

__all__ = ["Scenario", "check_layer", "check_scenario", "load_scenario", "run_scenario"]
