"""The map's colours, one source of truth for every drawing of a plan (web map, QGIS styles)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from branca.colormap import LinearColormap

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
LEVEL_COLOURS: Mapping[str, str] = MappingProxyType(
    {"detect": "#4575b4", "observe": "#fdae61", "recognise": "#f46d43", "identify": "#a50026"}
)
"""Camera wedges by DORI level (IEC 62676-4), farthest first; ColorBrewer RdYlBu, the nearer
and sharper the view, the warmer. The web map and the QGIS styles both use these."""
EXCLUSION_COLOUR = "#c00000"
BACKGROUND_COLOUR = "#f2efe9"
"""Map background, visible when base tiles cannot load (a closed network)."""
WATER_COLOUR = "#aad3df"
"""Background of a map drawn without tiles: what is not land (OpenStreetMap's water)."""
LAND_COLOUR = BACKGROUND_COLOUR
"""The land drawn without tiles (OpenStreetMap's land colour)."""
STREET_COLOUR = "#ffffff"
STREET_CASING_COLOUR = "#c8c0b4"
BUILDING_COLOUR = "#d9d0c9"
"""Streets and buildings of the light base layer drawn without tiles (OpenStreetMap's)."""


def phase_colour(phase: int) -> str:
    """The colour of a phase (1-based)."""
    return PHASE_COLOURS[(int(phase) - 1) % len(PHASE_COLOURS)]


def owner_colours(owners: Sequence[str]) -> dict[str, str]:
    """Colours by owner, in sorted owner order."""
    return dict(zip(sorted(owners), itertools.cycle(OWNER_COLOURS), strict=False))


def district_colormap() -> LinearColormap:
    """The district colour scale: covered share from 0 to 1."""
    return LinearColormap(list(DISTRICT_COLOURS), vmin=0.0, vmax=1.0, caption="Covered share")
