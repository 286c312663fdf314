"""The directional coverage model: camera sets of ``k`` cameras whose pans the optimiser picks.

Where the disc models give one column per site, this model gives one column per
(mount, pan) (:mod:`planner.coverage.directional`) and is optimised by
:func:`planner.solver.grouped.optimise_sets`. With buildings it is the sightline
variant: pairs whose sight line crosses a building are dropped. Walking distance
(the network model) has no direction, so it cannot be combined with cameras.

Existing cameras count with their own wedge when their layer has a direction and
a field of view per row (OSM's ``camera:direction`` and ``camera:angle``, or the
columns ``direction``/``pan_deg`` and ``angle``/``hfov_deg``); rows without them
count as a disc of the DORI reaches of the planned camera type.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from geodata.errors import LayerError
from planner.coverage.directional import (
    DirectionalOptions,
    directional_matrix,
    wedge_polygons,
    wedge_quality,
)
from planner.solver.sets import SetLayout

__all__ = ["DIRECTION_COLUMNS", "FOV_COLUMNS", "DirectionalModel"]

logger = logging.getLogger(__name__)

#: Columns read as an existing camera's pan (degrees from north) and field of view (degrees).
DIRECTION_COLUMNS = ("camera:direction", "direction", "pan_deg")
FOV_COLUMNS = ("camera:angle", "angle", "hfov_deg")


#: Segments of a wedge's arc in the footprints (one per 5.6 degrees of a 68 degree lens).
WEDGE_ARC_POINTS = 12


def _first_column(frame: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    return next((c for c in names if c in frame.columns), None)


@dataclass(frozen=True)
class DirectionalModel:
    """Camera sets of directional cameras (see the module doc).

    Attributes
    ----------
    options
        Camera type, cameras per set, pans tried, levels.
    buildings
        Optional building footprints (metric CRS): the sightline variant.
    wall_tolerance_m
        Buildings are shrunk by this much first (as in the sightline model).
    """

    options: DirectionalOptions
    buildings: np.ndarray | None = None
    wall_tolerance_m: float = 0.5
    name: str = "directional"
    _tree: shapely.STRtree | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        """Build the obstacle tree once (the sightline variant)."""
        if self.buildings is not None:
            from planner.coverage.sightline import obstacles

            obs = obstacles(np.asarray(self.buildings, dtype=object),
                            wall_tolerance_m=self.wall_tolerance_m)
            object.__setattr__(self, "_tree", shapely.STRtree(obs))
            object.__setattr__(self, "name", "directional-sightline")

    @property
    def layout(self) -> SetLayout:
        """How the matrix columns group into mounts, for the optimiser."""
        opts = self.options
        return SetLayout(opts.n_pans, opts.camera.per_set, opts.spread_steps)

    def matrix(self, demand: np.ndarray, sites: np.ndarray, radius_m: float, *,
               bands=None) -> sparse.csc_array:
        """``n x (m * P)`` qualities (``radius_m`` and ``bands`` do not apply: reach is DORI)."""
        return directional_matrix(_xy(demand), _xy(sites), self.options, tree=self._tree)

    def footprints(self, sites: np.ndarray, radius_m: float) -> np.ndarray:
        """The detect-reach disc of each set (replaced by per-camera wedges in the plan)."""
        return shapely.buffer(np.asarray(sites), self.options.max_reach_m, quad_segs=16)

    def existing_quality(self, demand: np.ndarray, existing: gpd.GeoDataFrame,
                         points: np.ndarray) -> np.ndarray:
        """Quality each demand point has from the cameras ``existing`` (at ``points``)."""
        xy = _xy(points)
        pan_col = _first_column(existing, DIRECTION_COLUMNS)
        fov_col = _first_column(existing, FOV_COLUMNS)
        pan = _degrees(existing, pan_col)
        fov = _degrees(existing, fov_col)
        wedge = np.isfinite(pan) & np.isfinite(fov)
        if pan_col is not None and fov_col is None and np.isfinite(pan).any():
            logger.info("existing cameras: %s without a field of view counts as a disc", pan_col)
        demand_xy = _xy(demand)
        out = wedge_quality(demand_xy, xy[wedge], pan[wedge], fov[wedge], self.options)
        if (~wedge).any():
            # No direction: a disc of the planned type's reaches, as wedges of its own field
            # of view all round (n of them, n * hfov >= 360: no gap).
            hfov = self.options.camera.hfov_deg
            n, bare = int(np.ceil(360.0 / hfov)), int((~wedge).sum())
            disc = wedge_quality(demand_xy, np.repeat(xy[~wedge], n, axis=0),
                                 np.tile(np.arange(n) * 360.0 / n, bare),
                                 np.full(n * bare, hfov), self.options)
            np.maximum(out, disc, out=out)
        return out

    def wedges(self, sites: gpd.GeoDataFrame, pans: list[tuple[float, ...]]
               ) -> gpd.GeoDataFrame:
        """One polygon per camera and DORI level that counts, best level last."""
        opts = self.options
        rows = [(k, c, p) for k, ps in enumerate(pans) for c, p in enumerate(ps, start=1)]
        xy = shapely.get_coordinates(sites.geometry.to_numpy())
        frames = []
        reach, _ = opts.thresholds()
        for level, r in reversed(list(zip(opts.levels, reach.tolist(), strict=True))):
            k = np.array([t[0] for t in rows], dtype=np.int64)
            polys = wedge_polygons(xy[k], np.array([t[2] for t in rows], dtype=float),
                                   opts.camera.hfov_deg, r, blind_m=min(opts.camera.blind_m, r),
                                   arc_points=WEDGE_ARC_POINTS)
            frames.append(pd.DataFrame({
                "site_id": sites["site_id"].to_numpy()[k],
                "rank": sites["rank"].to_numpy()[k],
                "phase": sites["phase"].to_numpy()[k],
                "camera": np.array([t[1] for t in rows], dtype=np.int64),
                "pan_deg": np.array([t[2] for t in rows], dtype=float),
                "level": level,
                "reach_m": round(r, 3),
                "geometry": polys,
            }))
        table = pd.concat(frames, ignore_index=True)
        return gpd.GeoDataFrame(table, geometry="geometry", crs=sites.crs)


def _xy(points: np.ndarray) -> np.ndarray:
    points = np.asarray(points)
    if points.dtype == object:
        return shapely.get_coordinates(points)
    return points.astype(np.float64, copy=False)


def _degrees(frame: pd.DataFrame, column: str | None) -> np.ndarray:
    if column is None:
        return np.full(len(frame), np.nan)
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    bad = frame[column].notna().to_numpy() & ~np.isfinite(values)
    if bad.any():
        raise LayerError("existing", f"column {column!r} holds a value that is not a number of "
                                     f"degrees: {frame[column].iloc[int(np.argmax(bad))]!r}")
    return values
