"""Build a demand surface from layers: where people are and crime happens, as weighted points.

The surface is a set of points over the study area — the cells of a grid
clipped to the area (:func:`grid_cells`) or points along the walkable streets
(:func:`planner.streets.points_along_streets`) — each scored from

* **footfall**, a mix of normalised components: population per polygon
  (areal weighting, :func:`areal_share`) or per raster cell (moved onto the
  points by overlap area, :func:`raster_share`), attractors such as metro exits with
  exponential distance decay (:func:`attractor_footfall`), pedestrian counts
  at points (kernel-smoothed) and, when nothing is measured, street
  betweenness (modelled);
* **crime**: a kernel density of incidents (:func:`planner.demand.kernel_density`)
  or counts per district spread over the district in proportion to footfall
  (:func:`spread_counts`);
* the **combination rule** of :func:`planner.demand.combine`: the product of
  normalised crime and footfall (default) or a weighted sum, with exponents.
  Without crime the weight is the footfall alone.

Every choice is a field of :class:`SurfaceOptions`, with a documented default.
All distances are metres, in a projected CRS.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.errors import OptionError
from geodata.raster import RasterCells
from planner.demand.overlap import quad_rect_area
from planner.demand.weights import combine, kernel_density, normalise, sum_near

__all__ = [
    "SurfaceLayers",
    "SurfaceOptions",
    "areal_share",
    "assign_polygons",
    "attractor_footfall",
    "build_surface",
    "grid_cells",
    "raster_cell_points",
    "raster_share",
    "spread_counts",
]

logger = logging.getLogger(__name__)

Points = Literal["grid", "streets", "raster"]

#: Internal column of a surface of raster cells: each point's cell (dropped from the result).
RASTER_INDEX = "_raster_cell"

#: Grid cells per side of the tiles the area is cut into before clipping cells.
TILE_CELLS = 40


@dataclass(frozen=True)
class SurfaceOptions:
    """Every choice of the demand surface, with its default.

    Attributes
    ----------
    points
        ``"grid"``: cells of ``cell_m`` metres clipped to the area (default);
        ``"streets"``: points every ``street_spacing_m`` metres along the streets;
        ``"raster"``: the centres of the population raster's populated cells
        (touching the area), so each cell's people stay on their own point.
    cell_m
        Grid cell size, metres (default 100).
    street_spacing_m
        Spacing of points along streets, metres (default 25).
    bandwidth_m
        Crime kernel bandwidth (Gaussian standard deviation), metres (default 150).
    footfall_bandwidth_m
        Kernel bandwidth smoothing pedestrian counts measured at points, metres (default 100).
    attractor_decay_m
        Attractor distance decay: weight ``exp(-d / decay)``, metres (default 250);
        attractors farther than 4 decays count nothing.
    footfall_mix
        Weight of each footfall component in the mix (``population``,
        ``attractors``, ``counts``, ``betweenness``), each normalised to [0, 1]
        first. Default 1 for every component present.
    rule, crime_exponent, footfall_exponent, crime_share
        How crime and footfall combine; see :func:`planner.demand.combine`.
        Default: the product, exponents 1.
    """

    points: Points = "grid"
    cell_m: float = 100.0
    street_spacing_m: float = 25.0
    bandwidth_m: float = 150.0
    footfall_bandwidth_m: float = 100.0
    attractor_decay_m: float = 250.0
    footfall_mix: Mapping[str, float] = field(default_factory=dict)
    rule: Literal["product", "sum"] = "product"
    crime_exponent: float = 1.0
    footfall_exponent: float = 1.0
    crime_share: float = 0.5

    def check(self) -> None:
        """Raise :class:`OptionError` for an impossible value."""
        for name in ("cell_m", "street_spacing_m", "bandwidth_m", "footfall_bandwidth_m",
                     "attractor_decay_m"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise OptionError(name, f"must be a positive number of metres, got {value!r}")
        if self.points not in ("grid", "streets", "raster"):
            raise OptionError("points", f"must be 'grid', 'streets' or 'raster', "
                                        f"got {self.points!r}")
        if self.rule not in ("product", "sum"):
            raise OptionError("rule", f"must be 'product' or 'sum', got {self.rule!r}")
        unknown = set(self.footfall_mix) - set(FOOTFALL_COMPONENTS)
        if unknown:
            raise OptionError("footfall_mix", f"unknown components {sorted(unknown)}; use "
                                              f"{', '.join(FOOTFALL_COMPONENTS)}")
        if any(not (v >= 0) for v in self.footfall_mix.values()):
            raise OptionError("footfall_mix", "weights must be >= 0")


FOOTFALL_COMPONENTS = ("population", "attractors", "counts", "betweenness")


@dataclass(frozen=True)
class SurfaceLayers:
    """The layers a surface is built from, all in one metric CRS (any may be ``None``).

    Attributes
    ----------
    area
        Polygons of the study area (a land mask, the districts).
    population
        Polygons with a ``population`` column.
    population_raster
        Populated raster cells (any CRS), used instead of ``population`` polygons.
    attractors
        Points with a ``weight`` column.
    counts
        Points with a ``count`` column (pedestrian counts).
    counts_raster
        A raster of footfall counts (any CRS), moved onto the surface by area
        instead of the kernel-smoothed ``counts`` points.
    streets
        Street lines (needed for ``points="streets"`` and betweenness).
    crime
        Incident points with a ``severity`` column.
    crime_districts
        Polygons with a ``crime_count`` column: counts spread by footfall.
    """

    area: gpd.GeoDataFrame | None = None
    population: gpd.GeoDataFrame | None = None
    population_raster: RasterCells | None = None
    attractors: gpd.GeoDataFrame | None = None
    counts: gpd.GeoDataFrame | None = None
    counts_raster: RasterCells | None = None
    streets: gpd.GeoDataFrame | None = None
    betweenness: bool = False
    crime: gpd.GeoDataFrame | None = None
    crime_districts: gpd.GeoDataFrame | None = None


def grid_cells(area: gpd.GeoDataFrame, *, cell_m: float) -> gpd.GeoDataFrame:
    """Square cells of ``cell_m`` metres over ``area``, clipped to it.

    A cell straddling two separate parts of the area (two islands) gives one
    clipped piece per part. Cells are in row-major order from the south-west.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``cell`` (``"r{row}c{col}"``), ``area_m2``; polygon geometries.
    """
    if not (np.isfinite(cell_m) and cell_m > 0):
        raise OptionError("cell_m", f"must be a positive number of metres, got {cell_m!r}")
    whole = shapely.union_all(np.asarray(area.geometry.array))
    minx, miny, maxx, maxy = shapely.total_bounds(whole)
    x0 = np.floor(minx / cell_m) * cell_m
    y0 = np.floor(miny / cell_m) * cell_m
    parts = _tiled_parts(whole, x0, y0, cell_m * TILE_CELLS)
    cols = int(np.ceil((maxx - x0) / cell_m))
    rows = int(np.ceil((maxy - y0) / cell_m))
    r, c = np.divmod(np.arange(rows * cols), cols)
    boxes = shapely.box(x0 + c * cell_m, y0 + r * cell_m, x0 + (c + 1) * cell_m,
                        y0 + (r + 1) * cell_m)
    tree = shapely.STRtree(boxes)
    part_idx, cell_idx = tree.query(parts, predicate="intersects")
    shapely.prepare(parts)
    inside = shapely.contains_properly(parts[part_idx], boxes[cell_idx])
    pieces = boxes[cell_idx].copy()
    edge = ~inside
    pieces[edge] = shapely.intersection(boxes[cell_idx[edge]], parts[part_idx[edge]])
    odd = ~np.isin(shapely.get_type_id(pieces), [3, 6])
    pieces[odd] = [_polygonal(g) for g in pieces[odd]]
    areas = shapely.area(pieces)
    keep = areas > 1e-6 * cell_m * cell_m
    cell_idx, pieces, areas = cell_idx[keep], pieces[keep], areas[keep]
    order = np.lexsort((part_idx[keep], cell_idx))
    names = [f"r{int(rr)}c{int(cc)}" for rr, cc in zip(*np.divmod(cell_idx[order], cols),
                                                       strict=True)]
    logger.info("grid: %d cells of %g m over %.1f km2", len(order), cell_m, areas.sum() / 1e6)
    return gpd.GeoDataFrame({"cell": names, "area_m2": areas[order]},
                            geometry=pieces[order], crs=area.crs)


def _tiled_parts(whole: shapely.Geometry, x0: float, y0: float, tile_m: float) -> np.ndarray:
    """The area cut into tiles aligned on the grid: small parts keep the cell queries fast.

    Every cell lies inside one tile, so cutting never splits a cell.
    """
    _minx, _miny, maxx, maxy = shapely.total_bounds(whole)
    cols = max(1, int(np.ceil((maxx - x0) / tile_m)))
    rows = max(1, int(np.ceil((maxy - y0) / tile_m)))
    r, c = np.divmod(np.arange(rows * cols), cols)
    tiles = shapely.box(x0 + c * tile_m, y0 + r * tile_m, x0 + (c + 1) * tile_m,
                        y0 + (r + 1) * tile_m)
    shapely.prepare(whole)
    tiles = tiles[shapely.intersects(whole, tiles)]
    pieces = shapely.intersection(tiles, whole)
    parts = shapely.get_parts(np.array([_polygonal(g) for g in pieces], dtype=object))
    return parts[shapely.area(parts) > 0]


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    if shapely.get_type_id(geom) in (3, 6):
        return geom
    polys = [p for p in shapely.get_parts(geom) if shapely.get_type_id(p) == 3]
    return shapely.multipolygons(polys) if polys else shapely.Polygon()


def _anchor(points: gpd.GeoDataFrame) -> np.ndarray:
    geoms = np.asarray(points.geometry.array)
    return np.where(shapely.get_type_id(geoms) == 0, geoms, shapely.point_on_surface(geoms))


def assign_polygons(points: np.ndarray, polygons: gpd.GeoDataFrame) -> np.ndarray:
    """Row position of the polygon each point lies in (-1 outside all; first match wins)."""
    out = np.full(len(points), -1, dtype=np.int64)
    if len(points) == 0 or len(polygons) == 0:
        return out
    # The tree holds the points and the polygons query it, so each polygon is prepared once.
    tree = shapely.STRtree(points)
    poly, pt = tree.query(np.asarray(polygons.geometry.array), predicate="intersects")
    order = np.lexsort((poly, pt))
    pt, poly = pt[order], poly[order]
    first = np.r_[True, pt[1:] != pt[:-1]] if len(pt) else np.zeros(0, dtype=bool)
    out[pt[first]] = poly[first]
    return out


def areal_share(
    surface: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame, column: str
) -> np.ndarray:
    """Spread each polygon's ``column`` (population) over the surface points inside it.

    Areal weighting: a point's share is its cell area (``area_m2``; equal
    shares for points without area) over the total of the points in the same
    polygon, so the amounts of each polygon are kept exactly (polygons with no
    point inside are reported in the log and lost).
    """
    where = assign_polygons(_anchor(surface), polygons)
    size = (surface["area_m2"].to_numpy(dtype=np.float64) if "area_m2" in surface.columns
            else np.ones(len(surface)))
    k = len(polygons)
    inside = where >= 0
    total = np.bincount(where[inside], weights=size[inside], minlength=k)
    amount = pd.to_numeric(polygons[column], errors="coerce").fillna(0.0).to_numpy(np.float64)
    empty = (total == 0) & (amount > 0)
    if empty.any():
        logger.warning("%d polygon(s) with %s %.0f hold no surface point; their %s is lost",
                       int(empty.sum()), column, amount[empty].sum(), column)
    out = np.zeros(len(surface))
    share = np.divide(amount, total, out=np.zeros(k), where=total > 0)
    out[inside] = size[inside] * share[where[inside]]
    return out


def raster_share(surface: gpd.GeoDataFrame, cells: RasterCells) -> np.ndarray:
    """Move each raster cell's amount onto the surface, conserving the total exactly.

    Each cell, reprojected to the surface's CRS as the quadrilateral through its
    corners, gives its amount to the surface cells it overlaps in proportion to
    the overlap area (clipped cells: a cell half over the sea gives all of it to
    the land half); on a surface of points (along streets) it gives equal shares
    to the points inside it. A cell that overlaps no surface cell (or holds no
    point) gives its amount to the surface point nearest its centre. So the sum
    of the result equals the raster's total, up to rounding.
    """
    n = len(surface)
    out = np.zeros(n)
    if n == 0 or len(cells) == 0:
        return out
    geoms = np.asarray(surface.geometry.array)
    corners = cells.corners(surface.crs)
    quads = shapely.polygons(np.concatenate([corners, corners[:, :1]], axis=1))
    tree = shapely.STRtree(geoms)
    if np.isin(shapely.get_type_id(geoms), [3, 6]).all():
        q_idx, g_idx = tree.query(quads, predicate="intersects")
        share = _overlap_areas(corners, quads, geoms, q_idx, g_idx)
    else:
        q_idx, g_idx = tree.query(quads, predicate="covers")
        share = np.ones(len(q_idx))
    per_cell = np.bincount(q_idx, weights=share, minlength=len(cells))
    used = share > 0
    q_idx, g_idx, share = q_idx[used], g_idx[used], share[used]
    out += np.bincount(g_idx, weights=cells.amounts[q_idx] * share / per_cell[q_idx], minlength=n)
    orphan = np.flatnonzero(per_cell <= 0)
    if len(orphan):
        centres = shapely.points(cells.centres(surface.crs)[orphan])
        i, nearest = tree.query_nearest(centres, all_matches=False)
        out += np.bincount(nearest, weights=cells.amounts[orphan][i], minlength=n)
        logger.info("raster: %d cells (%.0f in all) overlap no surface cell; each went to the "
                    "nearest point", len(orphan), cells.amounts[orphan].sum())
    return out


def _overlap_areas(corners: np.ndarray, quads: np.ndarray, geoms: np.ndarray,
                   q_idx: np.ndarray, g_idx: np.ndarray) -> np.ndarray:
    """Area of each (raster cell, surface cell) overlap; uncut cells by a vectorised clip."""
    bounds = shapely.bounds(geoms)
    rect = np.isclose(shapely.area(geoms), (bounds[:, 2] - bounds[:, 0])
                      * (bounds[:, 3] - bounds[:, 1]), rtol=1e-9, atol=0.0)
    fast = rect[g_idx]
    share = np.empty(len(q_idx))
    share[fast] = quad_rect_area(corners[q_idx[fast]], bounds[g_idx[fast]])
    slow = ~fast
    share[slow] = shapely.area(shapely.intersection(quads[q_idx[slow]], geoms[g_idx[slow]]))
    return share


def attractor_footfall(
    points: np.ndarray,
    attractors: np.ndarray,
    *,
    decay_m: float,
    weights: np.ndarray | None = None,
    cutoff: float = 4.0,
) -> np.ndarray:
    """Footfall from attractors with exponential distance decay: ``sum_k w_k exp(-d_ik / decay)``.

    Attractors farther than ``cutoff * decay_m`` metres are ignored (sparse sum).
    """
    if not (np.isfinite(decay_m) and decay_m > 0):
        raise OptionError("attractor_decay", f"must be a positive number of metres, got {decay_m}")

    def kernel(p_idx: np.ndarray, a_idx: np.ndarray) -> np.ndarray:
        return np.exp(-shapely.distance(points[p_idx], attractors[a_idx]) / decay_m)

    return sum_near(points, attractors, kernel, reach_m=cutoff * decay_m, weights=weights)


def spread_counts(
    points: np.ndarray, districts: gpd.GeoDataFrame, column: str, footfall: np.ndarray
) -> np.ndarray:
    """Spread each district's count over its points in proportion to ``footfall``.

    A district whose points have no footfall spreads its count evenly.
    """
    where = assign_polygons(points, districts)
    k = len(districts)
    inside = where >= 0
    f = np.asarray(footfall, dtype=np.float64)
    total = np.bincount(where[inside], weights=f[inside], minlength=k)
    n_in = np.bincount(where[inside], minlength=k)
    counts = districts[column].to_numpy(dtype=np.float64)
    out = np.zeros(len(points))
    share = np.where(total[where[inside]] > 0,
                     f[inside] / np.where(total > 0, total, 1)[where[inside]],
                     1.0 / np.maximum(n_in, 1)[where[inside]])
    out[inside] = counts[where[inside]] * share
    return out


def _betweenness(points: np.ndarray, streets: gpd.GeoDataFrame) -> np.ndarray:
    from planner.demand.streets import edge_betweenness, street_graph, street_segments

    segments = street_segments(streets)
    between = edge_betweenness(street_graph(segments))
    score = np.array([between.get(s, 0.0) for s in range(len(segments))])
    tree = shapely.STRtree(np.asarray(segments.geometry.array))
    p_idx, s_idx = tree.query_nearest(points, all_matches=False)
    out = np.zeros(len(points))
    out[p_idx] = score[s_idx]
    return out


def _population(surface: gpd.GeoDataFrame, layers: SurfaceLayers) -> np.ndarray | None:
    """People per surface point: from raster cells (their own points, or by area) or polygons."""
    if layers.population_raster is not None and RASTER_INDEX in surface.columns:
        return _own_cells(surface, layers.population_raster)
    if layers.population_raster is not None:
        return raster_share(surface, layers.population_raster)
    if layers.population is not None:
        return areal_share(surface, layers.population, "population")
    return None


def _footfall_components(
    surface: gpd.GeoDataFrame, anchors: np.ndarray, layers: SurfaceLayers,
    options: SurfaceOptions,
) -> dict[str, np.ndarray]:
    """Each footfall component present (raw, not normalised), by name."""
    components: dict[str, np.ndarray] = {}
    population = _population(surface, layers)
    if population is not None:
        components["population"] = population
    if layers.attractors is not None:
        components["attractors"] = attractor_footfall(
            anchors, np.asarray(layers.attractors.geometry.array),
            decay_m=options.attractor_decay_m,
            weights=layers.attractors["weight"].to_numpy(dtype=np.float64))
    if layers.counts_raster is not None:
        components["counts"] = raster_share(surface, layers.counts_raster)
    elif layers.counts is not None:
        components["counts"] = kernel_density(
            anchors, np.asarray(layers.counts.geometry.array),
            bandwidth_m=options.footfall_bandwidth_m,
            weights=layers.counts["count"].to_numpy(dtype=np.float64))
    if layers.betweenness:
        if layers.streets is None:
            raise OptionError("betweenness", "modelled footfall needs a streets layer")
        components["betweenness"] = _betweenness(anchors, layers.streets)
    return components


def build_surface(
    layers: SurfaceLayers, *, options: SurfaceOptions | None = None
) -> gpd.GeoDataFrame:
    """The demand surface: points (or clipped cells) with ``footfall``, ``crime`` and ``weight``.

    Parameters
    ----------
    layers
        The input layers, all in one projected CRS (metres).
    options
        Every choice; default :class:`SurfaceOptions`.

    Returns
    -------
    geopandas.GeoDataFrame
        One point per clipped cell (a point on its surface; ``area_m2`` its
        land area) or per street point (``segment``), with one normalised
        column per footfall component, ``footfall`` and ``crime`` (normalised,
        ``crime`` absent without crime layers) and ``weight``.
    """
    options = options or SurfaceOptions()
    options.check()
    surface = _surface_points(layers, options)
    anchors = _anchor(surface)
    components = _footfall_components(surface, anchors, layers, options)
    mix = {name: float(options.footfall_mix.get(name, 1.0)) for name in components}
    if components and sum(mix.values()) > 0:
        footfall = sum(mix[n] * normalise(v) for n, v in components.items()) / sum(mix.values())
    else:
        footfall = np.ones(len(surface))
    for name, values in components.items():
        surface[f"footfall_{name}"] = normalise(values)
    surface["footfall"] = normalise(footfall)
    crime = None
    if layers.crime is not None:
        crime = kernel_density(anchors, np.asarray(layers.crime.geometry.array),
                               bandwidth_m=options.bandwidth_m,
                               weights=layers.crime["severity"].to_numpy(dtype=np.float64))
    if layers.crime_districts is not None:
        spread = spread_counts(anchors, layers.crime_districts, "crime_count", footfall)
        crime = spread if crime is None else normalise(crime) + normalise(spread)
    if crime is None:
        surface["weight"] = normalise(footfall) ** options.footfall_exponent
    else:
        surface["crime"] = normalise(crime)
        surface["weight"] = combine(crime, footfall, rule=options.rule,
                                    crime_exponent=options.crime_exponent,
                                    footfall_exponent=options.footfall_exponent,
                                    crime_share=options.crime_share)
    # Demand is a set of points: each clipped cell stands at a point on its surface
    # (always inside the area, even for a cell cut by the shore).
    surface = surface.set_geometry(gpd.GeoSeries(anchors, index=surface.index, crs=surface.crs))
    surface = surface.drop(columns=[RASTER_INDEX], errors="ignore")
    logger.info("surface: %d points, total weight %.1f (%s)", len(surface),
                surface["weight"].sum(), ", ".join(components) or "uniform footfall")
    return surface


def raster_cell_points(cells: RasterCells, area: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One surface point per populated raster cell touching ``area``, at the cell's centre.

    Columns ``cell`` (``"r{row}c{col}"``) and ``area_m2`` (the cell's area); the
    area's CRS. Cells are kept when they overlap the area at all, so people on a
    shore cell are not lost.
    """
    corners = cells.corners(area.crs)
    quads = shapely.polygons(np.concatenate([corners, corners[:, :1]], axis=1))
    parts = shapely.get_parts(np.asarray(area.geometry.array))
    # The tree holds the small cells and the large land parts query it (each prepared once).
    _, touching = shapely.STRtree(quads).query(parts, predicate="intersects")
    keep = np.unique(touching)
    xy = cells.centres(area.crs)[keep]
    names = np.char.add(np.char.add("r", cells.rows[keep].astype(str)),
                        np.char.add("c", cells.cols[keep].astype(str)))
    logger.info("surface: %d of %d populated raster cells touch the area", len(keep), len(cells))
    return gpd.GeoDataFrame({"cell": names, "area_m2": shapely.area(quads[keep]),
                             RASTER_INDEX: keep},
                            geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=area.crs)


