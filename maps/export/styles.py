"""QGIS styles of a plan's outputs: QML text, ``.qml`` files, ``plan.gpkg``'s ``layer_styles``.

Camera sets and footprints are coloured by phase (footprints by DORI ``level`` when
they carry one), districts are graduated by covered share, existing cameras by owner,
demand by weight: the colours of the web map (:mod:`maps.webmap.colours`), so the
plan looks the same in QGIS and in ``map.html``. QML is built with ElementTree and
the ``layer_styles`` rows are written with sqlite3, both deterministically: the same
plan gives the same bytes.
"""

from __future__ import annotations

import itertools
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from maps.webmap.colours import (
    EXCLUSION_COLOUR,
    HEAT_GRADIENT,
    HEAT_OPACITY,
    LEVEL_COLOURS,
    district_colormap,
    owner_colours,
    phase_colour,
)
from planner.plan.result import Plan

__all__ = ["QGIS_VERSION", "add_layer_styles", "plan_styles", "write_qml_files"]

QGIS_VERSION = "3.22.0"
"""The QGIS version the QML declares: every QGIS from 3.22 reads it."""
QML_FILES = ("sites", "footprints")
"""Styles written beside their GeoJSON as ``NAME.qml`` (QGIS loads it with ``NAME.geojson``)."""
DISTRICT_CLASSES = 5
"""Covered-share classes of the districts: 0-20 %, ..., 80-100 %."""

Props = Mapping[str, str]


# --------------------------------------------------------------------------- colours


def _rgba(hex_colour: str, alpha: float = 1.0) -> str:
    """``#rrggbb`` (or ``#rrggbbaa``) as QGIS's ``r,g,b,a`` with ``alpha`` in 0..1."""
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{round(255 * alpha)}"


def _marker(colour: str, *, size: float, outline: str = "#ffffff") -> tuple[str, Props]:
    return "SimpleMarker", {
        "color": _rgba(colour), "name": "circle", "outline_color": _rgba(outline),
        "outline_style": "solid", "outline_width": "0.3", "outline_width_unit": "MM",
        "size": f"{size:g}", "size_unit": "MM",
    }


def _fill(
    colour: str, *, alpha: float, outline: str, width: float, dash: bool = False
) -> tuple[str, Props]:
    return "SimpleFill", {
        "color": _rgba(colour, alpha), "style": "solid", "outline_color": _rgba(outline),
        "outline_style": "dash" if dash else "solid", "outline_width": f"{width:g}",
        "outline_width_unit": "MM", "joinstyle": "round",
    }


# --------------------------------------------------------------------------- QML


def _symbol(
    parent: ET.Element, name: str, kind: str, layer: tuple[str, Props], opacity: float = 1.0
) -> None:
    """One symbol of one symbol layer.

    Its properties go in twice, as ``<Option>`` and as ``<prop>``: QGIS 3.22 reads
    the second, later versions the first.
    """
    symbol = ET.SubElement(parent, "symbol", {
        "type": kind, "name": name, "alpha": f"{opacity:g}", "clip_to_extent": "1",
        "force_rhr": "0"})
    cls, props = layer
    element = ET.SubElement(symbol, "layer", {
        "class": cls, "enabled": "1", "pass": "0", "locked": "0"})
    options = ET.SubElement(element, "Option", {"type": "Map"})
    for key, value in props.items():
        ET.SubElement(options, "Option", {"type": "QString", "name": key, "value": value})
    for key, value in props.items():
        ET.SubElement(element, "prop", {"k": key, "v": value})


def _document(renderer: ET.Element, geometry_type: int) -> str:
    """The QML document around ``renderer`` (geometry type 0 point, 2 polygon)."""
    root = ET.Element("qgis", {"version": QGIS_VERSION, "styleCategories": "Symbology"})
    root.append(renderer)
    ET.SubElement(root, "layerGeometryType").text = str(geometry_type)
    ET.indent(root, space=" ")
    body = ET.tostring(root, encoding="unicode", short_empty_elements=True)
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n"


