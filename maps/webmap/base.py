"""The base map and the GeoJSON plumbing every layer shares: EPSG:4326, bounds, ids."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import offlinefolium as folium
import shapely
from branca.element import Element

from maps.export.geojson import geometry_objects
from maps.export.lonlat import WGS84, lonlat_bounds
from maps.webmap.elements import LayerControl

COORD_DECIMALS = 6

_LEAFLET_JS = ("leaflet", "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js")
_LEAFLET_CSS = ("leaflet_css", "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css")
"""Keys of offlinefolium's embedded assets: inlined into the page, never fetched."""


def _to_wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Reproject to EPSG:4326 and round coordinates to 6 decimals (about 0.1 m)."""
    out = gdf.to_crs(WGS84)
    geoms = shapely.transform(out.geometry.to_numpy(), lambda xy: np.round(xy, COORD_DECIMALS))
    return out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=WGS84))


def _feature_collection(
    gdf: gpd.GeoDataFrame, properties: Sequence[Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """Build a GeoJSON FeatureCollection with integer ids and the given properties.

    Parameters
    ----------
    gdf
        Features in EPSG:4326.
    properties
        One mapping per row (already escaped text), or ``None`` for no properties.
    """
    geometries = geometry_objects(
        gdf.geometry.to_numpy(), round_values=None, other=_geojson, tuples=True
    )
    props: Sequence[Mapping[str, Any]] = properties or [{}] * len(gdf)
    features = [
        {"type": "Feature", "id": i, "properties": dict(p), "geometry": g}
        for i, (g, p) in enumerate(zip(geometries, props, strict=True))
    ]
    return {"type": "FeatureCollection", "features": features}


def _geojson(geom: shapely.Geometry) -> dict[str, Any]:
    """The GeoJSON object of one geometry, as GEOS writes it."""
    return json.loads(shapely.to_geojson(geom))


def _bounds(layers: Sequence[gpd.GeoDataFrame | None]) -> list[list[float]] | None:
    """Return ``[[south, west], [north, east]]`` in EPSG:4326 over the given layers.

    The bounds of every vertex reprojected: what ``to_crs(...).total_bounds`` gives,
    without reprojecting each of a million demand points (see :func:`lonlat_bounds`).
    """
    boxes = []
    for gdf in layers:
        if gdf is None or not len(gdf):
            continue
        xy = shapely.get_coordinates(gdf.geometry.to_numpy())
        box = lonlat_bounds(xy[:, 0], xy[:, 1], gdf.crs)
        if box is not None:
            boxes.append(box)
    if not boxes:
        return None
    arr = np.array(boxes)
    west, south = arr[:, 0].min(), arr[:, 1].min()
    east, north = arr[:, 2].max(), arr[:, 3].max()
    return [[float(south), float(west)], [float(north), float(east)]]


def _base_map(
    *, tiles: str | None, bounds: list[list[float]] | None, attr: str | None = None
) -> folium.Map:
    """An empty canvas-rendered map with a scale bar, only Leaflet's own assets embedded.

    ``tiles`` is a provider name or URL template (``attr`` its attribution), or ``None``.
    """
    location = (
        [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2] if bounds else None
    )
    m = folium.Map(
        location=location,
        tiles=tiles,
        attr=attr,
        prefer_canvas=True,
        control_scale=True,
        zoom_start=12,
        zoom_snap=0.25,
    )
    # jQuery, Bootstrap, Font Awesome and glyphicons are unused here; their CSS also
    # points at font files that are not embedded. Keep Leaflet only (instance lists,
    # the class defaults stay untouched).
    m.default_js = [_LEAFLET_JS]
    m.default_css = [_LEAFLET_CSS]
    return m


def _constant_style(style: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """A folium style function returning the same style for every feature."""
    frozen = dict(style)
    return lambda _feature: dict(frozen)


def _add_layer_control(m: folium.Map, *, max_open: int = 8) -> None:
    """The layer control: open when it lists at most ``max_open`` overlays, else collapsed."""
    overlays = [c for c in m._children.values() if isinstance(c, folium.map.Layer) and c.overlay]
    LayerControl(collapsed=len(overlays) > max_open).add_to(m)


def _walk(element: Element) -> Iterator[Element]:
    """Every element of the tree, parents before children, in insertion order."""
    yield element
    for child in element._children.values():
        yield from _walk(child)


def _deterministic_ids(root: Element) -> None:
    """Replace folium's random element ids by a counter in tree order."""
    for i, element in enumerate(_walk(root)):
        element._id = f"{i:05d}"
