"""The rules between options that a scenario must keep, checked before any layer is read.

Each rule returns a problem that names the options the way the user wrote
them; :func:`check_rules` returns every problem at once.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from geodata.crs import as_crs
from geodata.errors import CamplanError
from planner.scenario.cameras import uses_cameras

#: A :class:`planner.scenario.files.Scenario` (not imported: it runs these rules).
Scenario = Any

__all__ = ["check_rules", "missing_options"]

FOOTFALL_COMPONENTS = ("population", "attractors", "counts", "betweenness")


def _required(s: Scenario) -> list[str]:
    out = []
    if s.radius is None and not uses_cameras(s):
        out.append(f"{s.label('radius')}: is required: the reach of one camera set in metres")
    if s.sets is None and s.budget is None:
        out.append(f"{s.label('sets')}: is required (or a budget with a cost column)")
    if s.demand is None and not s.surface:
        out.append(f"{s.label('demand')}: is required (a layer file), or a [surface] table")
    if s.sites is None and not s.candidates:
        out.append(f"{s.label('sites')}: is required (a layer file), or a [candidates] table")
    return out


def _sets(s: Scenario) -> list[str]:
    out = []
    if s.phases and s.budget is not None:
        out.append(f"{s.label('phases')}: cannot be combined with {s.label('budget')}: "
                   "plan one budget")
    elif s.phases and s.sets is not None and sum(s.phases) > s.sets:
        out.append(f"{s.label('phases')}: the phases add up to {sum(s.phases)}, more than "
                   f"{s.label('sets')} {s.sets}")
    if s.budget is not None and s.cost_column is None:
        out.append(f"{s.label('budget')}: needs a site cost column ({s.label('cost_column')})")
    first = s.phases[0] if s.phases else s.sets
    if first is not None and s.budget is None and len(s.forced) > first:
        out.append(f"{s.label('forced')}: {len(s.forced)} forced sites do not fit in the first "
                   f"phase ({first} sets): enlarge it or force fewer")
    both = sorted(set(map(str, s.forced)) & set(map(str, s.forbidden)))
    if both:
        out.append(f"{s.label('forced')}: sites {', '.join(map(repr, both))} are also "
                   f"{s.label('forbidden')}")
    return out


def _decay(s: Scenario) -> list[str]:
    if not s.decay or s.radius is None:
        return []
    name = s.label("decay")
    if any(not (0 < d <= s.radius) for d, _ in s.decay):
        return [f"{name}: band distances must lie in (0, radius={s.radius:g}] m"]
    if any(not (0 < q <= 1) for _, q in s.decay):
        return [f"{name}: band qualities must lie in (0, 1]"]
    qualities = [q for _, q in sorted(s.decay)]
    if any(b > a for a, b in itertools.pairwise(qualities)):
        return [f"{name}: qualities must not rise with distance"]
    return []


def _crs(s: Scenario) -> list[str]:
    if s.crs is None:
        return []
    try:
        as_crs(s.crs, source=s.label("crs"))
    except CamplanError as err:
        return [str(err)]
    return []


def _model(s: Scenario) -> list[str]:
    out = []
    if s.model == "sightline" and s.buildings is None:
        out.append(f"{s.label('model')}: 'sightline' needs a buildings layer "
                   f"({s.label('buildings')})")
    if s.model == "network" and uses_cameras(s):
        out.append(f"{s.label('model')}: 'network' (walking distance) has no direction: "
                   "directional cameras work with 'disc' or 'sightline'")
    if s.model == "network" and s.streets is None:
        out.append(f"{s.label('model')}: 'network' needs a streets layer ({s.label('streets')})")
    surface, candidates = s.surface, s.candidates
    if s.streets is None and (surface.get("points") == "streets" or surface.get("betweenness")
                              or candidates.get("from") == "intersections"):
        out.append("points along streets, betweenness and intersections need a streets layer "
                   f"({s.label('streets')})")
    return out


def _tables(s: Scenario) -> list[str]:
    out = []
    surface, kind = s.surface, s.candidates.get("from")
    if kind == "inventory" and s.sites is None:
        out.append(f"{s.label('candidates.from')}: 'inventory' needs a sites layer "
                   f"({s.label('sites')})")
    no_area = surface.get("area") is None and s.districts is None
    typed = bool(s.get("candidates.inventory")) or s.given("candidates.fill")
    implied_grid = s.candidates and kind is None and s.sites is None and not typed
    if (kind == "grid" or implied_grid) and no_area:
        out.append(f"{s.label('candidates.from')}: 'grid' needs an area ([surface] area) or "
                   f"districts ({s.label('districts')})")
    if surface and s.demand is None and surface.get("points", "grid") == "grid" and no_area:
        out.append("[surface] a grid surface needs a study area ([surface] area) or districts")
    if surface.get("population") == "districts" and (s.districts is None or (
            surface.get("population_column") is None and s.population is None)):
        out.append(f"{s.label('surface.population')}: 'districts' needs districts with a "
                   f"population column ({s.label('districts')} and {s.label('population')})")
    if surface.get("crime_counts") is not None and (s.districts is None
                                                    or s.district_name is None):
        out.append(f"{s.label('surface.crime_counts')}: needs districts and "
                   f"{s.label('district_name')}")
    if surface.get("severity") is not None and surface.get("crime_category") is None:
        out.append(f"{s.label('surface.severity')}: needs {s.label('surface.crime_category')}, "
                   "the column naming categories")
    unknown = sorted(set(surface.get("footfall_mix", {})) - set(FOOTFALL_COMPONENTS))
    if unknown:
        out.append(f"{s.label('surface.footfall_mix')}: unknown components {unknown}; use "
                   f"{', '.join(FOOTFALL_COMPONENTS)}")
    return out


def _inventories(s: Scenario) -> list[str]:
    out = []
    typed = bool(s.get("candidates.inventory")) or s.given("candidates.fill")
    kind = s.candidates.get("from")
    if typed and kind not in (None, "inventories"):
        out.append(f"{s.label('candidates.from')}: {kind!r} cannot be combined with "
                   "[[candidates.inventory]] or [candidates.fill]: drop it")
    if kind == "inventories" and not typed:
        out.append(f"{s.label('candidates.from')}: 'inventories' needs [[candidates.inventory]] "
                   "blocks or a [candidates.fill] table")
    if s.given("candidates.fill") and s.surface.get("area") is None and s.districts is None:
        out.append("[candidates.fill] a fill grid needs a study area ([surface] area) or "
                   f"districts ({s.label('districts')})")
    if s.surface.get("points") == "raster" and not _is_raster(s.surface.get("population")):
        out.append(f"{s.label('surface.points')}: 'raster' needs a population raster "
                   f"({s.label('surface.population')} = a .tif file)")
    owners = s.existing_owners
    if owners and len(owners) != len(s.existing):
        out.append(f"{s.label('existing_owners')}: names {len(owners)} owners for "
                   f"{len(s.existing)} existing layers: give one per layer")
    return out


def _is_raster(path: Any) -> bool:
    from geodata.raster import is_raster

    return path is not None and is_raster(str(path))


_RULES: tuple[Callable[[Scenario], list[str]], ...] = (
    _sets, _decay, _crs, _model, _tables, _inventories)


def check_rules(scenario: Scenario) -> list[str]:
    """Every problem between the options of ``scenario`` (empty when it is consistent).

    Options that are missing are not problems here (a sweep or a comparison may
    add them): see :func:`missing_options`.
    """
    return [problem for rule in _RULES for problem in rule(scenario)]


def missing_options(scenario: Scenario) -> list[str]:
    """The options a run needs that ``scenario`` does not give (reach, sets, demand, sites)."""
    return _required(scenario)
