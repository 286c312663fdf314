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
from dataclasses import dataclass, field, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from geodata.crs import metric_choice, to_metric
from geodata.errors import LayerError, OptionError
from planner.coverage.camera_model import DirectionalModel
from planner.coverage.disc import DecayBands, baseline_quality, coverage_matrix
from planner.coverage.models import CoverageModel, DiscModel
from planner.plan.assemble import RESERVED, Assembly, assemble_plan
from planner.plan.cameras import finish_plan
from planner.plan.result import Plan
from planner.solver.grouped import optimise_sets
from planner.solver.optimise import Constraints, Exact, Progress, SolverOptions, optimise
from planner.solver.problem import CoverageProblem
from planner.solver.windows import unavailable

__all__ = ["RESERVED", "About", "PlanLayers", "PlanOptions", "plan_sites"]

logger = logging.getLogger(__name__)



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
    local_search, exact, time_limit, exact_nodes, windows, window_size
        See :class:`planner.solver.constraints.SolverOptions`.
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
    exact_nodes: int = 1000
    windows: int | None = None
    window_size: int = 20

    def as_dict(self) -> dict[str, Any]:
        """The options as JSON values, for the plan's parameters."""
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
            "exact_nodes": self.exact_nodes,
            "windows": self.windows,
            "window_size": self.window_size,
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


