"""Candidate sites from typed mount inventories, with a grid filling the gaps between them.

A city's possible camera mounts come from several registers at once (smart
lampposts, police stations, post offices, footbridges, ...): each becomes a
:class:`Inventory` with its ``mount_type`` and an optional cost per mount.
:func:`mounts_from_inventories` merges them into one candidate layer, where

* a polygon (a building used as a mount) gives one mounting point, on it;
* with a ``buildings`` layer, the points on or inside one building give one
  mounting point (the first of them in inventory order): one building, one mount;
* an optional :class:`GridFill` adds lattice sites (a lamppost grid) where no
  inventory mount lies within ``gap_m``, optionally only within ``near_m`` of
  given points (the populated land);
* with an ``area``, sites outside it (at sea) are dropped.

Distances are metres; every layer is in one projected CRS.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.errors import LayerError, OptionError
from planner.sites.candidates import clip_to_area, grid_lattice

__all__ = ["GridFill", "Inventory", "mounts_from_inventories"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Inventory:
    """One register of mounts of one type.

    Attributes
    ----------
    layer
        Points (mounts) or polygons (buildings used as mounts: one point each).
    mount_type
        What the mounts are ("smart lamppost", "police station", ...).
    cost
        Cost of one mount of this type (optional; then every inventory and the
        grid need one).
    id_column
        Column naming each mount; default the row number. Site ids are
        ``"{mount_type}:{id}"``.
    source
        The file, for messages.
    """

    layer: gpd.GeoDataFrame
    mount_type: str
    cost: float | None = None
    id_column: str | None = None
    source: str = "inventory"


@dataclass(frozen=True)
class GridFill:
    """A lattice of sites (a lamppost grid) where no inventory mount is near.

    Attributes
    ----------
    spacing_m
        Lattice spacing, metres.
    mount_type
        The grid sites' type (default ``"lamppost grid"``).
    cost
        Cost of one grid site (optional).
    gap_m
        Grid sites within this distance of an inventory mount are dropped
        (default 0: keep every grid site).
    near
        Points (the populated demand); with ``near_m``, only grid sites within
        ``near_m`` of one of them are kept.
    near_m
        See ``near``; default: keep every grid site.
    """

    spacing_m: float
    mount_type: str = "lamppost grid"
    cost: float | None = None
    gap_m: float = 0.0
    near: np.ndarray | None = None
    near_m: float | None = None

    def check(self) -> None:
        """Raise :class:`OptionError` for an impossible value."""
        if not (np.isfinite(self.spacing_m) and self.spacing_m > 0):
            raise OptionError("[candidates.fill] spacing",
                              f"must be a positive number of metres, got {self.spacing_m!r}")
        if not (np.isfinite(self.gap_m) and self.gap_m >= 0):
            raise OptionError("[candidates.fill] gap", f"must be >= 0 metres, got {self.gap_m!r}")
        if self.near_m is not None and not (np.isfinite(self.near_m) and self.near_m > 0):
            raise OptionError("[candidates.fill] near",
                              f"must be a positive number of metres, got {self.near_m!r}")


def _slug(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_") or "mount"


def _inventory_points(inv: Inventory) -> gpd.GeoDataFrame:
    """One mounting point per feature: points stay, polygons give a point on them."""
    geoms = np.asarray(inv.layer.geometry.array)
    kind = shapely.get_type_id(geoms)
    bad = ~np.isin(kind, [0, 3, 6])
    if bad.any():
        raise LayerError(inv.source, f"mounts must be points or polygons (buildings); "
                                     f"{int(bad.sum())} features are neither")
    points = np.where(kind == 0, geoms, shapely.point_on_surface(geoms))
    if inv.id_column is not None:
        if inv.id_column not in inv.layer.columns:
            raise LayerError(inv.source, f"has no id column {inv.id_column!r}; columns are "
                                         f"{', '.join(map(str, inv.layer.columns))}")
        ids = inv.layer[inv.id_column].astype(str).to_numpy()
    else:
        ids = np.arange(1, len(geoms) + 1).astype(str)
    site_ids = np.char.add(f"{_slug(inv.mount_type)}:", ids.astype(str))
    frame = {"site_id": site_ids, "mount_type": inv.mount_type}
    if inv.cost is not None:
        frame["cost"] = float(inv.cost)
    return gpd.GeoDataFrame(frame, geometry=points, crs=inv.layer.crs)


def _one_per_building(sites: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Keep the first site on or inside each building; sites outside every building stay."""
    tree = shapely.STRtree(np.asarray(buildings.geometry.array))
    site_idx, building_idx = tree.query(np.asarray(sites.geometry.array), predicate="intersects")
    # A site on the shared wall of two buildings belongs to the first of them.
    first_building = pd.Series(building_idx).groupby(site_idx).min()
    owner = np.full(len(sites), -1, dtype=np.int64)
    owner[first_building.index.to_numpy()] = first_building.to_numpy()
    keep = owner < 0
    on = np.flatnonzero(~keep)
    _, first = np.unique(owner[on], return_index=True)
    keep[on[first]] = True
    logger.info("candidates: %d mounts on or in %d buildings give one each; %d merged away",
                len(on), len(first), int((~keep).sum()))
    return sites[keep].reset_index(drop=True)


