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
"""

from __future__ import annotations

import html
import itertools
import json
import logging
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import geopandas as gpd
import numpy as np
import offlinefolium as folium
import pandas as pd
import shapely
from branca.colormap import LinearColormap
from branca.element import Element, Figure
from offlinefolium import plugins
from offlinefolium.template import Template

from maps.export.geojson import geometry_objects
from maps.export.lonlat import WGS84, lonlat, lonlat_bounds
from maps.webmap.elements import GeoJson, HeatMap, LayerControl, VerbatimMacroElement
from planner.plan.result import Plan

__all__ = [
    "DISTRICT_COLOURS",
    "EXCLUSION_COLOUR",
    "OWNER_COLOURS",
    "PHASE_COLOURS",
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

logger = logging.getLogger(__name__)

COORD_DECIMALS = 6
PHASE_COLOURS: tuple[str, ...] = (
    "#d95f02",
    "#1b9e77",
    "#7570b3",
    "#e7298a",
    "#66a61e",
    "#e6ab02",
    "#a6761d",
    "#e41a1c",
)
"""Camera-set colours by phase (ColorBrewer Dark2, reordered); cycled after 8 phases."""
OWNER_COLOURS: tuple[str, ...] = ("#1f78b4", "#b15928", "#4d4d4d", "#33a02c", "#fb9a99", "#ffff99")
"""Existing-camera colours by owner (sorted owner names); cycled after 6 owners."""
DISTRICT_COLOURS: tuple[str, ...] = ("#f7fbff", "#c6dbef", "#6baed6", "#2171b5")
"""District fill from 0 % to 100 % covered share (ColorBrewer Blues)."""
HEAT_GRADIENT: Mapping[float, str] = MappingProxyType(
    {0.2: "#ffffb2", 0.45: "#fecc5c", 0.7: "#fd8d3c", 1.0: "#e31a1c"}
)
"""Demand heat from low to high (ColorBrewer YlOrRd), apart from the district blues."""
HEAT_OPACITY = 0.6
EXCLUSION_COLOUR = "#c00000"
BACKGROUND_COLOUR = "#f2efe9"
"""Map background, visible when base tiles cannot load (a closed network)."""

_LEAFLET_JS = ("leaflet", "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js")
_LEAFLET_CSS = ("leaflet_css", "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css")
"""Keys of offlinefolium's embedded assets: inlined into the page, never fetched."""

_SITE_FIELDS: tuple[tuple[str, str], ...] = (
    ("site_id", "Site"),
    ("rank", "Rank"),
    ("phase", "Phase"),
    ("mount_type", "Mount type"),
    ("marginal_weight", "Marginal weight"),
    ("cumulative_weight", "Cumulative weight"),
    ("cumulative_share", "Cumulative share"),
)
_DISTRICT_FIELDS: tuple[tuple[str, str], ...] = (
    ("district", "District"),
    ("sets", "Sets"),
    ("covered_share", "Covered share"),
    ("sets_per_1000", "Sets per 1,000 residents"),
)


# --------------------------------------------------------------------------- text


