"""The interactive map of a plan: one self-contained, offline HTML file.

The map is built with :mod:`offlinefolium` (PyPI ``folium-offline``), a fork of
folium that embeds Leaflet and its plugins in the page, so ``map.html`` opens
on a closed network. Only the base tiles come from a server, and they are
optional: without them the vector layers show on a plain light background.

Everything is reprojected to EPSG:4326 here, at the output boundary. Every
piece of text taken from the inputs (site ids, district and owner names,
attributes, the title) is HTML-escaped before it enters the page, because
Leaflet and folium's GeoJSON popups, tooltips and layer control insert text as
HTML.

Layers, each an overlay in the layer control:

- demand as a heat map (weights normalised to a maximum of 1);
- districts shaded by covered share, with tooltips (when the plan has districts);
- coverage footprints dissolved into one shape per phase (light fill in the phase colour);
- camera sets, one layer per phase, with popups;
- existing cameras, one layer per owner (when present);
- exclusion zones (when present).

For scale (7,000 sets and more) every layer is one GeoJSON feature collection
drawn on a canvas (``prefer_canvas``) as circle markers, not thousands of
separate folium objects; footprints are simplified in the metric CRS and all
coordinates are rounded to 6 decimals (about 0.1 m). For a million demand
points, the map's extent comes from a few reprojected points
(:func:`maps.lonlat.lonlat_bounds`, the same numbers as reprojecting all), and
the layers' data are rendered into the page once (:mod:`maps.elements`).

The work is split by task: :mod:`~maps.webmap.colours`, :mod:`~maps.webmap.text`,
:mod:`~maps.webmap.base` (base map, bounds, GeoJSON, ids), :mod:`~maps.webmap.heat`,
:mod:`~maps.webmap.footprints`, :mod:`~maps.webmap.layers` (districts, sites, existing
cameras, exclusions) and :mod:`~maps.webmap.boxes` (title and legend); this module
puts them together.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import offlinefolium as folium
from offlinefolium import plugins

from maps.export.lonlat import WGS84
from maps.webmap.base import (
    COORD_DECIMALS,
    _add_layer_control,
    _base_map,
    _bounds,
    _deterministic_ids,
    _feature_collection,
)
from maps.webmap.boxes import _add_boxes
from maps.webmap.cells import add_sets
from maps.webmap.colours import (
    BACKGROUND_COLOUR,
    DISTRICT_COLOURS,
    EXCLUSION_COLOUR,
    OWNER_COLOURS,
    PHASE_COLOURS,
    WATER_COLOUR,
    district_colormap,
)
from maps.webmap.footprints import _add_footprints
from maps.webmap.heat import _add_heat
from maps.webmap.land import BaseLayers, add_base_layers
from maps.webmap.layers import _add_districts, _add_exclusions, _add_existing, _add_sites
from maps.webmap.text import _text
from maps.webmap.tiles import DEFAULT_TILES, Tiles
from planner.plan.result import Plan

__all__ = [
    "BACKGROUND_COLOUR",
    "COORD_DECIMALS",
    "DISTRICT_COLOURS",
    "EXCLUSION_COLOUR",
    "OWNER_COLOURS",
    "PHASE_COLOURS",
    "WGS84",
    "add_layer_control",
    "base_map",
    "deterministic_ids",
    "district_colormap",
    "escape_text",
    "feature_collection",
    "plan_map",
    "render_map",
    "save_map",
]


def plan_map(
    plan: Plan,
    *,
    tiles: Tiles | str | None = DEFAULT_TILES,
    base: BaseLayers | None = None,
    max_footprints: int = 20_000,
    max_heat_points: int = 50_000,
    simplify_m: float = 1.0,
) -> folium.Map:
    """Build the interactive map of a plan.

    Parameters
    ----------
    plan
        The plan; its layers are in a metric CRS and are reprojected to EPSG:4326 here.
    tiles
        Base tiles: a :class:`~maps.webmap.tiles.Tiles` (URL template and attribution,
        see :func:`~maps.webmap.tiles.tiles_from`), a provider name, or ``None`` for
        none. When tiles cannot load the layers show on a plain light background.
        Without tiles the background is water and the land is drawn (the districts
        or the study area), with the streets and buildings of ``base``.
    base
        Context layers for a map without tiles: land (clips the drawn land),
        streets, buildings. Ignored when the map has tiles.
    max_footprints
        Draw coverage footprints for at most this many sets (the top-ranked ones);
        0 leaves the footprint layers out.
    max_heat_points
        Above this many demand points, weights are summed on a grid (metres) for the
        heat map, so that the page stays small.
    simplify_m
        Tolerance, in metres, for simplifying footprint polygons.

    Returns
    -------
    offlinefolium.Map
        The map with a layer control, legend, title box, scale bar and full-screen
        button, fitted to the data. Element ids are deterministic.
    """
    bounds = _bounds([plan.sites, plan.districts, plan.demand, plan.existing])
    tiles = tiles if isinstance(tiles, Tiles) else Tiles(url=tiles)
    m = _base_map(tiles=tiles.url, bounds=bounds, attr=tiles.attr())
    if tiles.url is None:
        add_base_layers(m, plan, base or BaseLayers())
    if plan.districts is not None and len(plan.districts):
        _add_districts(m, plan.districts)
    _add_heat(m, plan.demand, max_points=max_heat_points)
    if plan.exclusions is not None:
        _add_exclusions(m, plan.exclusions)
    _add_footprints(m, plan.footprints, max_footprints=max_footprints, simplify_m=simplify_m)
    if plan.existing is not None:
        _add_existing(m, plan.existing)
    add_sets(m, plan.sites, _add_sites)  # per grid cell above MAX_SITE_MARKERS sets
    plugins.Fullscreen(position="topleft").add_to(m)
    _add_layer_control(m)
    _add_boxes(m, plan, background=BACKGROUND_COLOUR if tiles.url else WATER_COLOUR)
    if bounds is not None:
        m.fit_bounds(bounds, padding=(20, 20))
    _deterministic_ids(m.get_root())
    return m


# Public names of the helpers other maps reuse (maps.compare's map), one implementation.
escape_text = _text
feature_collection = _feature_collection
base_map = _base_map
add_layer_control = _add_layer_control
deterministic_ids = _deterministic_ids


def render_map(m: folium.Map) -> str:
    """Render a map to the complete, self-contained HTML page."""
    return m.get_root().render()


def save_map(plan: Plan, path: str | Path, **kwargs: Any) -> Path:
    """Write the plan's map to ``path`` as one self-contained HTML file.

    Parameters
    ----------
    plan
        The plan to draw.
    path
        The file to write (UTF-8). The same plan gives the same bytes.
    **kwargs
        Keyword options of :func:`plan_map`.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    page = render_map(plan_map(plan, **kwargs))
    path.write_text(page, encoding="utf-8", newline="\n")
    return path