def _row_order(xy: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The canonical order of points: by x, then y, then weight (input row order changes nothing).

    The weight breaks ties between points at the same place, so that sums over the
    points run in one order whatever the order of the input rows. The demand frame
    itself keeps its rows (the outputs list them as given); only the optimiser sees
    them in this order. Reordering a million shapely points would scatter them in
    memory and slow every later pass over them.
    """
    return np.lexsort((weights, xy[:, 1], xy[:, 0]))


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


@dataclass(frozen=True)
class PlanLayers:
    """The layers around a plan besides demand and sites, and the columns they are read by.

    Attributes
    ----------
    existing
        Existing camera sets (points); what they cover counts as covered before
        the first new set. ``owner_column`` tells whose they are.
    owner_column
        Column of ``existing`` naming each camera's owner (``"existing"`` when absent).
    cost_column
        Column of the sites holding each site's cost (with ``PlanOptions.budget``).
    districts
        Polygons for the per-district table, named by ``district_name``, with
        an optional ``population`` column.
    exclusions
        Privacy exclusion zones: candidate sites inside are removed.
    footprints
        Optional footprint polygon per site (same order as ``sites``); default
        the coverage model's footprints of the chosen sites (discs).
    coverage
        The coverage model (:mod:`planner.coverage`): disc (default), sightline
        or network. It builds the coverage matrix of the new sites and of the
        existing cameras, and draws the footprints.
    """

    existing: gpd.GeoDataFrame | None = None
    owner_column: str = "owner"
    cost_column: str | None = None
    districts: gpd.GeoDataFrame | None = None
    district_name: str | None = None
    population: str | None = None
    exclusions: gpd.GeoDataFrame | None = None
    footprints: gpd.GeoSeries | None = None
    coverage: CoverageModel | None = None


@dataclass(frozen=True)
class About:
    """What a plan records about where it came from.

    Attributes
    ----------
    title
        The plan's title (map, report).
    sources
        File names of the layers by role (``demand``, ``sites``, ...), for error messages.
    inputs
        Input fingerprints by role, recorded in the plan.
    parameters
        Further parameters to record (how demand and sites were built).
    """

    title: str = "camplan plan"
    sources: Mapping[str, str] = field(default_factory=dict)
    inputs: Mapping[str, str] = field(default_factory=dict)
    parameters: Mapping[str, Any] = field(default_factory=dict)


def plan_sites(
    demand: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    options: PlanOptions,
    *,
    weight: str = "weight",
    site_id: str | None = None,
    layers: PlanLayers | None = None,
    about: About | None = None,
    progress: Progress | None = None,
) -> Plan:
    """Choose camera sets among candidate ``sites`` to cover the weighted ``demand``.

    Parameters
    ----------
    demand
        Demand points or polygons (polygons stand at a representative point)
        with a non-negative ``weight`` column.
    sites
        Candidate mounting sites (points), optionally with ids (``site_id``) and costs.
    options
        Reach, number of sets, phases and the optimiser's options.
    layers
        Existing cameras, districts, exclusion zones, footprints and the coverage model.
    about
        Title, file names, fingerprints and parameters to record in the plan.
    progress
        Callback ``(stage, done, total)`` for a progress display.
    """
    layers = layers or PlanLayers()
    about = about or About()
    t0 = time.perf_counter()
    parts = _prepare(demand, sites, weight, site_id, layers, _sources(about))
    timings = {"prepare": time.perf_counter() - t0}
    t1 = time.perf_counter()
    problem, parts = _problem(parts, weight, options, layers)
    timings["coverage"] = time.perf_counter() - t1
    src = _sources(about)
    constraints = Constraints(
        sets=options.sets,
        phases=options.phases,
        costs=_costs(parts.sites, layers.cost_column, src["sites"]),
        budget=options.budget,
        forced=_lookup(parts.sites["site_id"], options.forced, "--forced"),
        forbidden=_lookup(parts.sites["site_id"], options.forbidden, "--forbidden"),
        conflicts=_conflicts(np.asarray(parts.sites.geometry.array), options.min_spacing_m),
    )
    camera_sets = isinstance(layers.coverage, DirectionalModel)  # a column per (mount, pan)
    solver = _solver_options(options, problem, constraints, camera_sets)
    solution = optimise_sets(problem, layers.coverage.layout, constraints, solver,  # type: ignore[union-attr]
                             progress=progress) if camera_sets \
        else optimise(problem, constraints, solver, progress=progress)
    timings.update(solution.timings.as_dict())
    plan = assemble_plan(
        solution, problem, parts,
        options=options, weight=weight, layers=layers, about=about, timings=timings,
    )  # fmt: skip
    return finish_plan(plan, solution, layers.coverage) if camera_sets else plan  # type: ignore


def _solver_options(
    options: PlanOptions, problem: CoverageProblem, constraints: Constraints, camera_sets: bool
) -> SolverOptions:
    """The optimiser's options; windows asked for where they cannot run are an error."""
    solver = SolverOptions(local_search=options.local_search, exact=options.exact,
                           time_limit=options.time_limit, exact_nodes=options.exact_nodes,
                           windows=options.windows, window_size=options.window_size)  # fmt: skip
    if not options.windows:
        return solver
    why = unavailable(local_search=options.local_search, exact=options.exact,
                      binary=problem.binary, costs=constraints.costs is not None)
    if camera_sets:
        why = "camera sets of directional cameras are placed by their own search"
    if why is not None:
        raise OptionError("--windows", f"the window search cannot run here: {why}; "
                          "leave --windows out or set it to 0")  # fmt: skip
    return solver


def _sources(about: About) -> dict[str, str]:
    roles = ("demand", "sites", "existing", "districts", "exclusions")
    return {**{r: r for r in roles}, **about.sources}


def _prepare(
    demand: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    weight: str,
    site_id: str | None,
    layers: PlanLayers,
    src: Mapping[str, str],
) -> Assembly:
    """Project every layer to the working CRS; ids, exclusions and the canonical site order."""
    choice = metric_choice(demand, source=src["demand"])  # the CRS and why (summary.json)
    demand = to_metric(demand, source=src["demand"], crs=choice.crs)
    crs = demand.crs
    sites = to_metric(sites, source=src["sites"], crs=crs)
    if weight not in demand.columns:
        raise LayerError(
            src["demand"],
            f"has no weight column {weight!r}; columns are "
            f"{', '.join(map(str, demand.columns.drop('geometry')))}",
        )
    if layers.footprints is not None:
        sites = sites.assign(_footprint=gpd.GeoSeries(layers.footprints, crs=crs).to_numpy())
    sites = sites.assign(site_id=_site_ids(sites, site_id, src["sites"]))
    exclusions = layers.exclusions
    if exclusions is not None:
        exclusions = to_metric(exclusions, source=src["exclusions"], crs=crs)
        sites = _remove_excluded(sites, exclusions)
    if sites.empty:
        raise LayerError(src["sites"], "no candidate site is left (all inside exclusion zones?)")
    sites = _canonical(sites, sites["site_id"])
    existing, districts = layers.existing, layers.districts
    if existing is not None:
        existing = to_metric(existing, source=src["existing"], crs=crs)
    if districts is not None:
        districts = to_metric(districts, source=src["districts"], crs=crs)
    return Assembly(demand, np.arange(0), sites, crs, existing, districts, exclusions, {},
                    crs_reason=choice.reason)


def _problem(
    parts: Assembly, weight: str, options: PlanOptions, layers: PlanLayers
) -> tuple[CoverageProblem, Assembly]:
    """The coverage problem on the demand in canonical order, with the existing cameras."""
    demand_pts = _points(parts.demand)
    demand_xy = shapely.get_coordinates(demand_pts)
    weights = parts.demand[weight].to_numpy(dtype=np.float64)
    order = _row_order(demand_xy, weights)
    demand_pts, demand_xy, weights = demand_pts[order], demand_xy[order], weights[order]
    site_pts = np.asarray(parts.sites.geometry.array)
    bands = options.bands or None
    coverage = layers.coverage
    # The disc model works on coordinates; other models need the points themselves.
    rows = demand_pts
    if coverage is None or isinstance(coverage, (DiscModel, DirectionalModel)):
        rows = demand_xy
    if coverage is None:
        matrix = coverage_matrix(rows, site_pts, options.radius_m, bands=bands)
    else:
        matrix = coverage.matrix(rows, site_pts, options.radius_m, bands=bands)
    base, owners = _existing_coverage(
        rows, parts.existing, layers.owner_column, weights, options, bands, coverage
    )
    problem = CoverageProblem.from_matrix(matrix, weights, baseline=base)
    return problem, replace(parts, order=order, owners=owners)


def _costs(sites: gpd.GeoDataFrame, cost_column: str | None, source: str) -> np.ndarray | None:
    if cost_column is None:
        return None
    if cost_column not in sites.columns:
        raise LayerError(source, f"has no cost column {cost_column!r}")
    costs = pd.to_numeric(sites[cost_column], errors="coerce").to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(costs)) or np.any(costs <= 0):
        raise LayerError(source, f"column {cost_column!r} must hold positive costs")
    return costs


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
        if isinstance(coverage, DirectionalModel):  # wedges where rows carry a direction
            q = coverage.existing_quality(demand_rows, existing[(owner == name).to_numpy()], mine)
        elif coverage is None:
            q = baseline_quality(demand_rows, mine, options.radius_m, bands=bands)
        else:
            cover = coverage.matrix(demand_rows, mine, options.radius_m, bands=bands).max(axis=1)
            q = (cover.toarray() if sparse.issparse(cover) else np.asarray(cover)).ravel()
        owners[name] = float(np.dot(weights, q))
        np.maximum(base, q, out=base)
    return base, owners
