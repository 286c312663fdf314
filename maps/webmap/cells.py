"""Camera sets summarised per grid cell, for maps of plans too large to draw set by set.

Above :data:`MAX_SITE_MARKERS` sets the map shows one circle per square cell holding
sets (its size grows with the count, its tooltip says how many sets of which phases),
and the layer's name says the sets are summarised and how wide the cells are.
"""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np
import offlinefolium as folium
import pandas as pd

__all__ = ["MAX_SITE_MARKERS", "add_sets", "add_site_cells", "site_cells"]

#: Above this many sets the map shows sets per grid cell instead of one marker per set.
MAX_SITE_MARKERS = 10_000


def _cell_side(x: np.ndarray, y: np.ndarray, max_cells: int) -> float:
    """The smallest power-of-two multiple of 250 m giving at most ``max_cells`` cells."""
    side = 250.0
    while len(set(zip((x // side).tolist(), (y // side).tolist(), strict=True))) > max_cells:
        side *= 2
    return side


def site_cells(sites: gpd.GeoDataFrame, max_cells: int) -> tuple[pd.DataFrame, float]:
    """Sets per square cell and the cell side in metres: at most ``max_cells`` cells.

    Columns ``cx``, ``cy``, ``sets`` and the ``first``/``last`` phase in the cell.
    """
    xy = np.column_stack([sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy()])
    side = _cell_side(xy[:, 0], xy[:, 1], max_cells)
    frame = pd.DataFrame({"cx": np.floor(xy[:, 0] / side), "cy": np.floor(xy[:, 1] / side),
                          "phase": sites["phase"].to_numpy()})
    cells = frame.groupby(["cx", "cy"]).agg(sets=("phase", "size"), first=("phase", "min"),
                                             last=("phase", "max")).reset_index()
    return cells, side


def add_site_cells(m: folium.Map, sites: gpd.GeoDataFrame, *, max_cells: int = 5000) -> None:
    """One circle per grid cell holding sets, in EPSG:4326, sized by the number of sets."""
    cells, side = site_cells(sites, max_cells)
    centres = gpd.GeoSeries(gpd.points_from_xy((cells["cx"] + 0.5) * side,
                                               (cells["cy"] + 0.5) * side), crs=sites.crs)
    wgs = centres.to_crs(4326)
    layer = folium.FeatureGroup(
        name=f"Camera sets per {side / 1000:g} km cell ({len(sites):,} sets: summarised, "
             f"more than {MAX_SITE_MARKERS:,} to draw one by one)")
    for lon, lat, n, a, b in zip(wgs.x, wgs.y, cells["sets"], cells["first"], cells["last"],
                                 strict=True):
        phases = f"phase {a}" if a == b else f"phases {a}-{b}"
        folium.CircleMarker(
            location=(round(float(lat), 6), round(float(lon), 6)),
            radius=float(3 + 2 * np.log2(n)), color="#ffffff", weight=1, fill=True,
            fill_color="#1f4e9c", fill_opacity=0.8, tooltip=f"{n:,} sets ({phases})",
        ).add_to(layer)
    layer.add_to(m)


def add_sets(m: folium.Map, sites: gpd.GeoDataFrame,
             draw_each: Callable[[folium.Map, gpd.GeoDataFrame], None]) -> None:
    """Sets one by one with ``draw_each``, or per grid cell above :data:`MAX_SITE_MARKERS`."""
    if len(sites) > MAX_SITE_MARKERS:
        add_site_cells(m, sites)
    else:
        draw_each(m, sites)
