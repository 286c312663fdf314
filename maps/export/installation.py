"""installation.csv: what an installer needs for each camera of a directional plan.

One row per camera, in rank order of its set: ``site_id``, ``rank``, ``phase``,
``lon``/``lat`` (EPSG:4326, 7 decimals), ``camera`` (1.. on its mount),
``camera_type``, ``pan_deg`` (degrees clockwise from north), ``hfov_deg``,
``mount_height_m`` and ``tilt_deg`` (empty when not given), then the reach in
metres of each DORI level that counts (``reach_identify_m`` ...).
"""

from __future__ import annotations

import csv
from pathlib import Path

from maps.export.features import COORD_DECIMALS
from maps.export.lonlat import WGS84
from maps.export.values import format_cell
from planner.plan.result import Plan

__all__ = ["installation_to_csv", "is_directional"]


def is_directional(plan: Plan) -> bool:
    """Whether the plan's sets carry directional cameras (``pans_deg`` per set)."""
    return "pans_deg" in plan.sites.columns and "camera" in plan.parameters


def installation_to_csv(plan: Plan, path: str | Path) -> Path:
    """Write one row per camera of a directional plan (see the module doc)."""
    camera = plan.parameters["camera"]
    reach = camera["reach_m"]
    levels = [lv for lv in reach if lv in plan.parameters.get("coverage_by_level", reach)]
    header = ["site_id", "rank", "phase", "lon", "lat", "camera", "camera_type", "pan_deg",
              "hfov_deg", "mount_height_m", "tilt_deg", *(f"reach_{lv}_m" for lv in levels)]
    sites = plan.sites
    lonlat = sites.geometry.to_crs(WGS84)
    fixed = [format_cell(camera.get(k)) for k in ("hfov_deg", "mount_height_m", "tilt_deg")]
    reaches = [f"{float(reach[lv]):.2f}" for lv in levels]
    path = Path(path)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        ids, ranks, phases = (sites[c].to_numpy() for c in ("site_id", "rank", "phase"))
        types, pans = sites["camera_type"].to_numpy(), sites["pans_deg"].to_numpy()
        lon, lat = lonlat.x.to_numpy(), lonlat.y.to_numpy()
        for t in range(len(sites)):
            place = [f"{lon[t]:.{COORD_DECIMALS}f}", f"{lat[t]:.{COORD_DECIMALS}f}"]
            head = [format_cell(ids[t]), str(int(ranks[t])), str(int(phases[t])), *place]
            for c, pan in enumerate(pans[t], start=1):
                writer.writerow([*head, str(c), format_cell(types[t]), format_cell(float(pan)),
                                 *fixed, *reaches])
    return path
