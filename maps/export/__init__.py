"""Exports of a plan: GeoJSON (RFC 7946), GeoPackage, CSV, summary.json, written atomically."""

from maps.export.folder import write_plan

__all__ = ["write_plan"]