def _fill(grid: GridFill, area: gpd.GeoDataFrame, mounts: np.ndarray) -> gpd.GeoDataFrame:
    grid.check()
    # Cheap filters first (lattice arithmetic near people, a tree of mounts), land mask last.
    near = None
    if grid.near is not None and grid.near_m is not None:
        near = shapely.get_coordinates(grid.near)
    sites = grid_lattice(area, spacing_m=grid.spacing_m, near=near,
                         near_m=grid.near_m or 0.0)
    n_lattice = len(sites)
    if grid.gap_m > 0 and len(mounts) and len(sites):
        _, near_mount = shapely.STRtree(np.asarray(sites.geometry.array)).query(
            mounts, predicate="dwithin", distance=grid.gap_m)
        keep = np.ones(len(sites), dtype=bool)
        keep[near_mount] = False
        sites = sites[keep].reset_index(drop=True)
    sites = clip_to_area(sites, area)
    sites["mount_type"] = grid.mount_type
    if grid.cost is not None:
        sites["cost"] = float(grid.cost)
    logger.info("candidates: %d of %d lattice sites of %g m (near people) fill the gaps",
                len(sites), n_lattice, grid.spacing_m)
    return sites


def _registers(inventories: Sequence[Inventory], area: gpd.GeoDataFrame | None,
               buildings: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """The registers' mounts in one layer: unique ids, one per building, on the area."""
    parts = [_inventory_points(inv) for inv in inventories]
    sites = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs)
    dup = sites["site_id"].duplicated(keep=False)
    if dup.any():
        raise LayerError("[candidates] inventory",
                         f"site ids repeat: {', '.join(sites['site_id'][dup].unique()[:5])}; "
                         "give each inventory an id_column with unique values")
    if buildings is not None:
        sites = _one_per_building(sites, buildings)
    return sites if area is None else clip_to_area(sites, area)


def mounts_from_inventories(
    inventories: Sequence[Inventory],
    *,
    area: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    fill: GridFill | None = None,
) -> gpd.GeoDataFrame:
    """Merge typed inventories (and a grid filling the gaps) into one candidate layer.

    Parameters
    ----------
    inventories
        The registers, in priority order (the first wins inside a building).
    area
        Study area (a land mask): sites outside are dropped; needed by ``fill``.
    buildings
        Building polygons: the mounts on or inside one building give one point.
    fill
        A grid of sites where no inventory mount is within ``fill.gap_m``.

    Returns
    -------
    geopandas.GeoDataFrame
        ``site_id`` (unique), ``mount_type`` and, when costs are given, ``cost``.

    Raises
    ------
    OptionError
        When only some inventories (or the grid) have a cost, or nothing is given.
    LayerError
        When ids repeat within an inventory, or a layer holds lines.
    """
    costed = [inv.cost is not None for inv in inventories]
    if fill is not None:
        costed.append(fill.cost is not None)
    if not costed:
        raise OptionError("[candidates]", "give at least one inventory or a fill grid")
    if any(costed) and not all(costed):
        raise OptionError("[candidates] cost", "give every mount type a cost, or none")
    sites = _registers(inventories, area, buildings) if inventories else None
    if fill is not None:
        if area is None:
            raise OptionError("[candidates.fill]", "a fill grid needs a study area (area)")
        mounts = np.asarray(sites.geometry.array) if sites is not None else np.empty(0, object)
        grid = _fill(fill, area, mounts)
        sites = grid if sites is None else gpd.GeoDataFrame(
            pd.concat([sites, grid], ignore_index=True), crs=sites.crs)
    counts = sites["mount_type"].value_counts(sort=False)
    logger.info("candidates: %d sites (%s)", len(sites),
                ", ".join(f"{k} {v}" for k, v in counts.items()))
    return sites
