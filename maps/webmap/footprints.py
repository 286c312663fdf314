"""Coverage footprints: simplified, dissolved into one shape per phase, drawn by phase."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import offlinefolium as folium
import shapely

from maps.webmap.base import _constant_style, _feature_collection, _to_wgs84
from maps.webmap.colours import LEVEL_COLOURS, phase_colour
from maps.webmap.elements import GeoJson

logger = logging.getLogger(__name__)


def _phase_footprints(
    footprints: gpd.GeoDataFrame, *, max_footprints: int, simplify_m: float
) -> gpd.GeoDataFrame:
    """Footprints simplified in metres and dissolved into one (multi)polygon per phase.

    Only the first ``max_footprints`` sets by rank are drawn. Dissolving turns
    thousands of overlapping discs into one shape per phase: fewer vertices, one
    path for the browser to draw, and overlaps no longer darken the fill.

    The footprints of a city's sets form many separate clusters, so each phase is
    dissolved cluster by cluster (:func:`shapely.disjoint_subset_union_all`): the
    same area as :func:`shapely.union_all`, several times faster.
    """
    fp = footprints.sort_values("rank", kind="stable") if "rank" in footprints else footprints
    if len(fp) > max_footprints:
        logger.info("map: footprints of the first %d of %d sets only", max_footprints, len(fp))
        fp = fp.iloc[:max_footprints]
    geoms = _simplify(fp.geometry.to_numpy(), simplify_m)
    phases = fp["phase"].to_numpy() if "phase" in fp else np.ones(len(fp), dtype=int)
    keys = np.unique(phases)
    unions = [shapely.disjoint_subset_union_all(geoms[phases == k]) for k in keys]
    dissolved = gpd.GeoDataFrame({"phase": keys}, geometry=unions, crs=footprints.crs)
    return _to_wgs84(dissolved)


def _simplify(geoms: np.ndarray, tolerance_m: float) -> np.ndarray:
    """Douglas-Peucker simplification that keeps each shape's topology.

    Convex polygons (the disc footprints) take the plain algorithm, which keeps a
    subset of their vertices and so cannot break them: the same result as the
    topology-preserving algorithm, about ten times faster. Every other shape takes
    the topology-preserving algorithm.
    """
    out = np.array(geoms, dtype=object)
    convex = _convex(out)
    out[convex] = shapely.simplify(out[convex], tolerance_m, preserve_topology=False)
    out[~convex] = shapely.simplify(out[~convex], tolerance_m, preserve_topology=True)
    return out


def _convex(geoms: np.ndarray) -> np.ndarray:
    """Which geometries are convex polygons without holes (within 1e-9 of the hull's area).

    A ring that turns the same way at every vertex and goes round once is convex:
    its polygon is its own hull. That check is a few array operations over the
    vertices; only the other polygons have their convex hull built and measured.
    """
    polygon = np.flatnonzero(
        (shapely.get_type_id(geoms) == shapely.GeometryType.POLYGON)
        & (shapely.get_num_interior_rings(geoms) == 0)
    )
    convex = np.zeros(len(geoms), dtype=bool)
    turns_once = _turns_one_way_once(shapely.get_exterior_ring(geoms[polygon]))
    convex[polygon[turns_once]] = True
    rest = geoms[polygon[~turns_once]]
    hull_area = shapely.area(shapely.convex_hull(rest))
    convex[polygon[~turns_once]] = hull_area <= shapely.area(rest) * (1 + 1e-9)
    return convex


def _turns_one_way_once(rings: np.ndarray) -> np.ndarray:
    """Which closed rings turn the same way (or straight on) at every vertex, once round."""
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    edges, same = np.diff(coords, axis=0), ring[1:] == ring[:-1]
    edges, edge_ring = edges[same], ring[1:][same]
    out = np.zeros(len(rings), dtype=bool)
    if not len(edges):
        return out
    first = np.flatnonzero(np.r_[True, edge_ring[1:] != edge_ring[:-1]])
    following = np.arange(1, len(edges) + 1)
    following[np.r_[first[1:], len(edges)] - 1] = first  # the last edge is followed by the first
    ahead = edges[following]
    cross = edges[:, 0] * ahead[:, 1] - edges[:, 1] * ahead[:, 0]
    dot = edges[:, 0] * ahead[:, 0] + edges[:, 1] * ahead[:, 1]
    left = np.add.reduceat(cross > 0, first)
    right = np.add.reduceat(cross < 0, first)
    turning = np.add.reduceat(np.arctan2(cross, dot), first)  # +-2 pi once round
    out[edge_ring[first]] = ((left == 0) | (right == 0)) & (np.abs(np.abs(turning) - 2 * np.pi) < 1)
    return out


def _add_wedges(m: folium.Map, footprints: gpd.GeoDataFrame, *, max_footprints: int) -> None:
    """Camera wedges dissolved per DORI level, coloured by level.

    The pans are in the sets' popups.
    """
    ranks = np.sort(footprints["rank"].unique())[:max_footprints]
    fp = footprints[footprints["rank"].isin(ranks)]
    note = " (top-ranked sets only)" if footprints["rank"].nunique() > max_footprints else ""
    for level, colour in LEVEL_COLOURS.items():
        part = fp[fp["level"].to_numpy() == level]
        if part.empty:
            continue
        # Wedges have a dozen vertices metres apart: nothing to simplify before the union.
        union = shapely.disjoint_subset_union_all(part.geometry.to_numpy())
        shape = _to_wgs84(gpd.GeoDataFrame({"level": [level]}, geometry=[union], crs=fp.crs))
        reach = float(part["reach_m"].iloc[0])
        GeoJson(
            _feature_collection(shape),
            name=f"Camera wedges: {level} (to {reach:.0f} m){note}",
            style_function=_constant_style(
                {"color": colour, "weight": 0.6, "fillColor": colour, "fillOpacity": 0.3}
            ),
            interactive=False,
        ).add_to(m)


def _add_footprints(
    m: folium.Map, footprints: gpd.GeoDataFrame, *, max_footprints: int, simplify_m: float
) -> None:
    """Coverage footprints, one non-interactive layer per phase.

    Directional cameras' wedges go one layer per DORI level instead.
    """
    if footprints.empty or max_footprints <= 0:
        return
    if "level" in footprints.columns:
        _add_wedges(m, footprints, max_footprints=max_footprints)
        return
    fp = _phase_footprints(footprints, max_footprints=max_footprints, simplify_m=simplify_m)
    note = " (top-ranked sets only)" if len(footprints) > max_footprints else ""
    for i, phase in enumerate(fp["phase"]):
        colour = phase_colour(phase)
        GeoJson(
            _feature_collection(fp.iloc[[i]]),
            name=f"Coverage footprints, phase {int(phase)}{note}",
            style_function=_constant_style(
                {"color": colour, "weight": 0.8, "fillColor": colour, "fillOpacity": 0.15}
            ),
            interactive=False,
        ).add_to(m)
