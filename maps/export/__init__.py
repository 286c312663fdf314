"""Exports of a plan: GeoJSON (RFC 7946), GeoPackage, CSV, summary.json, written atomically."""
