"""Assemble the frozen :class:`~planner.plan.result.Plan` from the solver's output and layers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.crs import crs_label
from planner.coverage.models import CoverageModel
from planner.plan.districts import district_table
from planner.plan.ranks import rank_quality
from planner.plan.result import Certificate, PhaseResult, Plan
from planner.solver.optimise import Solution
from planner.solver.problem import CoverageProblem

__all__ = ["RESERVED", "Assembly", "assemble_plan"]

#: Columns camplan writes on every chosen site; input columns of these names are replaced.
RESERVED = ("site_id", "rank", "phase", "marginal_weight", "cumulative_weight", "cumulative_share")


@dataclass(frozen=True)
class Assembly:
    """Everything a plan is assembled from, besides the solution and the problem.

    Attributes
    ----------
    demand
        The demand layer in the working CRS, in input row order.
    order
        The canonical order of the demand rows the problem uses (problem row ``k``
        is demand row ``order[k]``).
    sites
        Candidate sites in canonical order, with ``site_id`` (and ``_footprint``).
    crs
        The working metric CRS.
    existing, districts, exclusions
        The context layers in the working CRS, or ``None``.
    owners
        Weight covered by each owner's existing cameras alone.
    crs_reason
        Why :attr:`crs` is the working CRS (:func:`geodata.crs.metric_choice`).
    """

    demand: gpd.GeoDataFrame
    order: np.ndarray
    sites: gpd.GeoDataFrame
    crs: Any
    existing: gpd.GeoDataFrame | None
    districts: gpd.GeoDataFrame | None
    exclusions: gpd.GeoDataFrame | None
    owners: dict[str, float]
    crs_reason: str = ""


def _chosen_sites(solution: Solution, sites: gpd.GeoDataFrame, crs: Any) -> gpd.GeoDataFrame:
    total = solution.total_weight
    chosen = sites.iloc[solution.order].reset_index(drop=True)
    cumulative = solution.curve[1:]
    attrs = [c for c in chosen.columns if c not in (*RESERVED, "geometry", "_footprint")]
    table = pd.DataFrame(
        {
            "site_id": chosen["site_id"].to_numpy(),
            "rank": np.arange(1, len(chosen) + 1),
            "phase": solution.phase,
            "marginal_weight": solution.marginal,
            "cumulative_weight": cumulative,
            "cumulative_share": cumulative / total if total > 0 else np.zeros(len(chosen)),
        }
    )
    return gpd.GeoDataFrame(
        pd.concat([table, chosen[attrs].reset_index(drop=True)], axis=1),
        geometry=chosen.geometry.to_numpy(),
        crs=crs,
    )


def _footprints(
    chosen: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    solution: Solution,
    radius_m: float,
    coverage: CoverageModel | None,
) -> gpd.GeoDataFrame:
    picked = sites.iloc[solution.order]
    points = chosen.geometry.to_numpy()
    if "_footprint" in picked.columns:
        shapes = picked["_footprint"].to_numpy()
    elif coverage is not None:
        shapes = coverage.footprints(points, radius_m)
    else:
        shapes = shapely.buffer(points, radius_m, quad_segs=16)
    return gpd.GeoDataFrame(
        chosen[["site_id", "rank", "phase"]].copy(), geometry=shapes, crs=chosen.crs
    )


def _demand_out(
    solution: Solution, problem: CoverageProblem, parts: Assembly, weight: str
) -> gpd.GeoDataFrame:
    """The demand in input row order with its weight and the quality the plan reaches."""
    order, demand = parts.order, parts.demand
    best, weights = np.empty(len(order)), np.empty(len(order))
    best[order] = problem.best_quality(solution.order)
    weights[order] = problem.weights
    keep = [c for c in demand.columns if c not in ("geometry", weight, "weight", "covered")]
    return gpd.GeoDataFrame(
        pd.concat(
            [
                pd.DataFrame({"weight": weights, "covered": best}),
                demand[keep].reset_index(drop=True),
            ],
            axis=1,
        ),
        geometry=demand.geometry.to_numpy(),
        crs=parts.crs,
    )


def _plain(value: Any) -> Any:
    if isinstance(value, (np.floating, float)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    return value


def _phases(solution: Solution, total: float) -> tuple[PhaseResult, ...]:
    out = []
    start = 0
    n = len(solution.order)
    for t, (end, bound) in enumerate(zip(solution.phase_ends, solution.phase_bounds, strict=True)):
        end = min(end, n)
        covered = float(solution.curve[end])
        greedy = float(solution.greedy_curve[min(end, len(solution.greedy_curve) - 1)])
        out.append(
            PhaseResult(
                phase=t + 1,
                n_sets=end - start,
                cumulative_sets=end,
                covered_weight=covered,
                coverage_share=covered / total if total > 0 else 0.0,
                greedy_weight=greedy,
                upper_bound=float(bound),
                bound_method=solution.phase_method(t),
            )
        )
        start = end
    return tuple(out)


def assemble_plan(
    solution: Solution,
    problem: CoverageProblem,
    parts: Assembly,
    *,
    options: Any,
    weight: str,
    layers: Any,
    about: Any,
    timings: Mapping[str, float],
) -> Plan:
    """The frozen plan: chosen sites, footprints, demand, districts, certificate, parameters.

    ``options``, ``layers`` and ``about`` are the :mod:`planner.api` option groups
    (:class:`~planner.api.PlanOptions`, :class:`~planner.api.PlanLayers`,
    :class:`~planner.api.About`).
    """
    total = solution.total_weight
    chosen = _chosen_sites(solution, parts.sites, parts.crs)
    footprints = _footprints(chosen, parts.sites, solution, options.radius_m, layers.coverage)
    out_demand = _demand_out(solution, problem, parts, weight)
    district_gdf = None
    if parts.districts is not None:
        district_gdf = district_table(
            parts.districts, chosen, out_demand,
            name=layers.district_name, population=layers.population,
        )  # fmt: skip
    return Plan(
        sites=chosen,
        demand=out_demand,
        footprints=footprints,
        total_weight=total,
        covered_weight=solution.covered_weight,
        curve=solution.curve,
        phases=_phases(solution, total),
        certificate=Certificate(
            solution.upper_bound, solution.gap, solution.bound_method, solution.proven_optimal
        ),
        radius_m=float(options.radius_m),
        crs=crs_label(parts.crs),
        existing=None if parts.existing is None else parts.existing.copy(),
        districts=district_gdf,
        exclusions=parts.exclusions,
        existing_weight=float(solution.curve[0]),
        owners=parts.owners,
        parameters={
            **options.as_dict(),
            "coverage_model": getattr(layers.coverage, "name", "disc"),
            "weight_column": weight,
            "crs_reason": parts.crs_reason,  # a scenario's own (its input layers') comes next
            **dict(about.parameters),
            "optimiser": {k: _plain(v) for k, v in sorted(solution.stats.as_dict().items())},
        },
        inputs=dict(about.inputs),
        timings=dict(timings),
        title=about.title,
        rank_quality=rank_quality(problem.csc, problem.baseline, solution.order, parts.order),
        presolve=solution.presolve,
    )