def categorized_qml(
    field: str, categories: Sequence[tuple[Any, str, tuple[str, Props]]], *, kind: str
) -> str:
    """A categorized renderer on ``field``: (value, legend label, symbol layer) per category."""
    renderer = ET.Element("renderer-v2", {
        "type": "categorizedSymbol", "attr": field, "symbollevels": "0",
        "enableorderby": "0", "forceraster": "0"})
    cats, symbols = ET.SubElement(renderer, "categories"), ET.SubElement(renderer, "symbols")
    for i, (value, label, layer) in enumerate(categories):
        ET.SubElement(cats, "category", {
            "symbol": str(i), "value": str(value), "label": label, "render": "true"})
        _symbol(symbols, str(i), kind, layer)
    return _document(renderer, 0 if kind == "marker" else 2)


def graduated_qml(
    field: str,
    ranges: Sequence[tuple[float, float, str, tuple[str, Props]]],
    *,
    kind: str,
    opacity: float = 1.0,
) -> str:
    """A graduated renderer on ``field``: (lower, upper, legend label, symbol layer) per class."""
    renderer = ET.Element("renderer-v2", {
        "type": "graduatedSymbol", "attr": field, "graduatedMethod": "GraduatedColor",
        "symbollevels": "0", "enableorderby": "0", "forceraster": "0"})
    elements, symbols = ET.SubElement(renderer, "ranges"), ET.SubElement(renderer, "symbols")
    for i, (lower, upper, label, layer) in enumerate(ranges):
        ET.SubElement(elements, "range", {
            "symbol": str(i), "lower": repr(float(lower)), "upper": repr(float(upper)),
            "label": label, "render": "true"})
        _symbol(symbols, str(i), kind, layer, opacity)
    ET.SubElement(renderer, "mode", {"name": "equal"})
    return _document(renderer, 0 if kind == "marker" else 2)


def single_qml(layer: tuple[str, Props], *, kind: str) -> str:
    """One symbol for every feature."""
    renderer = ET.Element("renderer-v2", {
        "type": "singleSymbol", "symbollevels": "0", "enableorderby": "0", "forceraster": "0"})
    _symbol(ET.SubElement(renderer, "symbols"), "0", kind, layer)
    return _document(renderer, 0 if kind == "marker" else 2)


# --------------------------------------------------------------------------- layers


def _phases(frame: pd.DataFrame) -> list[int]:
    return sorted(int(p) for p in pd.unique(frame["phase"])) if "phase" in frame else [1]


def sites_qml(sites: pd.DataFrame) -> str:
    """Camera sets: circles in their phase colour, as on the web map."""
    return categorized_qml("phase", [
        (p, f"Phase {p}", _marker(phase_colour(p), size=2.6)) for p in _phases(sites)
    ], kind="marker")


def footprints_qml(footprints: pd.DataFrame) -> str:
    """Footprints: light fill in the phase colour, or by DORI ``level`` when present."""
    if "level" in footprints:
        present = set(pd.unique(footprints["level"].dropna()).astype(str))
        return categorized_qml("level", [
            (v, str(v), _fill(colour, alpha=0.3, outline=colour, width=0.2))
            for v, colour in LEVEL_COLOURS.items() if v in present
        ], kind="fill")
    return categorized_qml("phase", [
        (p, f"Coverage, phase {p}",
         _fill(phase_colour(p), alpha=0.15, outline=phase_colour(p), width=0.2))
        for p in _phases(footprints)
    ], kind="fill")


def districts_qml() -> str:
    """Districts graduated by covered share (0..1) on the web map's blues, half opaque."""
    colormap, n = district_colormap(), DISTRICT_CLASSES
    edges = np.linspace(0.0, 1.0, n + 1)
    return graduated_qml("covered_share", [
        (lo, hi, f"{100 * lo:.0f} - {100 * hi:.0f} %",
         _fill(colormap((lo + hi) / 2)[:7], alpha=0.5, outline="#555555", width=0.26))
        for lo, hi in itertools.pairwise(edges)
    ], kind="fill")


