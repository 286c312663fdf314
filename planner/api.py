"""Plan camera sets on GeoDataFrames: the adapter over :func:`planner.optimise.optimise`.

Layers come in any CRS; they are projected to one working metric CRS (the
demand's UTM zone when the demand is geographic), sorted into a canonical
order (so that the order of input rows changes nothing), turned into a
coverage matrix and optimised. The result is a frozen :class:`~planner.plan.Plan`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from geodata.crs import crs_label, to_metric
from geodata.errors import LayerError, OptionError
from planner.coverage.disc import DecayBands, baseline_quality, coverage_matrix
from planner.coverage.models import CoverageModel, DiscModel
from planner.plan.districts import district_table
from planner.plan.result import Certificate, PhaseResult, Plan
from planner.solver.optimise import Exact, Progress, Solution, optimise
from planner.solver.problem import CoverageProblem

__all__ = ["PlanOptions", "plan_sites"]

logger = logging.getLogger(__name__)

RESERVED = ("site_id", "rank", "phase", "marginal_weight", "cumulative_weight", "cumulative_share")


@dataclass(frozen=True)
class PlanOptions:
    """Every option of a planning run, with its default.

    Attributes
    ----------
    radius_m
        Reach of one camera set, metres.
    sets
        Number of new camera sets (ignored with ``budget`` when ``None``).
    phases
        Phase sizes adding up to at most ``sets``; default one phase.
    bands
        Distance-decay bands ``((d_m, quality), ...)``; default full quality to the reach.
    min_spacing_m
        Minimum distance between two chosen sets, metres (0: none).
    budget
        Total cost allowed, with ``cost_column`` on the sites.
    forced, forbidden
        Site ids that must be / must never be chosen.
    local_search, exact, time_limit
        See :func:`planner.optimise.optimise`.
    """

    radius_m: float
    sets: int | None = None
    phases: tuple[int, ...] = ()
    bands: tuple[tuple[float, float], ...] = ()
    min_spacing_m: float = 0.0
    budget: float | None = None
    forced: tuple[Any, ...] = ()
    forbidden: tuple[Any, ...] = ()
    local_search: bool = True
    exact: Exact = "auto"
    time_limit: float = 30.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "radius_m": self.radius_m,
            "sets": self.sets,
            "phases": list(self.phases),
            "decay_bands": [list(b) for b in self.bands],
            "min_spacing_m": self.min_spacing_m,
            "budget": self.budget,
            "forced": [str(x) for x in self.forced],
            "forbidden": [str(x) for x in self.forbidden],
            "local_search": self.local_search,
            "exact": self.exact,
            "time_limit_s": self.time_limit,
        }


def _points(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """Points for any geometry: polygons and lines stand at a representative point."""
    geoms = gdf.geometry.array
    is_point = shapely.get_type_id(geoms) == 0
    if is_point.all():
        return np.asarray(geoms)
    out = np.asarray(geoms).copy()
    out[~is_point] = shapely.point_on_surface(out[~is_point])
    return out


def _canonical(gdf: gpd.GeoDataFrame, key: pd.Series) -> gpd.GeoDataFrame:
    """Sort rows by key (ids), so input row order changes nothing."""
    order = np.argsort(key.astype(str).to_numpy(), kind="stable")
    return gdf.iloc[order].reset_index(drop=True)


def _row_order(xy: np.ndarray) -> np.ndarray:
    """The canonical order of points: by x, then y (input row order changes nothing).

    The demand frame itself keeps its rows (the outputs list them as given); only
    the optimiser sees them in this order. Reordering a million shapely points
    would scatter them in memory and slow every later pass over them.
    """
    return np.lexsort((xy[:, 1], xy[:, 0]))


def _site_ids(sites: gpd.GeoDataFrame, site_id: str | None, source: str) -> pd.Series:
    if site_id is None:
        return pd.Series(np.arange(1, len(sites) + 1), index=sites.index, name="site_id")
    if site_id not in sites.columns:
        raise LayerError(
            source,
            f"has no column {site_id!r} for --site-id; "
            f"columns are {', '.join(map(str, sites.columns))}",
        )
    return sites[site_id].rename("site_id")


def _lookup(ids: pd.Series, wanted: Sequence[Any], option: str) -> list[int]:
    index = {str(v): i for i, v in enumerate(ids.tolist())}
    missing = [str(w) for w in wanted if str(w) not in index]
    if missing:
        raise OptionError(option, f"no candidate site has the id {missing[0]!r}")
    return [index[str(w)] for w in wanted]


def _conflicts(site_pts: np.ndarray, spacing_m: float) -> sparse.csr_array | None:
    if spacing_m <= 0:
        return None
    tree = shapely.STRtree(site_pts)
    a, b = tree.query(site_pts, predicate="dwithin", distance=spacing_m)
    # Sites exactly min_spacing apart are allowed: only closer pairs conflict.
    keep = (a != b) & (shapely.distance(site_pts[a], site_pts[b]) < spacing_m)
    m = len(site_pts)
    return sparse.csr_array((np.ones(int(keep.sum())), (a[keep], b[keep])), shape=(m, m))


def _remove_excluded(
    sites: gpd.GeoDataFrame, exclusions: gpd.GeoDataFrame | None
) -> gpd.GeoDataFrame:
    if exclusions is None or sites.empty:
        return sites
    tree = shapely.STRtree(exclusions.geometry.array)
    inside, _ = tree.query(sites.geometry.array, predicate="intersects")
    keep = np.ones(len(sites), dtype=bool)
    keep[inside] = False
    if not keep.all():
        logger.info("removed %d candidate sites inside exclusion zones", int((~keep).sum()))
    return sites.iloc[np.flatnonzero(keep)].reset_index(drop=True)


def plan_sites(
    demand: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    options: PlanOptions,
    *,
    weight: str = "weight",
    site_id: str | None = None,
    cost_column: str | None = None,
    existing: gpd.GeoDataFrame | None = None,
    owner_column: str = "owner",
    districts: gpd.GeoDataFrame | None = None,
    district_name: str | None = None,
    population: str | None = None,
    exclusions: gpd.GeoDataFrame | None = None,
    footprints: gpd.GeoSeries | None = None,
    coverage: CoverageModel | None = None,
    sources: Mapping[str, str] | None = None,
    inputs: Mapping[str, str] | None = None,
    title: str = "camplan plan",
    extra_parameters: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
) -> Plan:
    """Choose camera sets among candidate ``sites`` to cover the weighted ``demand``.

    Parameters
    ----------
    demand
        Demand points or polygons (polygons stand at a representative point)
        with a non-negative ``weight`` column.
    sites
        Candidate mounting sites (points), optionally with ids and costs.
    options
        Reach, number of sets, phases and the optimiser's options.
    existing
        Existing camera sets (points); what they cover counts as covered before
        the first new set. ``owner_column`` tells whose they are.
    districts
        Polygons for the per-district table, named by ``district_name``, with
        an optional ``population`` column.
    exclusions
        Privacy exclusion zones: candidate sites inside are removed.
    footprints
        Optional footprint polygon per site (same order as ``sites``); default
        the coverage model's footprints of the chosen sites (discs).
    coverage
        The coverage model (:mod:`planner.models`): disc (default), sightline
        or network. It builds the coverage matrix of the new sites and of the
        existing cameras, and draws the footprints.
    sources
        File names of the layers by role, for error messages.
    inputs
        Input fingerprints by role, recorded in the plan.
    """
    t0 = time.perf_counter()
    src = {
        "demand": "demand",
        "sites": "sites",
        "existing": "existing",
        "districts": "districts",
        "exclusions": "exclusions",
        **(sources or {}),
    }
    demand = to_metric(demand, source=src["demand"])
    crs = demand.crs
    sites = to_metric(sites, source=src["sites"], crs=crs)
    if weight not in demand.columns:
        raise LayerError(
            src["demand"],
            f"has no weight column {weight!r}; columns are "
            f"{', '.join(map(str, demand.columns.drop('geometry')))}",
        )
    if footprints is not None:
        sites = sites.assign(_footprint=gpd.GeoSeries(footprints, crs=crs).to_numpy())
    sites = sites.assign(site_id=_site_ids(sites, site_id, src["sites"]))
    if exclusions is not None:
        exclusions = to_metric(exclusions, source=src["exclusions"], crs=crs)
        sites = _remove_excluded(sites, exclusions)
    if sites.empty:
        raise LayerError(src["sites"], "no candidate site is left (all inside exclusion zones?)")
    sites = _canonical(sites, sites["site_id"])
    ext = None if existing is None else to_metric(existing, source=src["existing"], crs=crs)
    if districts is not None:
        districts = to_metric(districts, source=src["districts"], crs=crs)
    timings = {"prepare": time.perf_counter() - t0}

    t1 = time.perf_counter()
    demand_pts = _points(demand)
    demand_xy = shapely.get_coordinates(demand_pts)
    order = _row_order(demand_xy)
    demand_pts, demand_xy = demand_pts[order], demand_xy[order]
    site_pts = np.asarray(sites.geometry.array)
    weights = demand[weight].to_numpy(dtype=np.float64)[order]
    bands = options.bands or None
    # The disc model works on coordinates; other models need the points themselves.
    rows = demand_xy if coverage is None or isinstance(coverage, DiscModel) else demand_pts
    if coverage is None:
        matrix = coverage_matrix(rows, site_pts, options.radius_m, bands=bands)
    else:
        matrix = coverage.matrix(rows, site_pts, options.radius_m, bands=bands)
    base, owners = _existing_coverage(rows, ext, owner_column, weights, options, bands, coverage)
    problem = CoverageProblem.from_matrix(matrix, weights, baseline=base)
    timings["coverage"] = time.perf_counter() - t1

    costs = None
    if cost_column is not None:
        if cost_column not in sites.columns:
            raise LayerError(src["sites"], f"has no cost column {cost_column!r}")
        costs = pd.to_numeric(sites[cost_column], errors="coerce").to_numpy(dtype=np.float64)
        if not np.all(np.isfinite(costs)) or np.any(costs <= 0):
            raise LayerError(src["sites"], f"column {cost_column!r} must hold positive costs")
    solution = optimise(
        problem,
        sets=options.sets,
        phases=options.phases,
        costs=costs,
        budget=options.budget,
        forced=_lookup(sites["site_id"], options.forced, "--forced"),
        forbidden=_lookup(sites["site_id"], options.forbidden, "--forbidden"),
        conflicts=_conflicts(site_pts, options.min_spacing_m),
        local_search=options.local_search,
        exact=options.exact,
        time_limit=options.time_limit,
        progress=progress,
    )
    timings.update(solution.timings)
    return _assemble(
        solution,
        problem,
        demand,
        order,
        sites,
        ext,
        owners,
        districts,
        exclusions,
        options=options,
        weight=weight,
        crs=crs,
        district_name=district_name,
        coverage=coverage,
        population=population,
        inputs=inputs or {},
        title=title,
        extra=dict(extra_parameters or {}),
        timings=timings,
    )


def _existing_coverage(
    demand_rows: np.ndarray,
    existing: gpd.GeoDataFrame | None,
    owner_column: str,
    weights: np.ndarray,
    options: PlanOptions,
    bands: DecayBands | None,
    coverage: CoverageModel | None = None,
) -> tuple[np.ndarray, dict[str, float]]:
    """Quality from existing cameras per demand point, and what each owner covers alone.

    ``demand_rows`` are the demand as the coverage model takes it (coordinates or points).
    """
    base = np.zeros(len(demand_rows))
    owners: dict[str, float] = {}
    if existing is None or existing.empty:
        return base, owners
    owner = (
        existing[owner_column].astype(str)
        if owner_column in existing.columns
        else pd.Series("existing", index=existing.index)
    )
    cams = np.asarray(_points(existing))
    for name in sorted(owner.unique()):
        mine = cams[(owner == name).to_numpy()]
        if coverage is None:
            q = baseline_quality(demand_rows, mine, options.radius_m, bands=bands)
        else:
            cover = coverage.matrix(demand_rows, mine, options.radius_m, bands=bands).max(axis=1)
            q = (cover.toarray() if sparse.issparse(cover) else np.asarray(cover)).ravel()
        owners[name] = float(np.dot(weights, q))
        np.maximum(base, q, out=base)
    return base, owners


def _assemble(
    solution: Solution,
    problem: CoverageProblem,
    demand: gpd.GeoDataFrame,
    order: np.ndarray,
    sites: gpd.GeoDataFrame,
    existing: gpd.GeoDataFrame | None,
    owners: dict[str, float],
    districts: gpd.GeoDataFrame | None,
    exclusions: gpd.GeoDataFrame | None,
    *,
    options: PlanOptions,
    weight: str,
    crs: Any,
    district_name: str | None,
    coverage: CoverageModel | None,
    population: str | None,
    inputs: Mapping[str, str],
    title: str,
    extra: dict[str, Any],
    timings: dict[str, float],
) -> Plan:
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
    out_sites = gpd.GeoDataFrame(
        pd.concat([table, chosen[attrs].reset_index(drop=True)], axis=1),
        geometry=chosen.geometry.to_numpy(),
        crs=crs,
    )
    if "_footprint" in chosen.columns:
        shapes = chosen["_footprint"].to_numpy()
    elif coverage is not None:
        shapes = coverage.footprints(chosen.geometry.to_numpy(), options.radius_m)
    else:
        shapes = shapely.buffer(chosen.geometry.to_numpy(), options.radius_m, quad_segs=16)
    footprints = gpd.GeoDataFrame(
        table[["site_id", "rank", "phase"]].copy(), geometry=shapes, crs=crs
    )
    # The problem's rows are the demand in canonical order: back to the input's order.
    best, weights = np.empty(len(order)), np.empty(len(order))
    best[order] = problem.best_quality(solution.order)
    weights[order] = problem.weights
    keep = [c for c in demand.columns if c not in ("geometry", weight, "weight", "covered")]
    out_demand = gpd.GeoDataFrame(
        pd.concat(
            [
                pd.DataFrame({"weight": weights, "covered": best}),
                demand[keep].reset_index(drop=True),
            ],
            axis=1,
        ),
        geometry=demand.geometry.to_numpy(),
        crs=crs,
    )
    phases = _phases(solution, total)
    district_gdf = None
    if districts is not None:
        district_gdf = district_table(
            districts, out_sites, out_demand, name=district_name, population=population
        )
    gap = solution.gap
    ext_out = None
    if existing is not None:
        ext_out = existing.copy()
    return Plan(
        sites=out_sites,
        demand=out_demand,
        footprints=footprints,
        total_weight=total,
        covered_weight=solution.covered_weight,
        curve=solution.curve,
        phases=phases,
        certificate=Certificate(
            solution.upper_bound, gap, solution.bound_method, solution.proven_optimal
        ),
        radius_m=float(options.radius_m),
        crs=crs_label(crs),
        existing=ext_out,
        districts=district_gdf,
        exclusions=exclusions,
        existing_weight=float(solution.curve[0]),
        owners=owners,
        parameters={
            **options.as_dict(),
            "coverage_model": getattr(coverage, "name", "disc"),
            "weight_column": weight,
            **extra,
            "optimiser": {k: _plain(v) for k, v in sorted(solution.stats.items())},
        },
        inputs=dict(inputs),
        timings=dict(timings),
        title=title,
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
            )
        )
        start = end
    return tuple(out)
