"""The interactive map of a plan: one self-contained, offline folium HTML file."""

from maps.webmap.map import plan_map, save_map

__all__ = ["plan_map", "save_map"]
