"""Candidate mounting sites: a mount inventory, street intersections or a grid.

Whichever the source, sites inside privacy exclusion zones are removed
(:func:`remove_excluded`) and, with a study area (a land mask), sites outside
it are removed too (:func:`clip_to_area`). Every site gets a ``site_id`` and a
``mount_type``. Distances are metres in a projected CRS.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import shapely

from geodata.errors import LayerError, OptionError

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "candidates_from_grid",
    "candidates_from_intersections",
    "clip_to_area",
    "grid_lattice",
    "remove_excluded",
]

logger = logging.getLogger(__name__)


def candidates_from_grid(area: gpd.GeoDataFrame, *, spacing_m: float) -> gpd.GeoDataFrame:
    """Sites on a square lattice of ``spacing_m`` metres, inside ``area`` only.

    Lattice points sit at the centres of the ``spacing_m`` cells aligned on
    multiples of ``spacing_m``; ids are ``G{row}_{col}``.
    """
    return clip_to_area(grid_lattice(area, spacing_m=spacing_m), area)


def grid_lattice(
    area: gpd.GeoDataFrame,
    *,
    spacing_m: float,
    near: np.ndarray | None = None,
    near_m: float = 0.0,
) -> gpd.GeoDataFrame:
    """The lattice of :func:`candidates_from_grid` over the bounds of ``area``, not clipped.

    With ``near`` (an ``(n, 2)`` array of coordinates), only the lattice sites within
    ``near_m`` metres of one of them, found by arithmetic on the lattice (no tree).
    """
    if not (np.isfinite(spacing_m) and spacing_m > 0):
        raise OptionError("spacing", f"must be a positive number of metres, got {spacing_m!r}")
    minx, miny, maxx, maxy = area.total_bounds
    x0 = np.floor(minx / spacing_m) * spacing_m + spacing_m / 2
    y0 = np.floor(miny / spacing_m) * spacing_m + spacing_m / 2
    n_cols = len(np.arange(x0, maxx, spacing_m))
    n_rows = len(np.arange(y0, maxy, spacing_m))
    if near is None:
        flat = np.arange(n_rows * n_cols)
    else:
        flat = _lattice_near(near, x0, y0, spacing_m, near_m, n_rows, n_cols)
    rows, cols = np.divmod(flat, n_cols)
    ids = np.char.add(np.char.add("G", rows.astype(str)), np.char.add("_", cols.astype(str)))
    return gpd.GeoDataFrame({"site_id": ids, "mount_type": "grid"},
                            geometry=gpd.points_from_xy(x0 + cols * spacing_m,
                                                        y0 + rows * spacing_m), crs=area.crs)


def _lattice_near(xy: np.ndarray, x0: float, y0: float, spacing: float, near_m: float,
                  n_rows: int, n_cols: int) -> np.ndarray:
    """Row-major indices of the lattice nodes within ``near_m`` of any of the points ``xy``."""
    reach = int(np.ceil(near_m / spacing)) + 1
    offsets = np.arange(-reach, reach + 1)
    dr, dc = (a.ravel() for a in np.meshgrid(offsets, offsets, indexing="ij"))
    base_r = np.rint((xy[:, 1] - y0) / spacing).astype(np.int64)
    base_c = np.rint((xy[:, 0] - x0) / spacing).astype(np.int64)
    found = []
    for r_off, c_off in zip(dr, dc, strict=True):
        r, c = base_r + r_off, base_c + c_off
        ok = (r >= 0) & (r < n_rows) & (c >= 0) & (c < n_cols)
        ok &= np.hypot(x0 + c * spacing - xy[:, 0], y0 + r * spacing - xy[:, 1]) <= near_m
        found.append(r[ok] * n_cols + c[ok])
    return np.unique(np.concatenate(found))


def candidates_from_intersections(
    streets: gpd.GeoDataFrame,
    *,
    tolerance_m: float = 10.0,
    min_degree: int = 3,
    graph: nx.Graph | None = None,
) -> gpd.GeoDataFrame:
    """Street intersections, those within ``tolerance_m`` metres of each other merged into one.

    Intersections (nodes where at least ``min_degree`` segments meet) are
    grouped when chained within ``tolerance_m`` of one another (a dual
    carriageway crossing counts once); each group becomes one site at the
    centroid of its members, with ``degree`` the largest of theirs.
    """
    import networkx as nx  # street graphs only here: not on every command's start-up

    from planner.demand.streets import intersections, street_graph, street_segments

    if not (np.isfinite(tolerance_m) and tolerance_m >= 0):
        raise OptionError("tolerance", f"must be >= 0 metres, got {tolerance_m!r}")
    if graph is None:
        graph = street_graph(street_segments(streets))
    nodes = intersections(graph, crs=streets.crs, min_degree=min_degree)
    if nodes.empty:
        raise LayerError("streets", f"has no intersections of {min_degree} or more streets")
    pts = np.asarray(nodes.geometry.array)
    tree = shapely.STRtree(pts)
    a, b = tree.query(pts, predicate="dwithin", distance=tolerance_m)
    groups = nx.Graph()
    groups.add_nodes_from(range(len(pts)))
    groups.add_edges_from(zip(a.tolist(), b.tolist(), strict=True))
    xy = shapely.get_coordinates(pts)
    degree = nodes["degree"].to_numpy()
    rows = []
    for members in nx.connected_components(groups):
        m = sorted(members)
        rows.append((xy[m].mean(axis=0), int(degree[m].max()), len(m)))
    rows.sort(key=lambda r: (r[0][0], r[0][1]))
    centre = np.array([r[0] for r in rows])
    merged = gpd.GeoDataFrame(
        {"site_id": [f"X{i + 1:05d}" for i in range(len(rows))],
         "mount_type": "intersection",
         "degree": [r[1] for r in rows],
         "merged": [r[2] for r in rows]},
        geometry=gpd.points_from_xy(centre[:, 0], centre[:, 1]), crs=streets.crs,
    )
    logger.info("candidates: %d intersections merged into %d within %g m",
                len(nodes), len(merged), tolerance_m)
    return merged


def clip_to_area(sites: gpd.GeoDataFrame, area: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Keep only the sites inside (or on the edge of) the ``area`` polygons."""
    parts = shapely.get_parts(np.asarray(area.geometry.array))
    # The tree holds the sites and the large area parts query it (each prepared once).
    _, inside = shapely.STRtree(np.asarray(sites.geometry.array)).query(
        parts, predicate="intersects")
    keep = np.zeros(len(sites), dtype=bool)
    keep[inside] = True
    logger.info("candidates: %d of %d inside the area", int(keep.sum()), len(sites))
    return sites[keep].reset_index(drop=True)


def remove_excluded(
    sites: gpd.GeoDataFrame, exclusions: gpd.GeoDataFrame | None
) -> gpd.GeoDataFrame:
    """Drop the sites inside (or on the edge of) any exclusion zone."""
    if exclusions is None or sites.empty:
        return sites
    tree = shapely.STRtree(np.asarray(exclusions.geometry.array))
    inside, _ = tree.query(np.asarray(sites.geometry.array), predicate="intersects")
    drop = np.zeros(len(sites), dtype=bool)
    drop[inside] = True
    logger.info("candidates: removed %d inside exclusion zones", int(drop.sum()))
    return sites[~drop].reset_index(drop=True)