def _text(value: Any) -> str:
    """Return ``value`` as HTML-escaped text; missing values become an empty string."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True)


def _number(value: Any) -> str:
    """Format a weight for people: thousands separators, about four significant digits."""
    if value is None or pd.isna(value):
        return ""
    x = float(value)
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 1:
        return f"{x:,.2f}"
    return f"{x:.4g}"


def _percent(value: Any) -> str:
    """Format a share (0..1) as a percentage with one decimal."""
    if value is None or pd.isna(value):
        return ""
    return f"{100 * float(value):.1f} %"


def _integer(value: Any) -> str:
    """Format a count with thousands separators."""
    if value is None or pd.isna(value):
        return ""
    return f"{int(value):,}"


# --------------------------------------------------------------------------- geometry


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


def _phase_colour(phase: int) -> str:
    """The colour of a phase (1-based)."""
    return PHASE_COLOURS[(int(phase) - 1) % len(PHASE_COLOURS)]


def _owner_colours(owners: Sequence[str]) -> dict[str, str]:
    """Colours by owner, in sorted owner order."""
    return dict(zip(sorted(owners), itertools.cycle(OWNER_COLOURS), strict=False))


def district_colormap() -> LinearColormap:
    """The district colour scale: covered share from 0 to 1."""
    return LinearColormap(list(DISTRICT_COLOURS), vmin=0.0, vmax=1.0, caption="Covered share")


# --------------------------------------------------------------------------- layers


def _base_map(*, tiles: str | None, bounds: list[list[float]] | None) -> folium.Map:
    """An empty canvas-rendered map with a scale bar, only Leaflet's own assets embedded."""
    location = (
        [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2] if bounds else None
    )
    m = folium.Map(
        location=location,
        tiles=tiles,
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


def _heat_points(demand: gpd.GeoDataFrame, *, max_points: int) -> np.ndarray:
    """Demand as ``[lat, lon, weight]`` rows with weights normalised to a maximum of 1.

    When there are more than ``max_points`` points, weights are summed on a square grid
    in the metric CRS (cells from 25 m, doubled until few enough) at the weighted centre
    of each cell.
    """
    w = demand["weight"].to_numpy(dtype=float)
    positive = w > 0
    if not positive.any():
        return np.empty((0, 3))
    geoms = demand.geometry.to_numpy()[positive]
    areal = shapely.get_type_id(geoms) != 0  # polygon demand: heat at an interior point
    if areal.any():
        geoms = geoms.copy()
        geoms[areal] = shapely.point_on_surface(geoms[areal])
    xy, w = shapely.get_coordinates(geoms), w[positive]
    if len(xy) == len(geoms):  # all points, none empty: one coordinate pair each, in order
        x, y = xy[:, 0], xy[:, 1]
    else:
        x, y = shapely.get_x(geoms), shapely.get_y(geoms)
    located = np.isfinite(x) & np.isfinite(y)
    if not located.all():
        x, y, w = x[located], y[located], w[located]
    if not len(w):
        return np.empty((0, 3))
    n_points, cell = len(w), 25.0
    while len(w) > max_points:
        summed = _grid_sums(x, y, w, cell_m=cell, max_cells=max_points)
        if summed is not None:
            x, y, w = summed
            logger.info("heat map: %d demand points summed on a %g m grid", n_points, cell)
            break
        cell *= 2
    lon, lat = lonlat(x, y, demand.crs)
    weight = np.round(w / w.max(), 4)
    return np.column_stack([np.round(lat, 5), np.round(lon, 5), weight])


def _grid_sums(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, *, cell_m: float, max_cells: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Weights summed on a square grid of ``cell_m`` metres, at each cell's weighted centre.

    Cells come in (column, row) order; ``None`` when more than ``max_cells`` cells hold weight.
    """
    i, j = np.floor(x / cell_m), np.floor(y / cell_m)
    i0, j0 = i.min(), j.min()
    rows, n_keys = j.max() - j0 + 1, (i.max() - i0 + 1) * (j.max() - j0 + 1)
    if n_keys >= 2.0**62:  # too many cells for one int64 key
        return None
    key = (i - i0).astype(np.int64) * np.int64(rows) + (j - j0).astype(np.int64)
    if n_keys <= _DENSE_KEYS:
        # the cells holding weight, counted on a bitmap of every cell: no sort needed
        # to find that there are too many, and the same cells and sums as np.unique
        held = np.zeros(int(n_keys), dtype=bool)
        held[key] = True
        n_cells = np.count_nonzero(held)
        if n_cells > max_cells:
            return None
        inverse = (np.cumsum(held, dtype=np.int32) - 1)[key]
        n_cells = int(n_cells)
    else:
        cells, inverse = np.unique(key, return_inverse=True)
        n_cells = len(cells)
        if n_cells > max_cells:
            return None
    total = np.bincount(inverse, weights=w, minlength=n_cells)
    wx = np.bincount(inverse, weights=w * x, minlength=n_cells)
    wy = np.bincount(inverse, weights=w * y, minlength=n_cells)
    return wx / total, wy / total, total


_DENSE_KEYS = 1 << 24
"""Grids of at most this many cells are counted on a bitmap (16 MB, and 64 MB of ranks)."""


def _add_heat(m: folium.Map, demand: gpd.GeoDataFrame, *, max_points: int) -> None:
    """Demand as a heat map layer."""
    data = _heat_points(demand, max_points=max_points)
    if not len(data):
        return
    HeatMap(
        data,
        name="Demand (heat map)",
        min_opacity=0.15,
        radius=12,
        blur=10,
        gradient=dict(HEAT_GRADIENT),
        # Leaflet's layer control greys out layers whose maxZoom is below the
        # current zoom; this heat plugin normalises per view, so set it high.
        max_zoom=22,
    ).add_to(m)


def _district_properties(districts: gpd.GeoDataFrame) -> list[dict[str, str]]:
    """Escaped, formatted tooltip values for each district."""
    formats: dict[str, Callable[[Any], str]] = {
        "district": _text,
        "sets": _integer,
        "covered_share": _percent,
        "sets_per_1000": lambda v: "" if pd.isna(v) else f"{float(v):.2f}",
    }
    return _formatted(districts, [c for c, _ in _DISTRICT_FIELDS], formats)


def _formatted(
    frame: pd.DataFrame, columns: Sequence[str], formats: Mapping[str, Callable[[Any], str]]
) -> list[dict[str, str]]:
    """Each row's values of ``columns`` (those present), each through its format, by column."""
    present = [c for c in columns if c in frame.columns]
    texts = [[formats[c](v) for v in frame[c].tolist()] for c in present]
    if not present:
        return [{} for _ in range(len(frame))]
    return [dict(zip(present, row, strict=True)) for row in zip(*texts, strict=True)]


def _add_districts(m: folium.Map, districts: gpd.GeoDataFrame) -> None:
    """Districts shaded by covered share, with tooltips."""
    wgs = _to_wgs84(districts)
    colormap = district_colormap()
    fills = [
        colormap(float(s)) if pd.notna(s) else "#cccccc"
        for s in districts.get("covered_share", pd.Series(np.nan, index=districts.index))
    ]
    data = _feature_collection(wgs, _district_properties(districts))
    style = {f["id"]: fill for f, fill in zip(data["features"], fills, strict=True)}
    fields = [(c, a) for c, a in _DISTRICT_FIELDS if c in data["features"][0]["properties"]]
    layer = GeoJson(
        data,
        name="Districts: covered share",
        style_function=lambda f: {
            "fillColor": style[f["id"]],
            "fillOpacity": 0.5,
            "color": "#555555",
            "weight": 1,
        },
        highlight_function=lambda f: {"weight": 3, "color": "#222222"},
        tooltip=folium.GeoJsonTooltip(
            fields=[c for c, _ in fields],
            aliases=[html.escape(a) for _, a in fields],
            localize=False,
            sticky=True,
        ),
    )
    layer.add_to(m)


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


def _add_footprints(
    m: folium.Map, footprints: gpd.GeoDataFrame, *, max_footprints: int, simplify_m: float
) -> None:
    """Coverage footprints, one non-interactive layer per phase."""
    if footprints.empty or max_footprints <= 0:
        return
    fp = _phase_footprints(footprints, max_footprints=max_footprints, simplify_m=simplify_m)
    note = " (top-ranked sets only)" if len(footprints) > max_footprints else ""
    for i, phase in enumerate(fp["phase"]):
        colour = _phase_colour(phase)
        GeoJson(
            _feature_collection(fp.iloc[[i]]),
            name=f"Coverage footprints, phase {int(phase)}{note}",
            style_function=_constant_style(
                {"color": colour, "weight": 0.8, "fillColor": colour, "fillOpacity": 0.15}
            ),
            interactive=False,
        ).add_to(m)


def _constant_style(style: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """A folium style function returning the same style for every feature."""
    frozen = dict(style)
    return lambda _feature: dict(frozen)


def _site_properties(sites: pd.DataFrame) -> list[dict[str, str]]:
    """Escaped, formatted popup values for each camera set."""
    formats: dict[str, Callable[[Any], str]] = {
        "site_id": _text,
        "rank": _integer,
        "phase": _integer,
        "mount_type": _text,
        "marginal_weight": _number,
        "cumulative_weight": _number,
        "cumulative_share": _percent,
    }
    return _formatted(sites, [c for c, _ in _SITE_FIELDS], formats)


def _add_sites(m: folium.Map, sites: gpd.GeoDataFrame) -> None:
    """Camera sets as circle markers, one layer per phase, with popups."""
    if sites.empty:
        return
    wgs = _to_wgs84(sites)
    fields = [(c, a) for c, a in _SITE_FIELDS if c in sites.columns]
    for phase in sorted(sites["phase"].unique()):
        part = wgs[sites["phase"].to_numpy() == phase]
        colour = _phase_colour(phase)
        GeoJson(
            _feature_collection(part, _site_properties(part)),
            name=f"Camera sets, phase {int(phase)} ({len(part):,})",
            marker=folium.CircleMarker(
                radius=4, color="#ffffff", weight=1, fill=True, fill_color=colour, fill_opacity=1
            ),
            popup=folium.GeoJsonPopup(
                fields=[c for c, _ in fields],
                aliases=[html.escape(a) for _, a in fields],
                localize=False,
            ),
        ).add_to(m)


def _add_existing(m: folium.Map, existing: gpd.GeoDataFrame) -> None:
    """Existing camera sets, one layer per owner."""
    if existing.empty:
        return
    owners = (
        existing["owner"].astype(str)
        if "owner" in existing
        else pd.Series("existing", index=existing.index)
    )
    colours = _owner_colours(list(owners.unique()))
    wgs = _to_wgs84(existing)
    for owner, colour in colours.items():
        part = wgs[(owners == owner).to_numpy()]
        label = _text(owner)
        GeoJson(
            _feature_collection(part, [{"owner": label}] * len(part)),
            name=f"Existing cameras: {label} ({len(part):,})",
            marker=folium.CircleMarker(
                radius=3, color="#222222", weight=1, fill=True, fill_color=colour, fill_opacity=1
            ),
            popup=folium.GeoJsonPopup(fields=["owner"], aliases=["Existing camera, owner"]),
        ).add_to(m)


def _add_exclusions(m: folium.Map, exclusions: gpd.GeoDataFrame) -> None:
    """Privacy exclusion zones: red, dashed outline, light red fill."""
    if exclusions.empty:
        return
    wgs = _to_wgs84(exclusions)
    named = "name" in exclusions.columns
    props = [{"name": _text(v)} for v in exclusions["name"]] if named else None
    GeoJson(
        _feature_collection(wgs, props),
        name="Exclusion zones",
        style_function=_constant_style(
            {
                "color": EXCLUSION_COLOUR,
                "weight": 2,
                "dashArray": "6 4",
                "fillColor": EXCLUSION_COLOUR,
                "fillOpacity": 0.2,
            }
        ),
        tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=["Exclusion zone"])
        if named
        else None,
    ).add_to(m)


def _add_layer_control(m: folium.Map, *, max_open: int = 8) -> None:
    """The layer control: open when it lists at most ``max_open`` overlays, else collapsed."""
    overlays = [c for c in m._children.values() if isinstance(c, folium.map.Layer) and c.overlay]
    LayerControl(collapsed=len(overlays) > max_open).add_to(m)


# --------------------------------------------------------------------------- boxes


class _Box(VerbatimMacroElement):
    """A fixed HTML box on the page: ``body`` must already be escaped HTML."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>{{ this.css }}</style>
        {% endmacro %}
        {% macro html(this, kwargs) %}
        <div class="{{ this.css_class }}">{{ this.body }}</div>
        {% endmacro %}
        """
    )

    def __init__(self, *, css_class: str, css: str, body: str) -> None:
        super().__init__()
        self._name = "Box"
        self.css_class = css_class
        self.css = css
        self.body = body


_BOX_CSS = """
.camplan-title, .camplan-legend {
  position: fixed; z-index: 1000; background: rgba(255,255,255,0.92);
  border-radius: 4px; box-shadow: 0 1px 5px rgba(0,0,0,0.4);
  font: 13px/1.35 "Helvetica Neue", Arial, Helvetica, sans-serif; color: #222;
}
.camplan-title { top: 10px; left: 60px; max-width: 45%; padding: 6px 10px; }
.camplan-title h1 { font-size: 16px; margin: 0 0 2px 0; }
.camplan-legend { bottom: 30px; right: 10px; padding: 6px 10px; max-width: 260px; }
.camplan-legend h2 { font-size: 13px; margin: 4px 0 2px 0; }
.camplan-legend .sw { display: inline-block; width: 11px; height: 11px; margin-right: 5px;
  vertical-align: middle; border: 1px solid #555; }
.camplan-legend .dot { border-radius: 50%; }
.camplan-legend .bar { height: 10px; border: 1px solid #555; }
.camplan-legend .ticks { display: flex; justify-content: space-between; font-size: 11px; }
"""


def _title_html(plan: Plan) -> str:
    """The title box: the plan title and a one-line summary (escaped)."""
    n_phases = int(plan.sites["phase"].nunique()) if plan.n_sets else 0
    ub = plan.certificate.upper_bound
    if plan.certificate.proven_optimal:
        proof = " · proven optimal"
    elif ub:
        proof = f" · at least {100 * plan.covered_weight / ub:.1f} % of the best possible"
    else:
        proof = ""
    summary = (
        f"{plan.n_sets:,} camera sets in {n_phases} phase{'s' if n_phases != 1 else ''}"
        f" · {100 * plan.coverage_share:.1f} % of demand covered{proof}"
        f" · reach {plan.radius_m:g} m"
    )
    return f"<h1>{_text(plan.title)}</h1><div>{html.escape(summary)}</div>"


def _swatch(colour: str, label: str, *, dot: bool) -> str:
    """One legend row; ``label`` must already be escaped."""
    cls = "sw dot" if dot else "sw"
    return f'<div><span class="{cls}" style="background:{colour}"></span>{label}</div>'


def _legend_html(plan: Plan) -> str:
    """The legend: phase colours, owner colours, district scale, exclusion zones."""
    parts: list[str] = []
    if plan.n_sets:
        parts.append("<h2>Camera sets by phase</h2>")
        parts += [
            _swatch(_phase_colour(p), f"Phase {int(p)}", dot=True)
            for p in sorted(plan.sites["phase"].unique())
        ]
    if plan.existing is not None and len(plan.existing) and "owner" in plan.existing:
        parts.append("<h2>Existing cameras by owner</h2>")
        owners = _owner_colours(list(plan.existing["owner"].astype(str).unique()))
        parts += [_swatch(c, _text(o), dot=True) for o, c in owners.items()]
    if plan.districts is not None and len(plan.districts):
        gradient = ", ".join(DISTRICT_COLOURS)
        parts.append("<h2>District covered share</h2>")
        parts.append(f'<div class="bar" style="background:linear-gradient(to right, {gradient})">')
        parts.append(
            "</div><div class='ticks'><span>0 %</span><span>50 %</span><span>100 %</span></div>"
        )
    if plan.exclusions is not None and len(plan.exclusions):
        parts.append(_swatch(EXCLUSION_COLOUR, "Exclusion zone", dot=False))
    return "".join(parts)


def _add_boxes(m: folium.Map, plan: Plan) -> None:
    """Title box, legend, page title and the background shown without tiles."""
    css = (
        _BOX_CSS
        + f".folium-map.leaflet-container {{ background: {BACKGROUND_COLOUR}; }}\n"
        + f".leaflet-heatmap-layer {{ opacity: {HEAT_OPACITY}; }}\n"
    )
    m.get_root().add_child(_Box(css_class="camplan-title", css=css, body=_title_html(plan)))
    m.get_root().add_child(_Box(css_class="camplan-legend", css="", body=_legend_html(plan)))
    figure = m.get_root()
    if isinstance(figure, Figure):
        figure.title = _text(plan.title)


# --------------------------------------------------------------------------- ids


def _walk(element: Element) -> Iterator[Element]:
    """Every element of the tree, parents before children, in insertion order."""
    yield element
    for child in element._children.values():
        yield from _walk(child)


def _deterministic_ids(root: Element) -> None:
    """Replace folium's random element ids by a counter in tree order."""
    for i, element in enumerate(_walk(root)):
        element._id = f"{i:05d}"


# --------------------------------------------------------------------------- API


def plan_map(
    plan: Plan,
    *,
    tiles: str | None = "OpenStreetMap",
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
        Base tiles (a folium/xyzservices name or URL template), or ``None`` for none.
        When tiles cannot load the layers show on a plain light background.
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
    m = _base_map(tiles=tiles, bounds=bounds)
    if plan.districts is not None and len(plan.districts):
        _add_districts(m, plan.districts)
    _add_heat(m, plan.demand, max_points=max_heat_points)
    if plan.exclusions is not None:
        _add_exclusions(m, plan.exclusions)
    _add_footprints(m, plan.footprints, max_footprints=max_footprints, simplify_m=simplify_m)
    if plan.existing is not None:
        _add_existing(m, plan.existing)
    _add_sites(m, plan.sites)
    plugins.Fullscreen(position="topleft").add_to(m)
    _add_layer_control(m)
    _add_boxes(m, plan)
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
