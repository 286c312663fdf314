"""The interactive map, tested on the rendered HTML (as geopandas' test_explore does)."""

from __future__ import annotations

import dataclasses
import html
import json
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from branca.element import Element, MacroElement
from offlinefolium import plugins
from shapely.geometry import Polygon, shape

from maps.webmap import base, heat
from maps.webmap import layers as webmap_layers
from maps.webmap import text as webmap_text
from maps.webmap.base import _bounds
from maps.webmap.colours import PHASE_COLOURS
from maps.webmap.elements import HeatMap, TextElement, VerbatimMacroElement
from maps.webmap.footprints import _convex, _phase_footprints, _simplify
from maps.webmap.heat import _grid_sums, _heat_points
from maps.webmap.map import plan_map, render_map, save_map
from planner.plan.result import Plan

HOSTILE = "<script>alert(1)</script>"  # as in conftest.small_plan

SCRIPT_OR_LINK = re.compile(r"<(?:script|link|img|iframe)\b[^>]*>", re.IGNORECASE)
REMOTE = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)
CSS_REMOTE = re.compile(
    r"""(?:url\(\s*["']?\s*(?:https?:)?//|@import\s+["']?(?:url\()?\s*https?:)"""
)
DATA_CALL = re.compile(r"^\s*(geo_json_\w+)_add\((\{.*\})\);\s*$", re.MULTILINE)
HEAT_CALL = re.compile(r"L\.heatLayer\(\s*(\[.*?\]),\s*\{", re.DOTALL)
CONTROL_ENTRY = re.compile(r'^\s*"((?:[^"\\]|\\.)*)" : (\w+),\s*$', re.MULTILINE)


def js_escaped(text: str) -> str:
    """``text`` as folium's ``tojson`` writes it inside the page (HTML-safe JSON)."""
    return (
        json.dumps(text)[1:-1]
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("'", "\\u0027")
    )


def layers(page: str) -> dict[str, dict[str, Any]]:
    """GeoJSON feature collections of the page, by layer-control name."""
    data = {name: json.loads(body) for name, body in DATA_CALL.findall(page)}
    names = {var: json.loads(f'"{label}"') for label, var in CONTROL_ENTRY.findall(page)}
    return {names[var]: fc for var, fc in data.items()}


def site_layers(page: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in layers(page).items() if k.startswith("Camera sets")}


@pytest.fixture
def page(small_plan: Plan) -> str:
    return render_map(plan_map(small_plan, tiles=None))


def test_offline_no_remote_scripts_or_styles(small_plan: Plan) -> None:
    page = render_map(plan_map(small_plan))  # with OpenStreetMap tiles
    tags = SCRIPT_OR_LINK.findall(page)
    assert tags, "expected inline <script> tags"
    assert [t for t in tags if REMOTE.search(t)] == []
    assert CSS_REMOTE.search(page) is None
    assert "L.map(" in page  # Leaflet is inlined
    assert "L.heatLayer=" in page.replace(" ", "") or "HeatLayer" in page
    assert "leaflet-fullscreen" in page or "fullscreen" in page.lower()
    # the only remote address used at run time: the optional tile template
    assert "tile.openstreetmap.org" in page


def test_no_tiles_gives_plain_background(page: str) -> None:
    assert "tile.openstreetmap.org" not in page
    assert "L.tileLayer(" not in page
    assert re.search(r"\.folium-map\.leaflet-container\s*\{\s*background:\s*#", page)


def test_layer_names(page: str) -> None:
    names = set(layers(page)) | {
        json.loads(f'"{label}"') for label, _ in CONTROL_ENTRY.findall(page)
    }
    assert {
        "Districts: covered share",
        "Demand (heat map)",
        "Exclusion zones",
        "Coverage footprints, phase 1",
        "Coverage footprints, phase 2",
        "Existing cameras: MTR (1)",
        "Camera sets, phase 1 (3)",
        "Camera sets, phase 2 (2)",
    } <= names


def test_one_site_feature_per_set(small_plan: Plan, page: str) -> None:
    sites = site_layers(page)
    features = [f for fc in sites.values() for f in fc["features"]]
    assert len(features) == small_plan.n_sets
    assert all(f["geometry"]["type"] == "Point" for f in features)
    assert sorted(int(f["properties"]["rank"]) for f in features) == [1, 2, 3, 4, 5]
    assert len(sites["Camera sets, phase 1 (3)"]["features"]) == 3


