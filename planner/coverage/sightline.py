"""Line-of-sight coverage: a site sees a demand point within reach unless a building is between.

For every (site, demand point) pair within the reach (an STRtree query, as
for the disc model) the straight segment between them is built at once with
:func:`shapely.linestrings`, and one STRtree ``intersects`` query over the
building footprints finds every blocked segment: no Python loop over pairs.

Buildings are shrunk by ``wall_tolerance_m`` (default 0.5 m) first, so a
camera mounted on a wall, or a sight line grazing a corner, is not blocked
by the wall it touches. A demand point inside a building is not seen.

The footprint of a set (for the map) is its visible region: rays every
``360 / rays`` degrees, each cut at the first building it meets.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely
from scipy import sparse

from geodata.errors import OptionError
from planner.coverage.disc import DecayBands, coverage_matrix

__all__ = ["SightlineModel", "blocked_pairs", "obstacles", "visible_footprints"]

logger = logging.getLogger(__name__)

#: Pairs tested per STRtree query, bounding the memory of one batch.
BATCH_PAIRS = 500_000


def obstacles(buildings: gpd.GeoDataFrame | np.ndarray, *, wall_tolerance_m: float = 0.5
              ) -> np.ndarray:
    """Building polygons shrunk by ``wall_tolerance_m`` metres (empties dropped)."""
    if isinstance(buildings, gpd.GeoDataFrame):
        buildings = buildings.geometry.array
    geoms = np.asarray(buildings, dtype=object)
    if wall_tolerance_m < 0:
        raise OptionError("wall_tolerance", f"must be >= 0 metres, got {wall_tolerance_m}")
    if wall_tolerance_m > 0:
        geoms = shapely.buffer(geoms, -wall_tolerance_m, join_style="mitre")
    return geoms[~shapely.is_empty(geoms) & ~shapely.is_missing(geoms)]


def blocked_pairs(
    start_xy: np.ndarray, end_xy: np.ndarray, tree: shapely.STRtree
) -> np.ndarray:
    """Boolean per pair: whether the segment ``start -> end`` crosses an obstacle of ``tree``."""
    k = len(start_xy)
    blocked = np.zeros(k, dtype=bool)
    for lo in range(0, k, BATCH_PAIRS):
        hi = min(k, lo + BATCH_PAIRS)
        coords = np.stack([start_xy[lo:hi], end_xy[lo:hi]], axis=1)
        segments = shapely.linestrings(coords)
        hit, _ = tree.query(segments, predicate="intersects")
        blocked[lo + np.unique(hit)] = True
    return blocked


def visible_footprints(
    sites: np.ndarray, radius_m: float, tree: shapely.STRtree, *, rays: int = 120
) -> np.ndarray:
    """The region each site sees: a star polygon of ``rays`` rays cut at the first obstacle."""
    sites = np.asarray(sites)
    m = len(sites)
    if m == 0:
        return np.empty(0, dtype=object)
    xy = shapely.get_coordinates(sites)
    angle = np.linspace(0.0, 2 * np.pi, rays, endpoint=False)
    direction = np.column_stack([np.cos(angle), np.sin(angle)])
    start = np.repeat(xy, rays, axis=0)
    end = start + np.tile(direction, (m, 1)) * radius_m
    ray_lines = shapely.linestrings(np.stack([start, end], axis=1))
    reach = np.full(m * rays, float(radius_m))
    ray_idx, obs_idx = tree.query(ray_lines, predicate="intersects")
    if len(ray_idx):
        obstacles_ = tree.geometries
        hits = shapely.intersection(ray_lines[ray_idx], obstacles_[obs_idx])
        dist = shapely.distance(shapely.points(start[ray_idx]), hits)
        np.minimum.at(reach, ray_idx, dist)
    reach = np.maximum(reach, min(0.5, radius_m / 100))
    ring = start + np.tile(direction, (m, 1)) * reach[:, None]
    ring = ring.reshape(m, rays, 2)
    ring = np.concatenate([ring, ring[:, :1]], axis=1)
    return shapely.polygons(ring)


@dataclass(frozen=True)
class SightlineModel:
    """The disc model, where a building between site and point blocks the view.

    Attributes
    ----------
    buildings
        Building footprints (polygons) in the working metric CRS.
    wall_tolerance_m
        Buildings are shrunk by this many metres (default 0.5) so a wall
        mount or a line grazing a corner is not blocked.
    rays
        Rays per footprint polygon on the map (default 120, every 3 degrees).
    """

    buildings: np.ndarray
    wall_tolerance_m: float = 0.5
    rays: int = 120
    name: str = "sightline"
    _tree: shapely.STRtree = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Shrink the buildings by the wall tolerance and index them once."""
        obs = obstacles(np.asarray(self.buildings, dtype=object),
                        wall_tolerance_m=self.wall_tolerance_m)
        object.__setattr__(self, "_tree", shapely.STRtree(obs))

    def matrix(
        self, demand: np.ndarray, sites: np.ndarray, radius_m: float, *,
        bands: DecayBands | None = None,
    ) -> sparse.csc_array:
        """Disc coverage with every pair whose sight line crosses a building removed."""
        disc = coverage_matrix(demand, sites, radius_m, bands=bands).tocoo()
        demand_xy = shapely.get_coordinates(np.asarray(demand))
        site_xy = shapely.get_coordinates(np.asarray(sites))
        blocked = blocked_pairs(site_xy[disc.col], demand_xy[disc.row], self._tree)
        keep = ~blocked
        logger.info("sightline: %d of %d pairs blocked by buildings", int(blocked.sum()),
                    len(blocked))
        out = sparse.csc_array((disc.data[keep], (disc.row[keep], disc.col[keep])),
                               shape=disc.shape)
        out.sort_indices()
        return out

    def footprints(self, sites: np.ndarray, radius_m: float) -> np.ndarray:
        """The visible region of each site (the disc cut by building shadows)."""
        return visible_footprints(sites, radius_m, self._tree, rays=self.rays)
