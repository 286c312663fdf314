"""The interactive map of a plan: one self-contained, offline folium HTML file."""

from __future__ import annotations

from typing import Any

__all__ = ["plan_map", "save_map"]


def __getattr__(name: str) -> Any:
    # folium is imported with the map itself, not with the colours every export shares.
    if name in __all__:
        from maps.webmap import map as webmap

        return getattr(webmap, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
