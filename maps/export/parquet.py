"""GeoParquet copies of the chosen sites and their footprints.

For plans at country scale, where GeoJSON files grow large; in the plan's working CRS,
rank order.
"""

from __future__ import annotations

from pathlib import Path

from planner.plan.result import Plan

__all__ = ["write_geoparquet"]


def write_geoparquet(plan: Plan, folder: Path) -> list[Path]:
    """Write ``sites.parquet`` and ``footprints.parquet`` into ``folder``."""
    out = []
    for name, frame in (("sites", plan.sites), ("footprints", plan.footprints)):
        path = folder / f"{name}.parquet"
        frame.to_parquet(path, index=False, write_covering_bbox=True)
        out.append(path)
    return out
