"""A light base layer for maps without tiles: the land, streets and buildings.

On a closed network with no tile server (``--tiles none``) the plan would show
as circles on a blank page with district outlines running out to sea. Instead
the page background becomes water and the land is drawn (the districts, or the
study area around demand and sites, clipped to a land layer when one is given),
with streets and buildings where given, so that the map still reads as a city.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import offlinefolium as folium
import shapely

from maps.webmap.base import _constant_style, _feature_collection, _to_wgs84
from maps.webmap.colours import (
    BUILDING_COLOUR,
    LAND_COLOUR,
    STREET_CASING_COLOUR,
    STREET_COLOUR,
)
from maps.webmap.elements import GeoJson
from planner.plan.result import Plan

__all__ = ["BaseLayers", "add_base_layers", "land_shape"]

logger = logging.getLogger(__name__)

SIMPLIFY_M = 2.0
"""Tolerance, in metres, for simplifying the base layers (they are background)."""


@dataclass(frozen=True)
class BaseLayers:
    """Context layers drawn under the plan when the map has no tiles.

    Attributes
    ----------
    land
        Land or study-area polygons; the drawn land is clipped to them.
    streets
        Street lines.
    buildings
        Building polygons.
    """

    land: gpd.GeoDataFrame | None = None
    streets: gpd.GeoDataFrame | None = None
    buildings: gpd.GeoDataFrame | None = None


def land_shape(plan: Plan, land: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """The land to draw, in the plan's CRS: one (multi)polygon.

    The union of the districts when the plan has them, else the study area (the
    convex hull of demand and sites, widened by the reach); clipped to ``land``
    when given.
    """
    if plan.districts is not None and len(plan.districts):
        area = shapely.union_all(plan.districts.to_crs(plan.crs).geometry.to_numpy())
    else:
        parts = [g.to_crs(plan.crs).geometry.to_numpy() for g in (plan.demand, plan.sites)
                 if g is not None and len(g)]
        points = shapely.get_coordinates(np.concatenate(parts)) if parts else np.empty((0, 2))
        hull = shapely.convex_hull(shapely.multipoints(points)) if len(points) else None
        area = shapely.buffer(hull, plan.radius_m) if hull is not None else shapely.Polygon()
    if land is not None and len(land):
        area = shapely.intersection(area, shapely.union_all(land.to_crs(plan.crs).geometry.array))
    return gpd.GeoDataFrame(geometry=[area], crs=plan.crs)


def _simplified(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    geoms = shapely.simplify(gdf.geometry.to_numpy(), SIMPLIFY_M, preserve_topology=True)
    keep = ~shapely.is_empty(geoms)
    return _to_wgs84(gpd.GeoDataFrame(geometry=geoms[keep], crs=gdf.crs))


def _add(m: folium.Map, gdf: gpd.GeoDataFrame, name: str, style: dict[str, object]) -> None:
    GeoJson(_feature_collection(_simplified(gdf)), name=name,
            style_function=_constant_style(style), interactive=False).add_to(m)


def add_base_layers(m: folium.Map, plan: Plan, base: BaseLayers) -> None:
    """Draw the land, then buildings, then streets (each a non-interactive overlay)."""
    _add(m, land_shape(plan, base.land), "Land",
         {"color": STREET_CASING_COLOUR, "weight": 0.8, "fillColor": LAND_COLOUR,
          "fillOpacity": 1.0})
    if base.buildings is not None and len(base.buildings):
        logger.info("map: %d buildings in the base layer", len(base.buildings))
        _add(m, base.buildings.to_crs(plan.crs), "Buildings",
             {"stroke": False, "fillColor": BUILDING_COLOUR, "fillOpacity": 1.0})
    if base.streets is not None and len(base.streets):
        _add(m, base.streets.to_crs(plan.crs), "Streets",
             {"color": STREET_COLOUR, "weight": 2.5, "opacity": 1.0})
