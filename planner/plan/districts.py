"""Coverage per district: sets, covered share, population, sets per 1,000 residents."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.errors import LayerError

__all__ = ["district_table"]


def _assign(districts: gpd.GeoDataFrame, points: np.ndarray) -> np.ndarray:
    """Index of the district each point falls in (-1 outside all; first match wins)."""
    out = np.full(len(points), -1, dtype=np.int64)
    if len(points) == 0:
        return out
    # The points form the tree and each district queries it (prepared once): fast for
    # many points in a few large polygons.
    tree = shapely.STRtree(points)
    dist, pt = tree.query(np.asarray(districts.geometry.array), predicate="intersects")
    order = np.lexsort((dist, pt))
    pt, dist = pt[order], dist[order]
    first = np.r_[True, pt[1:] != pt[:-1]]
    out[pt[first]] = dist[first]
    return out


def district_table(
    districts: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    *,
    name: str | None = None,
    population: str | None = None,
) -> gpd.GeoDataFrame:
    """Coverage per district, in the CRS of the inputs.

    Columns: ``district, sets, covered_weight, total_weight, covered_share,
    population, sets_per_1000, geometry``.
    """
    if name is None:
        name = next((c for c in districts.columns if c != "geometry"), None)
    if name is None or name not in districts.columns:
        raise LayerError("districts", f"has no name column {name!r}")
    site_d = _assign(districts, np.asarray(sites.geometry.array))
    dem_pts = np.asarray(demand.geometry.array)
    dem_d = _assign(districts, dem_pts)
    k = len(districts)
    inside = dem_d >= 0
    w = demand["weight"].to_numpy(dtype=np.float64)
    cov = w * demand["covered"].to_numpy(dtype=np.float64)
    total = np.bincount(dem_d[inside], weights=w[inside], minlength=k)
    covered = np.bincount(dem_d[inside], weights=cov[inside], minlength=k)
    sets = np.bincount(site_d[site_d >= 0], minlength=k)
    pop = (pd.to_numeric(districts[population], errors="coerce").to_numpy(dtype=np.float64)
           if population and population in districts.columns else np.full(k, np.nan))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, covered / np.where(total > 0, total, 1), 0.0)
        per_1000 = np.where(pop > 0, sets / pop * 1000.0, np.nan)
    return gpd.GeoDataFrame(
        {
            "district": districts[name].astype(str).to_numpy(),
            "sets": sets,
            "covered_weight": covered,
            "total_weight": total,
            "covered_share": share,
            "population": pop,
            "sets_per_1000": per_1000,
        },
        geometry=districts.geometry.to_numpy(),
        crs=districts.crs,
    )
