"""Sweeps: one scenario planned for several values of one parameter, then compared.

* ``sets`` — greedy plans are nested, so a sweep over 2,000 / 4,000 / 7,000
  sets is ONE optimisation with phases 2,000, 2,000, 3,000; the plan of each
  size is the first phases of that run (:func:`plan_prefix`), what the
  roll-out has built when it reaches that size.
* ``radius`` — one run per reach (metres).
* ``rule`` — one run per weighting rule of the ``[surface]`` table
  (``product`` or ``sum``).

Every plan is written to ``plans/<label>`` inside the comparison folder.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from geodata.errors import OptionError
from maps.compare.run import ComparisonOutput, write_comparison_folder
from planner.coverage.disc import baseline_quality, coverage_matrix
from planner.plan.districts import district_table
from planner.plan.ranks import RankQuality, rank_quality
from planner.plan.result import Certificate, PhaseResult, Plan

__all__ = [
    "SWEEPS",
    "parse_values",
    "plan_prefix",
    "rank_coverage",
    "sweep_plans",
    "sweep_scenario",
]

logger = logging.getLogger(__name__)

SWEEPS = ("sets", "radius", "rule")
RULES = ("product", "sum")
PROVEN_TOLERANCE = 1e-7


def parse_values(parameter: str, text: str) -> tuple[Any, ...]:
    """``"2000,4000,7000"`` -> ``(2000, 4000, 7000)``; checked for the parameter.

    Raises
    ------
    OptionError
        For a value that is not a number (or a rule), fewer than two values,
        or a repeated value.
    """
    option = f"--{parameter}"
    items = [v.strip().replace("_", "") for v in str(text).split(",") if v.strip()]
    try:
        if parameter == "sets":
            values: list[Any] = [int(v) for v in items]
        elif parameter == "radius":
            values = [float(v) for v in items]
        elif parameter == "rule":
            values = list(items)
        else:
            raise OptionError("sweep", f"cannot sweep {parameter!r}: use one of {SWEEPS}")
    except ValueError:
        kind = "whole numbers" if parameter == "sets" else "numbers (metres)"
        raise OptionError(option, f"expected {kind} separated by commas, "
                                  f"e.g. 2000,4000,7000, got {text!r}") from None
    if parameter == "rule" and (bad := [v for v in values if v not in RULES]):
        raise OptionError(option, f"unknown weighting rule {bad[0]!r}: use {' or '.join(RULES)}")
    if parameter != "rule" and (bad := [v for v in values if not (v > 0 and math.isfinite(v))]):
        raise OptionError(option, f"every value must be above 0, got {bad[0]:g}")
    if len(values) < 2:
        raise OptionError(option, f"a sweep needs at least two values, got {text!r}")
    if len(set(values)) != len(values):
        raise OptionError(option, f"a value is repeated in {text!r}")
    return tuple(sorted(values) if parameter == "sets" else values)


# --------------------------------------------------------------------------- nested plans


def _bands(plan: Plan) -> tuple[tuple[float, float], ...] | None:
    bands = plan.parameters.get("decay_bands") or ()
    return tuple((float(d), float(q)) for d, q in bands) or None


def _points(gdf: gpd.GeoDataFrame) -> np.ndarray:
    geoms = np.asarray(gdf.geometry.array)
    out = geoms.copy()
    poly = shapely.get_type_id(geoms) != 0
    out[poly] = shapely.point_on_surface(geoms[poly])
    return out


def rank_coverage(plan: Plan) -> RankQuality | None:
    """What each set of ``plan`` covers, in rank order, or ``None`` when that is unknown.

    A plan from the optimiser carries it (:attr:`Plan.rank_quality`, from the
    run's own coverage matrix, whatever the coverage model). For a plan built
    otherwise, a disc-model plan is recomputed here, and used only when it
    reproduces ``plan.demand.covered`` exactly; any other model gives ``None``.
    """
    if plan.rank_quality is not None:
        return plan.rank_quality
    if plan.parameters.get("coverage_model", "disc") != "disc" or not len(plan.demand):
        return None
    demand = _points(plan.demand)
    bands = _bands(plan)
    base = np.zeros(len(demand))
    if plan.existing is not None and len(plan.existing):
        base = baseline_quality(demand, _points(plan.existing), plan.radius_m, bands=bands)
    sites = np.asarray(plan.sites.sort_values("rank").geometry.array)
    matrix = coverage_matrix(demand, sites, plan.radius_m, bands=bands).tocsc()
    rows = np.arange(len(demand))
    cover = rank_quality(matrix, base, np.arange(len(sites)), rows)
    if not np.allclose(cover.after(len(sites)), plan.demand["covered"].to_numpy(dtype=float),
                       rtol=0, atol=1e-9):
        logger.info("sweep: the plan's coverage could not be recomputed; districts left blank")
        return None
    return cover


def _check_prefix(plan: Plan, sets: int) -> None:
    ends = [p.cumulative_sets for p in plan.phases]
    if sets > plan.n_sets:
        raise OptionError("--sets", f"the run placed only {plan.n_sets:,} sets (no other "
                                    f"candidate adds coverage), fewer than {sets:,}: sweep "
                                    "smaller sizes")
    if sets not in ends:
        raise OptionError("--sets", f"{sets} is not the end of a phase of the plan ({ends})")


def _prefix_certificate(phase: PhaseResult, covered: float) -> Certificate:
    """The certificate of the first phases up to ``phase``: that phase's own bound and method."""
    bound = max(float(phase.upper_bound), covered)
    gap = (bound - covered) / bound if bound > 0 else 0.0
    proven = gap <= PROVEN_TOLERANCE
    return Certificate(bound, 0.0 if proven else gap, phase.bound_method, proven)


def plan_prefix(plan: Plan, sets: int, *, coverage: RankQuality | None = None) -> Plan:
    """The plan made of the first phases of ``plan`` up to ``sets`` sets.

    ``sets`` must be the cumulative size at the end of a phase. Covered
    weight, the curve, the bound and its method come from the run itself;
    per-demand-point and per-district coverage from the run's own coverage
    (:func:`rank_coverage`; left blank when unknown).

    Parameters
    ----------
    plan
        A phased plan.
    sets
        The cumulative number of sets at the end of one of its phases.
    coverage
        From :func:`rank_coverage`; taken from the plan when not given.
    """
    _check_prefix(plan, sets)
    if sets == plan.n_sets:
        return plan
    phases = plan.phases[: [p.cumulative_sets for p in plan.phases].index(sets) + 1]
    covered = float(plan.curve[sets])
    sites = plan.sites[plan.sites["rank"] <= sets].copy()
    footprints = plan.footprints[plan.footprints["rank"] <= sets].copy()
    if coverage is None:
        coverage = rank_coverage(plan)
    demand = plan.demand.copy()
    demand["covered"] = np.nan if coverage is None else coverage.after(sets)
    districts = None
    if plan.districts is not None:
        source = plan.districts[["district", "population", plan.districts.geometry.name]]
        districts = district_table(source, sites, demand, name="district",
                                   population="population")
    parameters = {
        **plan.parameters, "sets": sets, "phases": [p.n_sets for p in phases],
        "sweep": {"parameter": "sets", "run_sets": plan.n_sets,
                  "run_phases": [p.n_sets for p in plan.phases],
                  "note": "the first phases of one run (greedy plans are nested)"},
    }
    ranks = None if coverage is None else RankQuality(coverage.base, coverage.rises[:, :sets])
    return dataclasses.replace(
        plan, sites=sites, footprints=footprints, demand=demand, districts=districts,
        covered_weight=covered, curve=np.asarray(plan.curve[: sets + 1]), phases=phases,
        certificate=_prefix_certificate(phases[-1], covered), parameters=parameters,
        rank_quality=ranks,
    )


# --------------------------------------------------------------------------- runs


def _label(parameter: str, value: Any) -> str:
    if parameter == "sets":
        return f"sets-{value}"
    if parameter == "radius":
        return f"radius-{value:g}m"
    return f"rule-{value}"


def sweep_plans(
    scenario: Any,
    parameter: str,
    values: Sequence[Any],
    *,
    run: Callable[[Any], Plan],
) -> list[tuple[str, Callable[[], Plan]]]:
    """``(label, make)`` per value; ``make()`` plans (or cuts) the value's plan.

    Parameters
    ----------
    scenario
        A loaded :class:`planner.scenario.Scenario`.
    parameter
        ``"sets"``, ``"radius"`` or ``"rule"``.
    values
        From :func:`parse_values`.
    run
        Plans a scenario (:func:`planner.scenario.run_scenario` with a progress bar).
    """
    title = scenario.title
    if parameter == "sets":
        if scenario.budget is not None:
            raise OptionError("--sets", "cannot sweep sets in a scenario with a budget: "
                                        "remove the budget key")
        sizes = [int(v) for v in values]
        phases = tuple(b - a for a, b in zip([0, *sizes[:-1]], sizes, strict=True))
        whole = scenario.with_values(sets=sizes[-1], phases=phases)
        cache: dict[str, Any] = {}

        def cut(k: int) -> Plan:
            if "plan" not in cache:
                cache["plan"] = run(whole)  # the one optimisation of the sweep
                cache["coverage"] = rank_coverage(cache["plan"])
            prefix = plan_prefix(cache["plan"], k, coverage=cache["coverage"])
            return dataclasses.replace(prefix, title=f"{title} — {k:,} sets")

        return [(_label("sets", k), lambda k=k: cut(k)) for k in sizes]
    if parameter == "radius":
        return [(_label("radius", r), lambda r=r: run(scenario.with_values(
            radius=float(r), title=f"{title} — reach {r:g} m"))) for r in values]
    if parameter == "rule":
        if not scenario.surface:
            raise OptionError("--rule", f"{scenario.source}: the weighting rule applies to a "
                                        "demand built from layers (a [surface] table); this "
                                        "scenario has a ready demand layer")
        return [(_label("rule", v), lambda v=v: run(scenario.with_values(
            surface__rule=v, title=f"{title} — rule {v}"))) for v in values]
    raise OptionError("sweep", f"cannot sweep {parameter!r}: use one of {SWEEPS}")


def sweep_scenario(
    path: Path,
    parameter: str,
    values: Sequence[Any],
    out_dir: str | os.PathLike[str],
    *,
    data_dir: Path | None = None,
    output: ComparisonOutput | None = None,
    progress: Any = None,
) -> Path:
    """``camplan sweep``: plan ``path`` for each value, write each plan and the comparison.

    Parameters
    ----------
    path
        The scenario file.
    parameter, values
        The parameter swept and its values (:func:`parse_values`).
    out_dir
        The comparison folder.
    data_dir
        Where the scenario's layer files are, when not beside it.
    output
        Overwrite, map writer, interactive map (default :class:`ComparisonOutput`).
    progress
        A progress display for the runs.

    Returns
    -------
    Path
        The comparison folder: ``compare.html``, ``compare.md``, ... and
        ``plans/<label>`` for each value.
    """
    from planner.scenario import load_scenario, run_scenario

    scenario = load_scenario(path, data_dir=data_dir)
    makers = sweep_plans(scenario, parameter, values,
                         run=lambda s: run_scenario(s, progress=progress))
    output = output or ComparisonOutput()
    return write_comparison_folder(out_dir, makers, overwrite=output.overwrite,
                                   map_writer=output.map_writer,
                                   interactive_map=output.interactive_map)
