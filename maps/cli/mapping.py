"""The map of a command-line run: its base tiles, and the base layers drawn without them.

The tiles are checked before planning, so that a bad ``--tiles`` ends the run at
once. Without tiles the map draws the land (clipped to the scenario's
``[surface] area`` layer when given), the streets and the buildings of the
scenario, read again here for the map.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from geodata import read_layer
from geodata.layers import load_buildings, load_streets
from maps.webmap.tiles import Tiles, tiles_from

if TYPE_CHECKING:
    from maps.export.folder import MapWriter
    from maps.webmap.land import BaseLayers

__all__ = ["demo_map_writer", "scenario_map_writer", "tiles_option"]


def tiles_option(tiles: str | None, attribution: str | None, *, option: str = "--tiles") -> Tiles:
    """The checked tiles of ``--tiles`` / ``--tiles-attribution`` (default OpenStreetMap)."""
    return tiles_from("OpenStreetMap" if tiles is None else tiles, attribution, option=option)


def _writer(tiles: Tiles, base: Any) -> MapWriter:
    """A map writer drawing ``base()`` (read only when needed) under a map without tiles."""

    def write(plan: Any, path: Path) -> Path:
        from maps.webmap.map import save_map  # folium: where the map is written

        layers = base() if tiles.url is None else None
        return save_map(plan, path, tiles=tiles, base=layers)

    return write


def scenario_map_writer(scenario: Any) -> MapWriter:
    """The map writer of a scenario run (its ``tiles``, ``tiles_attribution``, layers)."""
    tiles = tiles_from(scenario.get("tiles"), scenario.get("tiles_attribution"),
                       option=scenario.label("tiles"))

    def base() -> BaseLayers:
        from maps.webmap.land import BaseLayers

        crs = scenario.get("crs")
        area, streets, buildings = (scenario.get(k) for k in
                                    ("surface.area", "streets", "buildings"))
        return BaseLayers(
            land=read_layer(area, role="area", crs=crs) if area is not None else None,
            streets=load_streets(streets, crs=crs) if streets is not None else None,
            buildings=load_buildings(buildings, crs=crs) if buildings is not None else None,
        )

    return _writer(tiles, base)


def demo_map_writer(tiles: Tiles, sample: Any) -> MapWriter:
    """The map writer of a demo city (its streets or buildings under a map without tiles)."""
    def base() -> BaseLayers:
        from maps.webmap.land import BaseLayers

        return BaseLayers(streets=getattr(sample, "streets", None),
                          buildings=getattr(sample, "buildings", None))

    return _writer(tiles, base)