def test_sites_coloured_by_phase(page: str) -> None:
    for colour in PHASE_COLOURS[:2]:
        assert f'"fillColor": "{colour}"' in page
    assert PHASE_COLOURS[0] != PHASE_COLOURS[1]


def test_popups_show_site_ids_escaped(small_plan: Plan, page: str) -> None:
    features = [f for fc in site_layers(page).values() for f in fc["features"]]
    ids = [f["properties"]["site_id"] for f in features]
    assert ids == [html.escape(s) for s in small_plan.sites["site_id"]]
    assert js_escaped(html.escape(HOSTILE)) in page
    props = features[0]["properties"]
    assert set(props) == {
        "site_id",
        "rank",
        "phase",
        "mount_type",
        "marginal_weight",
        "cumulative_weight",
        "cumulative_share",
    }
    assert props["cumulative_share"].endswith(" %")
    assert "GeoJsonPopup" not in page or ".bindPopup(" in page


def test_hostile_text_never_raw(small_plan: Plan, page: str) -> None:
    assert HOSTILE not in page
    # nor JSON-escaped but HTML-raw (it would become markup once parsed by JavaScript)
    assert js_escaped(HOSTILE) not in page
    assert "<title>Test plan &lt;script&gt;alert(1)&lt;/script&gt;</title>" in page
    assert "<h1>Test plan &lt;script&gt;alert(1)&lt;/script&gt;</h1>" in page


def test_district_tooltips(page: str) -> None:
    fc = layers(page)["Districts: covered share"]
    props = [f["properties"] for f in fc["features"]]
    assert [p["district"] for p in props] == ["West", html.escape(HOSTILE)]
    assert [p["covered_share"] for p in props] == ["60.0 %", "40.0 %"]
    assert props[0]["sets_per_1000"] == "0.25"
    assert ".bindTooltip(" in page
    assert "Sets per 1,000 residents" in page


def footprint_layers(page: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in layers(page).items() if k.startswith("Coverage footprints")}


def metric_area(geometry: dict[str, Any], crs: str) -> float:
    """Area in m² of a GeoJSON geometry in EPSG:4326, reprojected to ``crs``."""
    return float(gpd.GeoSeries([shape(geometry)], crs="EPSG:4326").to_crs(crs).area.iloc[0])


def test_footprints_dissolved_per_phase(small_plan: Plan, page: str) -> None:
    fps = footprint_layers(page)
    assert set(fps) == {"Coverage footprints, phase 1", "Coverage footprints, phase 2"}
    fp = small_plan.footprints
    for phase in (1, 2):
        (feature,) = fps[f"Coverage footprints, phase {phase}"]["features"]
        expected = shapely.union_all(fp[fp["phase"] == phase].geometry.to_numpy()).area
        assert metric_area(feature["geometry"], small_plan.crs) == pytest.approx(expected, rel=0.01)
        coords = shapely.get_coordinates(shape(feature["geometry"]))
        assert len(coords) < sum(len(g.exterior.coords) for g in fp[fp["phase"] == phase].geometry)
        assert (coords.round(6) == coords).all()
        assert (coords[:, 0] > -112.0).all()
        assert (coords[:, 0] < -111.0).all()


def test_max_footprints(small_plan: Plan) -> None:
    page = render_map(plan_map(small_plan, tiles=None, max_footprints=2))
    fps = footprint_layers(page)
    assert list(fps) == ["Coverage footprints, phase 1 (top-ranked sets only)"]
    (feature,) = fps["Coverage footprints, phase 1 (top-ranked sets only)"]["features"]
    two_discs = small_plan.footprints.geometry.iloc[:2].area.sum()
    assert metric_area(feature["geometry"], small_plan.crs) == pytest.approx(two_discs, rel=0.01)
    assert footprint_layers(render_map(plan_map(small_plan, tiles=None, max_footprints=0))) == {}


def test_heat_weights_normalised(small_plan: Plan, page: str) -> None:
    data = json.loads(HEAT_CALL.search(page).group(1))
    assert len(data) == int((small_plan.demand["weight"] > 0).sum())
    assert max(w for _, _, w in data) == 1.0


def test_heat_points_summed_on_grid_when_many(small_plan: Plan) -> None:
    page = render_map(plan_map(small_plan, tiles=None, max_heat_points=10))
    data = json.loads(HEAT_CALL.search(page).group(1))
    assert 0 < len(data) <= 10
    assert max(w for _, _, w in data) == 1.0


