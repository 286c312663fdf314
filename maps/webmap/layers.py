"""The plan's point and area layers: districts, camera sets, existing cameras, exclusions."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import offlinefolium as folium
import pandas as pd

from maps.webmap.base import _constant_style, _feature_collection, _to_wgs84
from maps.webmap.colours import EXCLUSION_COLOUR, district_colormap, owner_colours, phase_colour
from maps.webmap.elements import GeoJson
from maps.webmap.text import _formatted, _integer, _number, _percent, _text

_SITE_FIELDS: tuple[tuple[str, str], ...] = (
    ("site_id", "Site"),
    ("rank", "Rank"),
    ("phase", "Phase"),
    ("mount_type", "Mount type"),
    ("marginal_weight", "Marginal weight"),
    ("cumulative_weight", "Cumulative weight"),
    ("cumulative_share", "Cumulative share"),
    ("camera_type", "Camera type"),
    ("cameras", "Cameras"),
    ("pans_deg", "Pans (degrees from north)"),
)
_DISTRICT_FIELDS: tuple[tuple[str, str], ...] = (
    ("district", "District"),
    ("sets", "Sets"),
    ("covered_share", "Covered share"),
    ("sets_per_1000", "Sets per 1,000 residents"),
)


def _district_properties(districts: gpd.GeoDataFrame) -> list[dict[str, str]]:
    """Escaped, formatted tooltip values for each district."""
    formats: dict[str, Callable[[Any], str]] = {
        "district": _text,
        "sets": _integer,
        "covered_share": _percent,
        "sets_per_1000": lambda v: "" if pd.isna(v) else f"{float(v):.2f}",
    }
    return _formatted(districts, [c for c, _ in _DISTRICT_FIELDS], formats)


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
        "camera_type": _text,
        "cameras": _integer,
        "pans_deg": lambda pans: ", ".join(f"{float(p):g}" for p in pans),
    }
    return _formatted(sites, [c for c, _ in _SITE_FIELDS], formats)


#: Map pane of the first phase's camera sets; each later phase lies one below it, so that
#: where sets crowd, the first phase (built first) is drawn on top of the later ones.
_SITES_PANE_Z = 640


def _add_sites(m: folium.Map, sites: gpd.GeoDataFrame) -> None:
    """Camera sets as circle markers, one layer per phase, with popups."""
    if sites.empty:
        return
    wgs = _to_wgs84(sites)
    fields = [(c, a) for c, a in _SITE_FIELDS if c in sites.columns]
    for rank, phase in enumerate(sorted(sites["phase"].unique())):
        part = wgs[sites["phase"].to_numpy() == phase]
        colour = phase_colour(phase)
        pane = f"sets-phase-{int(phase)}"
        folium.map.CustomPane(pane, z_index=_SITES_PANE_Z - rank, pointer_events=True).add_to(m)
        marker = folium.CircleMarker(
            radius=4, color="#ffffff", weight=1, fill=True, fill_color=colour, fill_opacity=1
        )
        marker.options["pane"] = pane  # folium's path options do not carry Leaflet's pane
        GeoJson(
            _feature_collection(part, _site_properties(part)),
            name=f"Camera sets, phase {int(phase)} ({len(part):,})",
            marker=marker,
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
    colours = owner_colours(list(owners.unique()))
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
