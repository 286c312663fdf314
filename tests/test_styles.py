"""QGIS styles of the outputs (maps.export.styles): the web map's colours, stored in plan.gpkg."""

from __future__ import annotations

import dataclasses
import itertools
import sqlite3
import xml.etree.ElementTree as ET
from contextlib import closing
from pathlib import Path

from maps.export import gpkg as export
from maps.export import styles
from maps.webmap.colours import (
    EXCLUSION_COLOUR,
    LEVEL_COLOURS,
    OWNER_COLOURS,
    PHASE_COLOURS,
    district_colormap,
)
from planner.plan.result import Plan


def _rgba(hex_colour: str, alpha: int = 255) -> str:
    h = hex_colour.lstrip("#")
    return ",".join(str(int(h[i : i + 2], 16)) for i in (0, 2, 4)) + f",{alpha}"


def _colours(qml: str) -> list[str]:
    """The fill colour of each symbol, in symbol order (from the <Option> and <prop> forms)."""
    root = ET.fromstring(qml)
    options = [o.get("value") for o in root.iter("Option") if o.get("name") == "color"]
    props = [p.get("v") for p in root.iter("prop") if p.get("k") == "color"]
    assert options == props
    return options


def test_every_layer_of_the_plan_has_a_style(small_plan: Plan) -> None:
    assert list(styles.plan_styles(small_plan)) == [
        "sites", "footprints", "demand", "districts", "existing", "exclusions"]
    bare = dataclasses.replace(small_plan, districts=None, existing=None, exclusions=None)
    assert list(styles.plan_styles(bare)) == ["sites", "footprints", "demand"]


def test_sites_and_footprints_take_the_web_maps_phase_colours(small_plan: Plan) -> None:
    for qml, alpha in ((styles.sites_qml(small_plan.sites), 255),
                       (styles.footprints_qml(small_plan.footprints), round(255 * 0.15))):
        root = ET.fromstring(qml)
        renderer = root.find("renderer-v2")
        assert renderer is not None
        assert (renderer.get("type"), renderer.get("attr")) == ("categorizedSymbol", "phase")
        assert [c.get("value") for c in root.iter("category")] == ["1", "2"]
        assert _colours(qml) == [_rgba(PHASE_COLOURS[0], alpha), _rgba(PHASE_COLOURS[1], alpha)]


def test_footprints_with_a_dori_level_are_coloured_by_level(small_plan: Plan) -> None:
    levels = ["identify", "recognise"] * len(small_plan.footprints)
    fp = small_plan.footprints.assign(level=levels[: len(small_plan.footprints)])
    qml = styles.footprints_qml(fp)
    root = ET.fromstring(qml)
    assert root.find("renderer-v2").get("attr") == "level"
    # In DORI order (farthest first), in the web map's level colours.
    assert [c.get("value") for c in root.iter("category")] == ["recognise", "identify"]
    assert _colours(qml) == [_rgba(LEVEL_COLOURS[v], 76) for v in ("recognise", "identify")]


def test_districts_are_graduated_on_the_web_maps_blues() -> None:
    root = ET.fromstring(styles.districts_qml())
    renderer = root.find("renderer-v2")
    assert (renderer.get("type"), renderer.get("attr")) == ("graduatedSymbol", "covered_share")
    ranges = [(float(r.get("lower")), float(r.get("upper"))) for r in root.iter("range")]
    assert ranges[0][0] == 0.0
    assert ranges[-1][1] == 1.0
    assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))
    expected = [_rgba(district_colormap()((lo + hi) / 2)[:7], 128) for lo, hi in ranges]
    assert _colours(styles.districts_qml()) == expected


def test_owner_names_are_escaped_and_coloured(small_plan: Plan) -> None:
    existing = small_plan.existing.assign(owner=["<b>&'\""] * len(small_plan.existing))
    qml = styles.existing_qml(existing)
    assert [c.get("value") for c in ET.fromstring(qml).iter("category")] == ["<b>&'\""]
    assert _colours(qml) == [_rgba(OWNER_COLOURS[0])]
    assert _colours(styles.exclusions_qml()) == [_rgba(EXCLUSION_COLOUR, round(255 * 0.2))]


def test_geopackage_carries_each_layers_default_style(small_plan: Plan, tmp_path: Path) -> None:
    path = export.write_geopackage(small_plan, tmp_path / "plan.gpkg")
    with closing(sqlite3.connect(path)) as con:
        rows = con.execute(
            "SELECT f_table_name, f_geometry_column, styleQML, useAsDefault, update_time"
            " FROM layer_styles ORDER BY id").fetchall()
        registered = con.execute(
            "SELECT data_type FROM gpkg_contents WHERE table_name = 'layer_styles'").fetchall()
    expected = styles.plan_styles(small_plan)
    assert [r[0] for r in rows] == list(expected)
    for name, column, qml, default, stamp in rows:
        assert (column, qml, default, stamp) == ("geom", expected[name], 1, export.GPKG_TIMESTAMP)
    assert registered == [("attributes",)]


def test_qml_files_beside_the_geojson(small_plan: Plan, tmp_path: Path) -> None:
    written = styles.write_qml_files(small_plan, tmp_path)
    assert [p.name for p in written] == ["sites.qml", "footprints.qml"]
    assert written[0].read_text(encoding="utf-8") == styles.sites_qml(small_plan.sites)
    assert written[0].read_text(encoding="utf-8").startswith("<!DOCTYPE qgis")