def test_legend(page: str) -> None:
    legend = page[page.index('class="camplan-legend"') :]
    for text in ("Phase 1", "Phase 2", "MTR", "District covered share", "Exclusion zone"):
        assert text in legend
    assert "linear-gradient" in legend


def test_controls(page: str) -> None:
    assert "L.control.scale()" in page
    assert "L.control.fullscreen(" in page
    assert "L.control.layers(" in page
    assert ".fitBounds(" in page
    assert '"preferCanvas": true' in page


def test_deterministic_bytes(small_plan: Plan, tmp_path: Path) -> None:
    a = save_map(small_plan, tmp_path / "a.html")
    b = save_map(small_plan, tmp_path / "b.html")
    assert a.read_bytes() == b.read_bytes()
    assert not re.search(r"map_[0-9a-f]{32}", a.read_text(encoding="utf-8"))


def test_minimal_plan_renders(small_plan: Plan) -> None:
    bare = dataclasses.replace(
        small_plan,
        districts=None,
        existing=None,
        exclusions=None,
        sites=small_plan.sites.drop(columns="mount_type"),
    )
    page = render_map(plan_map(bare, tiles=None))
    names = set(layers(page))
    assert not any(n.startswith(("Districts", "Existing", "Exclusion")) for n in names)
    features = [f for fc in site_layers(page).values() for f in fc["features"]]
    assert len(features) == bare.n_sets
    assert "mount_type" not in features[0]["properties"]
    assert HOSTILE not in page
    assert "Existing cameras by owner" not in page


def test_heat_grid_sums_match_a_groupby(small_plan: Plan) -> None:
    rng = np.random.default_rng(3)
    n = 5_000
    xy = rng.normal(0, 400, (n, 2)) + np.array([412_500.0, 3_697_500.0])
    demand = gpd.GeoDataFrame(
        {"weight": rng.gamma(1.5, 1.0, n) * (rng.uniform(size=n) > 0.1)},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=small_plan.crs,
    )
    data = _heat_points(demand, max_points=400)
    # the reference: the same sums with pandas, on the grid the map settled on
    pts = demand[demand["weight"] > 0]
    x, y, w = pts.geometry.x, pts.geometry.y, pts["weight"]
    for cell in (25.0 * 2**k for k in range(10)):
        keys = [np.floor(x / cell).to_numpy(), np.floor(y / cell).to_numpy()]
        groups = pd.DataFrame({"wx": w * x, "wy": w * y, "w": w}).groupby(keys).sum()
        if len(groups) <= 400:
            break
    assert len(data) == len(groups)
    lonlat = gpd.GeoSeries(
        gpd.points_from_xy(groups["wx"] / groups["w"], groups["wy"] / groups["w"]),
        crs=small_plan.crs,
    ).to_crs("EPSG:4326")
    np.testing.assert_allclose(data[:, 0], lonlat.y.round(5), atol=1e-5)
    np.testing.assert_allclose(data[:, 1], lonlat.x.round(5), atol=1e-5)
    np.testing.assert_allclose(data[:, 2], (groups["w"] / groups["w"].max()).round(4), atol=1e-4)


def test_bounds_are_the_reprojected_total_bounds(small_plan: Plan) -> None:
    layers = [small_plan.sites, small_plan.districts, small_plan.demand, small_plan.existing]
    boxes = np.array([gdf.to_crs("EPSG:4326").total_bounds for gdf in layers])
    west, south = boxes[:, 0].min(), boxes[:, 1].min()
    east, north = boxes[:, 2].max(), boxes[:, 3].max()
    assert _bounds(layers) == [[south, west], [north, east]]
    assert _bounds([None, small_plan.demand.iloc[:0]]) is None


def test_simplify_as_topology_preserving() -> None:
    disc = shapely.Point(0, 0).buffer(100)
    # plain Douglas-Peucker would cut the hole open into a notch of the shell
    shell = [(0, 0), (10, 0), (10, 10), (9, 10.9), (1, 10.9), (0, 10)]
    holed = Polygon(shell, [[(2, 9), (8, 9), (8, 10.8), (2, 10.8), (2, 9)]])
    geoms = np.array([disc, holed, None], dtype=object)
    out = _simplify(geoms, 1.0)
    expected = shapely.simplify(geoms, 1.0, preserve_topology=True)
    assert shapely.equals_exact(out[:2], expected[:2], tolerance=0).all()
    assert len(out[0].exterior.coords) < len(disc.exterior.coords)
    assert len(out[1].interiors) == 1
    assert out[2] is None