def demand_qml(demand: pd.DataFrame) -> str:
    """Demand points graduated by weight on the heat map's colours (its stops x the maximum)."""
    top = float(demand["weight"].max()) if len(demand) and "weight" in demand else 1.0
    stops = [0.0, *HEAT_GRADIENT]
    return graduated_qml("weight", [
        (lo * top, hi * top, f"{lo:.0%} - {hi:.0%} of the highest weight",
         _marker(HEAT_GRADIENT[hi], size=1.2, outline=HEAT_GRADIENT[hi]))
        for lo, hi in itertools.pairwise(stops)
    ], kind="marker", opacity=HEAT_OPACITY)


def existing_qml(existing: pd.DataFrame) -> str:
    """Existing cameras by owner, in the web map's owner colours."""
    owners = existing["owner"].astype(str) if "owner" in existing else None
    if owners is None:
        return single_qml(_marker(owner_colours(["existing"])["existing"], size=2.0,
                                  outline="#222222"), kind="marker")
    return categorized_qml("owner", [
        (o, o, _marker(c, size=2.0, outline="#222222"))
        for o, c in owner_colours(list(pd.unique(owners))).items()
    ], kind="marker")


def exclusions_qml() -> str:
    """Exclusion zones: light red fill, red dashed outline."""
    return single_qml(_fill(EXCLUSION_COLOUR, alpha=0.2, outline=EXCLUSION_COLOUR, width=0.5,
                            dash=True), kind="fill")


def plan_styles(plan: Plan) -> dict[str, str]:
    """QML of each of the plan's GeoPackage layers that has a style, by layer name."""
    styles = {"sites": sites_qml(plan.sites), "footprints": footprints_qml(plan.footprints),
              "demand": demand_qml(plan.demand)}
    if plan.districts is not None:
        styles["districts"] = districts_qml()
    if plan.existing is not None:
        styles["existing"] = existing_qml(plan.existing)
    if plan.exclusions is not None:
        styles["exclusions"] = exclusions_qml()
    return styles


# --------------------------------------------------------------------------- files


def write_qml_files(plan: Plan, folder: str | Path) -> list[Path]:
    """Write ``sites.qml`` and ``footprints.qml`` beside the GeoJSON files of ``folder``."""
    styles = plan_styles(plan)
    paths = []
    for name in QML_FILES:
        path = Path(folder) / f"{name}.qml"
        path.write_text(styles[name], encoding="utf-8", newline="\n")
        paths.append(path)
    return paths


_LAYER_STYLES_SQL = """
CREATE TABLE layer_styles (
  id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), f_table_schema TEXT(256),
  f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT,
  styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT(50), ui TEXT(30),
  update_time DATETIME
)"""
"""QGIS's ``layer_styles`` table (the columns QGIS itself creates in a GeoPackage)."""


def add_layer_styles(path: str | Path, styles: Mapping[str, str], *, timestamp: str) -> None:
    """Store ``styles`` (QML by layer name) as the default styles of a GeoPackage's layers.

    ``timestamp`` goes into ``update_time`` and ``gpkg_contents.last_change`` (not the
    wall clock), so that the file's bytes depend only on the plan.
    """
    with closing(sqlite3.connect(path)) as con, con:
        geometry_columns = dict(
            con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
        con.execute(_LAYER_STYLES_SQL)
        con.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description,"
            " last_change) VALUES ('layer_styles', 'attributes', 'layer_styles', '', ?)",
            (timestamp,))
        con.executemany(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name,"
            " f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description,"
            " owner, ui, update_time) VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '', NULL, ?)",
            [(name, geometry_columns[name], f"camplan {name}", qml, f"camplan: {name}", timestamp)
             for name, qml in styles.items() if name in geometry_columns])
