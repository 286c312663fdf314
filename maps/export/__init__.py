"""Exports of a plan: GeoJSON (RFC 7946), GeoPackage, CSV, summary.json, written atomically.

:func:`maps.export.folder.write_plan` writes a plan's whole output folder.
"""