# --------------------------------------------------------------------------- faster, same map


def discs(rng: np.random.Generator, n: int, *, x0: float, y0: float) -> np.ndarray:
    """Disc footprints: dense clusters (overlapping), a scatter (mostly alone), two touching."""
    centres = np.vstack(
        [
            rng.normal(0, 150, (n // 2, 2)) + rng.uniform(0, 5_000, (1, 2)),
            rng.uniform(0, 20_000, (n - n // 2 - 2, 2)),
            [[30_000, 30_000], [30_200, 30_000]],
        ]
    ) + np.array([x0, y0])
    return shapely.buffer(shapely.points(centres), 100.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_footprints_dissolve_to_the_union_of_all(small_plan: Plan, seed: int) -> None:
    rng = np.random.default_rng(seed)
    geoms = discs(rng, 600, x0=400_000.0, y0=3_690_000.0)
    phases = rng.integers(1, 4, len(geoms))
    fp = gpd.GeoDataFrame(
        {"site_id": np.arange(len(geoms)), "rank": np.arange(1, len(geoms) + 1), "phase": phases},
        geometry=geoms,
        crs=small_plan.crs,
    )
    out = _phase_footprints(fp, max_footprints=10_000, simplify_m=1.0)
    assert list(out["phase"]) == [1, 2, 3]
    simplified = _simplify(geoms, 1.0)
    for phase, drawn in zip(out["phase"], out.geometry.to_crs(small_plan.crs), strict=True):
        mine = simplified[phases == phase]
        union, dissolved = shapely.union_all(mine), shapely.disjoint_subset_union_all(mine)
        # the same shape, apart only by floating-point noise (micrometres)
        assert shapely.get_num_geometries(dissolved) == shapely.get_num_geometries(union)
        assert shapely.get_num_coordinates(dissolved) == shapely.get_num_coordinates(union)
        assert shapely.hausdorff_distance(dissolved, union) < 1e-6
        assert dissolved.symmetric_difference(union).area < 1e-6
        # and that is what the map draws (to its 6 decimals of a degree, about 0.1 m)
        assert shapely.get_num_geometries(drawn) == shapely.get_num_geometries(union)
        assert shapely.hausdorff_distance(drawn, union) < 0.1


def test_page_is_what_branca_renders(small_plan: Plan, monkeypatch: pytest.MonkeyPatch) -> None:
    ours = render_map(plan_map(small_plan, tiles=None))
    # branca's own render: each macro's text compiled and rendered again as a template
    monkeypatch.setattr(VerbatimMacroElement, "render", MacroElement.render)
    assert render_map(plan_map(small_plan, tiles=None)) == ours


def test_template_syntax_in_the_data_is_shown_as_it_is(small_plan: Plan) -> None:
    sites = small_plan.sites.copy()
    sites.loc[0, "site_id"] = "S{{ 6*7 }}"
    sites.loc[1, "mount_type"] = "pole {% if %}"
    existing = small_plan.existing.assign(owner=["{# owner"])
    plan = dataclasses.replace(small_plan, title="T {{ 7*7 }}", sites=sites, existing=existing)
    page = render_map(plan_map(plan, tiles=None))
    assert "T {{ 7*7 }}" in page
    assert "T 49" not in page
    features = [f for fc in site_layers(page).values() for f in fc["features"]]
    assert {f["properties"]["site_id"] for f in features} >= {"S{{ 6*7 }}"}
    assert "pole {% if %}" in {f["properties"].get("mount_type") for f in features}
    assert "Existing cameras: {# owner (1)" in page


@pytest.mark.parametrize("text", ["a", "a\n", "a\n\n", "a\r\nb\rc\n", "\n", "", "x\r", "a\r\r\n"])
def test_text_element_renders_as_jinja_would(text: str) -> None:
    assert TextElement(text).render() == Element(text).render()


def test_heat_map_data_as_the_plugin_checks_it() -> None:
    data = np.array([[22.3, 114.1, 1.0], [22.25, 114.15, 0.5]])
    ours = HeatMap(data, name="heat")
    theirs = plugins.HeatMap(data.tolist(), name="heat")
    assert json.dumps(ours.data) == json.dumps(theirs.data)
    with pytest.raises(ValueError, match="finite"):
        HeatMap(np.array([[22.3, np.nan, 1.0]]))


def test_heat_grid_on_a_bitmap_is_the_sorted_grid(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(8)
    xy = rng.normal(0, 3_000, (50_000, 2)) + np.array([833_000.0, 823_000.0])
    w = rng.gamma(1.5, 1.0, len(xy))
    x, y = xy[:, 0], xy[:, 1]
    cells = (25.0, 100.0, 400.0)
    bitmap = [_grid_sums(x, y, w, cell_m=c, max_cells=20_000) for c in cells]
    monkeypatch.setattr(heat, "_DENSE_KEYS", 0)  # every grid through np.unique
    unique = [_grid_sums(x, y, w, cell_m=c, max_cells=20_000) for c in cells]
    assert bitmap[0] is None  # too many cells hold weight
    assert unique[0] is None
    for a, b in zip(bitmap[1:], unique[1:], strict=True):
        assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))


def test_convex_polygons_are_found_as_by_their_hull() -> None:
    rng = np.random.default_rng(6)
    t = np.linspace(0, 2 * np.pi, 11)[:-1]
    star = Polygon(np.c_[np.cos(t), np.sin(t)] * (1 + 0.5 * (np.arange(10) % 2))[:, None])
    twice = Polygon(np.c_[np.cos(2 * t), np.sin(2 * t)])  # goes round twice
    shapes = np.array(
        [
            star,
            twice,
            Polygon(),
            None,
            shapely.Point(0, 0),
            shapely.box(0, 0, 1, 1),
            shapely.box(0, 0, 1, 1).reverse(),
            Polygon([(0, 0), (1, 0), (2, 0), (2, 1), (0, 1)]),  # a straight vertex
            Polygon([(0, 0), (0, 0), (1, 0), (1, 1)]),  # a repeated vertex
            shapely.box(0, 0, 2, 2).difference(shapely.box(0.5, 0.5, 1, 1)),  # a hole
            shapely.MultiPolygon([shapely.box(0, 0, 1, 1)]),
            Polygon([(0, 0), (1, 0), (1, 1), (0.5, 1 - 1e-13), (0, 1)]),  # a dent of 1e-13
            Polygon([(0, 0), (1, 0), (1, 1), (0.5, 0.9), (0, 1)]),  # a real dent
        ],
        dtype=object,
    )
    shapes = np.concatenate(
        [shapes, shapely.buffer(shapely.points(rng.uniform(0, 100, (50, 2))), 3.0)]
    )
    polygon = (shapely.get_type_id(shapes) == shapely.GeometryType.POLYGON) & (
        shapely.get_num_interior_rings(shapes) == 0
    )
    by_hull = polygon & (
        shapely.area(shapely.convex_hull(shapes)) <= shapely.area(shapes) * (1 + 1e-9)
    )
    assert _convex(shapes).tolist() == by_hull.tolist()
    assert by_hull[[0, 5, 6, 7, 8, 11, 12]].tolist() == [False, True, True, True, True, True, False]


def test_popup_values_are_formatted_as_row_by_row(small_plan: Plan) -> None:
    sites = base._to_wgs84(small_plan.sites).astype({"marginal_weight": float})
    sites.loc[0, "marginal_weight"] = np.nan
    sites.loc[1, "mount_type"] = None
    formats = {"site_id": webmap_text._text, "rank": webmap_text._integer,
               "marginal_weight": webmap_text._number, "mount_type": webmap_text._text}
    by_row = [
        {c: formats[c](row[c]) for c in formats}
        for row in sites[list(formats)].to_dict("records")
    ]
    assert webmap_text._formatted(sites, [*formats, "absent"], formats) == by_row
    assert webmap_layers._site_properties(sites)[0]["marginal_weight"] == ""
    assert webmap_text._formatted(sites, ["absent"], formats) == [{}] * len(sites)


def test_earlier_phases_are_drawn_over_later_ones(page: str) -> None:
    """Where sets crowd, phase 1 (built first) stays visible above phase 2."""
    panes = dict(
        re.findall(r'createPane\(\s*"(sets-phase-\d+)"\);\s*\w+\.style\.zIndex = (\d+);', page)
    )
    assert set(panes) == {"sets-phase-1", "sets-phase-2"}
    assert int(panes["sets-phase-1"]) > int(panes["sets-phase-2"]) > 600  # above other markers
    markers = re.findall(r'"pane": "(sets-phase-\d+)"', page)
    assert sorted(markers) == ["sets-phase-1", "sets-phase-2"]  # each phase's markers in its pane
