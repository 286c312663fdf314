"""Read and check every layer a scenario names, through :mod:`geodata`'s loaders, one rule set.

The command line, scenario files and ``camplan validate`` all come here, so a
layer is checked the same way whatever path it took. Every problem of every
layer is collected, not just the first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd

from geodata import fingerprint, read_layer, validate_layer
from geodata.errors import CamplanError
from geodata.layers import (
    collect,
    load_demand,
    load_districts,
    load_exclusions,
    load_existing,
    load_mounts,
)
from planner.options import column_options
from planner.scenario.files import Scenario
from planner.scenario.layers import join_population, read_extra_layers
from planner.scenario.rules import check_rules, missing_options

__all__ = ["ScenarioLayers", "check_layer", "check_scenario", "read_layers"]


@dataclass(frozen=True)
class ScenarioLayers:
    """Every layer of a scenario, read and validated.

    Attributes
    ----------
    main
        ``demand``, ``sites``, ``districts``, ``exclusions`` and ``existing0``,
        ``existing1``, ... by role (only those the scenario names).
    extra
        The layers of ``[surface]``, ``[candidates]`` and the coverage model.
    inputs
        Fingerprints of every file read, by role.
    problems
        Every problem found (empty when everything read and validated).
    """

    main: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def existing(self) -> list[gpd.GeoDataFrame]:
        """The existing-camera layers, in the order given."""
        keys = sorted((k for k in self.main if k.startswith("existing")), key=lambda k: int(k[8:]))
        return [self.main[k] for k in keys]


def _labels(scenario: Scenario, role: str) -> dict[str, str]:
    """Columns of the layer of ``role`` named by options, with the option as the user wrote it."""
    out = {}
    for option in column_options(role):
        value = scenario.get(option.key)
        if isinstance(value, str):
            out[value] = scenario.label(option.key)
    return out


def _loaders(scenario: Scenario) -> dict[str, tuple[Path, Callable[[], gpd.GeoDataFrame]]]:
    s, crs = scenario, scenario.crs
    loaders: dict[str, tuple[Path, Callable[[], gpd.GeoDataFrame]]] = {}
    if s.demand is not None:
        loaders["demand"] = (s.demand, lambda: load_demand(
            s.demand, weight=s.weight, crs=crs, labels=_labels(s, "demand")))
    if s.sites is not None:
        loaders["sites"] = (s.sites, lambda: load_mounts(
            s.sites, id_column=s.site_id, cost_column=s.cost_column, crs=crs,
            labels=_labels(s, "sites")))
    owner = s.owner_column if s.given("owner_column") else None
    names = list(s.existing_owners) + [""] * len(s.existing)
    for i, path in enumerate(s.existing):
        loaders[f"existing{i}"] = (path, lambda p=path, n=names[i] or None: load_existing(
            p, owner=owner, name=n, crs=crs, labels=_labels(s, "existing")))
    if s.districts is not None:
        population = None if s.district_population is not None else s.population
        loaders["districts"] = (s.districts, lambda: load_districts(
            s.districts, name=s.district_name or "name", population=population, crs=crs,
            labels=_labels(s, "districts")))
    if s.exclusions is not None:
        loaders["exclusions"] = (s.exclusions, lambda: load_exclusions(s.exclusions, crs=crs))
    return loaders


def _cross_checks(scenario: Scenario, main: Mapping[str, Any], extra: Mapping[str, Any]
                  ) -> list[str]:
    """What only the layers together can tell: ids that exist, tables that join."""
    problems = []
    sites = main.get("sites")
    if sites is not None:
        ids = set(map(str, sites[scenario.site_id])) if scenario.site_id else {
            str(k) for k in range(1, len(sites) + 1)}
        for key in ("forced", "forbidden"):
            missing = [str(v) for v in scenario.get(key) if str(v) not in ids]
            if missing:
                problems.append(f"{scenario.label(key)}: no candidate site has the id "
                                f"{missing[0]!r} (in {scenario.sites})")
        if scenario.budget is not None and scenario.cost_column in sites.columns:
            cheapest = float(sites[scenario.cost_column].astype(float).min())
            if scenario.budget < cheapest:
                problems.append(f"{scenario.label('budget')}: {scenario.budget:g} is below the "
                                f"cheapest site ({cheapest:g}): raise it")
    districts = main.get("districts")
    if districts is not None and "district_population" in extra:
        try:
            join_district_population(scenario, districts, extra)
        except CamplanError as err:
            problems.append(str(err))
    return problems


def join_district_population(
    scenario: Scenario, districts: gpd.GeoDataFrame, extra: Mapping[str, Any]
) -> gpd.GeoDataFrame:
    """The districts with the population of the ``district_population`` table joined."""
    return join_population(
        districts,
        extra["district_population"],
        name=scenario.district_name or "name",
        key=scenario.district_population_key,
        column=scenario.population or "population",
        source=f"district population table {scenario.district_population}",
    )


def read_layers(scenario: Scenario) -> ScenarioLayers:
    """Read and validate every layer ``scenario`` names; collect every problem."""
    loaders = _loaders(scenario)
    main, problems = collect({role: load for role, (_, load) in loaders.items()})
    inputs = {role: fingerprint(path) for role, (path, _) in loaders.items() if role in main}
    extra, extra_problems = read_extra_layers(scenario)
    inputs.update({k.split(":")[0]: v for k, v in extra.items() if k.endswith(":fingerprint")})
    problems += extra_problems
    if not problems:
        problems += _cross_checks(scenario, main, extra)
    return ScenarioLayers(main=main, extra=extra, inputs=inputs, problems=problems)


def check_layer(path: Path, *, crs: str | None = None) -> list[str]:
    """Every problem of one layer file (empty when it reads and validates)."""
    try:
        validate_layer(read_layer(path, crs=crs), source=str(path))
    except CamplanError as err:
        return [str(err)]
    return []


def check_scenario(scenario: Scenario) -> list[str]:
    """Every problem of every option and layer of a scenario (empty when it is fine).

    This is everything :func:`planner.scenario.run.run_scenario` would refuse before
    it starts optimising: missing and inconsistent options, unreadable or invalid
    layers, columns named by options that the layers lack, ids that no site has.
    """
    return missing_options(scenario) + check_rules(scenario) + read_layers(scenario).problems