def _own_cells(surface: gpd.GeoDataFrame, cells: RasterCells) -> np.ndarray:
    """Each raster cell's amount on its own point; cells without one go to the nearest point."""
    index = surface[RASTER_INDEX].to_numpy()
    out = cells.amounts[index].astype(np.float64)
    lost = np.ones(len(cells), dtype=bool)
    lost[index] = False
    if lost.any():
        tree = shapely.STRtree(np.asarray(surface.geometry.array))
        centres = shapely.points(cells.centres(surface.crs)[lost])
        i, nearest = tree.query_nearest(centres, all_matches=False)
        out += np.bincount(nearest, weights=cells.amounts[lost][i], minlength=len(out))
        logger.info("raster: %d cells (%.0f in all) off the area went to the nearest point",
                    int(lost.sum()), cells.amounts[lost].sum())
    return out


def _surface_points(layers: SurfaceLayers, options: SurfaceOptions) -> gpd.GeoDataFrame:
    if options.points == "raster":
        cells = (layers.population_raster if layers.population_raster is not None
                 else layers.counts_raster)
        if cells is None or layers.area is None:
            raise OptionError("points", "'raster' needs a population (or counts) raster and "
                                        "a study area (land mask or districts)")
        return raster_cell_points(cells, layers.area)
    if options.points == "streets":
        from planner.demand.streets import points_along_streets, street_segments

        if layers.streets is None:
            raise OptionError("points", "'streets' needs a streets layer")
        segments = street_segments(layers.streets)
        pts = points_along_streets(segments, spacing_m=options.street_spacing_m)
        if layers.area is not None:
            pts = pts[assign_polygons(np.asarray(pts.geometry.array), layers.area) >= 0]
        return pts.reset_index(drop=True)
    if layers.area is None:
        raise OptionError("area", "a grid surface needs a study area (land mask or districts)")
    return grid_cells(layers.area, cell_m=options.cell_m)
