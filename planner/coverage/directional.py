"""Directional coverage: one column per (mount, pan) for cameras that look one way.

A camera on mount ``j`` panned to azimuth ``theta`` (degrees clockwise from
north, as OSM's ``camera:direction``) sees demand point ``i`` when

* the distance ``d(i, j)`` is at most the reach of a DORI level
  (:mod:`planner.coverage.cameras`) and at least the blind radius under the mount;
* the azimuth from ``j`` to ``i`` lies within ``hfov / 2`` of ``theta``
  (the angle is measured the short way round, so pans near 0/360 wrap);
* with the sightline model, the segment from ``j`` to ``i`` crosses no building.

A point at the mount itself (``d = 0``) has no azimuth and counts as seen by every pan.

The quality of a pair is the weight of the best level at which the camera sees
the point (default identify 1, recognise 0.8, observe 0.5, detect 0.25), or 1
when a single ``level`` is asked for (then only pairs within that level's
reach exist). Pans are tried every ``pan_step_deg`` degrees from north, so
mount ``j`` owns the columns ``j * P .. j * P + P - 1`` with ``P = 360 / step``.

The pairs within the largest reach come from the compiled site-grid kernel of
:mod:`planner.coverage.disc`; a second compiled pass fans each pair out to the
pans that see it and writes the sparse matrix column by column: never dense.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import shapely
from numba import njit
from scipy import sparse

from geodata.errors import CoverageTooLargeError, OptionError
from planner.coverage.cameras import DEFAULT_LEVEL_WEIGHTS, DORI_PPM, LEVELS, CameraSpec
from planner.coverage.disc import BYTES_PER_PAIR, _fill_pairs, _memory_limit, _SiteGrid

__all__ = [
    "DirectionalOptions",
    "directional_matrix",
    "level_reaches",
    "wedge_polygons",
    "wedge_quality",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DirectionalOptions:
    """How camera sets are modelled and which pans are tried.

    Attributes
    ----------
    camera
        The camera type and the number of cameras per set.
    pan_step_deg
        Pans tried, every this many degrees from north (must divide 360).
    level
        When set, a point counts (quality 1) only when seen at this DORI level or better.
    level_weights
        Quality of a point seen at each level (best level first), without ``level``.
    spread_deg
        When set, the cameras of a set are fixed this many degrees apart
        (180 with two cameras: back to back); only the first camera's pan is chosen.
    """

    camera: CameraSpec
    pan_step_deg: float = 15.0
    level: str | None = None
    level_weights: tuple[tuple[str, float], ...] = tuple(DEFAULT_LEVEL_WEIGHTS.items())
    spread_deg: float | None = None
    _pans: int = field(init=False, repr=False, compare=False, default=0)

    def __post_init__(self) -> None:
        """Check the pans, levels, weights and spread."""
        step = self.pan_step_deg
        if not (isinstance(step, (int, float)) and math.isfinite(step) and 0 < step <= 180):
            raise OptionError("--pan-step", f"must lie in (0, 180] degrees, got {step!r}")
        pans = round(360.0 / step)
        if abs(pans * step - 360.0) > 1e-9:
            raise OptionError("--pan-step", f"must divide 360 degrees, got {step!r}")
        object.__setattr__(self, "_pans", pans)
        if self.level is not None and self.level not in DORI_PPM:
            raise OptionError("--level", f"unknown level {self.level!r}: use one of "
                                         f"{', '.join(LEVELS)}")
        weights = dict(self.level_weights)
        if set(weights) != set(LEVELS):
            raise OptionError("--level-weights", f"give a weight for each of {', '.join(LEVELS)}")
        values = [weights[k] for k in LEVELS]
        if any(not (0 < v <= 1) for v in values) or any(np.diff(values) > 0):
            raise OptionError("--level-weights", "weights must lie in (0, 1] and must not rise "
                                                 f"from identify to detect, got {weights}")
        if self.spread_deg is not None:
            s = self.spread_deg / step
            if self.camera.per_set < 2 or abs(s - round(s)) > 1e-9 or round(s) % pans == 0:
                raise OptionError("--spread", "needs 2+ cameras per set and a multiple of "
                                              f"--pan-step ({step:g}) that is not a whole turn")

    @property
    def n_pans(self) -> int:
        """Pans tried per mount, ``P = 360 / pan_step_deg``."""
        return self._pans

    @property
    def pans_deg(self) -> np.ndarray:
        """The pans tried, degrees clockwise from north."""
        return np.arange(self._pans) * float(self.pan_step_deg)

    @property
    def spread_steps(self) -> int | None:
        """The fixed spread in pan steps (``None``: free pans)."""
        return None if self.spread_deg is None else round(self.spread_deg / self.pan_step_deg)

    @property
    def levels(self) -> tuple[str, ...]:
        """The levels that count, best first (one with ``level``)."""
        if self.level is None:
            return LEVELS
        return LEVELS[LEVELS.index(self.level):][:1]

    def thresholds(self, camera: CameraSpec | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Reach (metres, ascending) and quality of each level that counts."""
        cam = camera or self.camera
        weights = dict(self.level_weights)
        reach = np.array([cam.reach_m(k) for k in self.levels])
        quality = np.ones(1) if self.level is not None else np.array(
            [weights[k] for k in self.levels])
        return reach, quality

    @property
    def max_reach_m(self) -> float:
        """Reach of the farthest level that counts, metres."""
        return float(self.thresholds()[0][-1])

    def as_dict(self) -> dict[str, object]:
        """The camera model as JSON values, for the plan's parameters."""
        return {
            **self.camera.as_dict(),
            "pan_step_deg": float(self.pan_step_deg),
            "level": self.level,
            "level_weights": dict(self.level_weights),
            "spread_deg": self.spread_deg,
        }


@njit(cache=True, inline="always")
def _level(d, blind, reach):
    """Index of the best level seen at distance ``d`` (-1: not seen)."""
    if d < blind:
        return -1
    for lv in range(len(reach)):
        if d <= reach[lv]:
            return lv
    return -1


@njit(cache=True, inline="always")
def _pan_range(dx, dy, step, half, n_pans):
    """Pan indices ``lo..hi`` (taken modulo ``n_pans``, none twice) that may see ``(dx, dy)``."""
    if dx == 0.0 and dy == 0.0:
        return 0, n_pans - 1
    az = math.degrees(math.atan2(dx, dy)) % 360.0
    lo = math.floor((az - half) / step) - 1
    hi = math.ceil((az + half) / step) + 1
    if hi - lo + 1 >= n_pans:
        return 0, n_pans - 1
    return lo, hi


@njit(cache=True, inline="always")
def _sees(dx, dy, pan_deg, half):
    """Whether a camera panned to ``pan_deg`` sees the offset ``(dx, dy)`` (east, north)."""
    if dx == 0.0 and dy == 0.0:
        return True
    az = math.degrees(math.atan2(dx, dy)) % 360.0
    off = abs((az - pan_deg + 180.0) % 360.0 - 180.0)
    return off <= half + 1e-9


@njit(cache=True)
def _fan_out(  # noqa: PLR0913 - a compiled kernel
    demand_xy, mount_xy, indptr, indices, dist, blind, reach, quality,
             n_pans, step, half, col_ptr, out_idx, out_q, count_only):
    """Fan every (point, mount) pair out to the pans that see it.

    With ``count_only`` fills ``col_ptr[c + 1]`` with the entries of column ``c``;
    else writes rows (ascending per column) and qualities from positions ``col_ptr``.
    """
    for i in range(len(indptr) - 1):
        for e in range(indptr[i], indptr[i + 1]):
            lv = _level(dist[e], blind, reach)
            if lv < 0:
                continue
            j = indices[e]
            dx = demand_xy[i, 0] - mount_xy[j, 0]
            dy = demand_xy[i, 1] - mount_xy[j, 1]
            lo, hi = _pan_range(dx, dy, step, half, n_pans)
            for t in range(lo, hi + 1):
                p = t % n_pans
                if not _sees(dx, dy, p * step, half):
                    continue
                c = j * n_pans + p
                if count_only:
                    col_ptr[c + 1] += 1
                else:
                    out_idx[col_ptr[c]] = i
                    out_q[col_ptr[c]] = quality[lv]
                    col_ptr[c] += 1


def _pairs(demand_xy: np.ndarray, mount_xy: np.ndarray, radius_m: float,
           max_bytes: int | None, spread: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR ``(indptr, mount indices, distances)`` of every point's mounts within ``radius_m``."""
    from planner.coverage.disc import _count_pairs

    grid = _SiteGrid.build(mount_xy, radius_m)
    counts = _count_pairs(demand_xy, *grid.args(), float(radius_m))
    nnz = int(counts.sum())
    need = int(nnz * (12 + spread * BYTES_PER_PAIR))
    limit = _memory_limit() if max_bytes is None else max_bytes
    if need > limit:
        raise CoverageTooLargeError(
            f"directional coverage of {len(mount_xy):,} mounts over {len(demand_xy):,} points "
            f"would hold about {nnz * spread:,.0f} (camera, point) pairs "
            f"({need / 2**30:.1f} GiB), more than the {limit / 2**30:.1f} GiB allowed: use a "
            "larger --pan-step, a coarser demand grid or fewer candidate sites"
        )
    indptr = np.zeros(len(demand_xy) + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    indices, dist = _fill_pairs(demand_xy, *grid.args(), float(radius_m), indptr)
    return indptr, indices, dist


def _drop_blocked(demand_xy, mount_xy, indptr, indices, dist, tree):
    from planner.coverage.sightline import blocked_pairs

    rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    blocked = blocked_pairs(mount_xy[indices], demand_xy[rows], tree)
    keep = ~blocked
    logger.info("directional sightline: %d of %d pairs blocked", int(blocked.sum()), len(keep))
    new_ptr = np.zeros_like(indptr)
    np.cumsum(np.bincount(rows[keep], minlength=len(indptr) - 1), out=new_ptr[1:])
    return new_ptr, indices[keep], dist[keep]


def directional_matrix(
    demand_xy: np.ndarray,
    mount_xy: np.ndarray,
    options: DirectionalOptions,
    *,
    tree: shapely.STRtree | None = None,
    max_bytes: int | None = None,
) -> sparse.csc_array:
    """Sparse ``n x (m * P)`` qualities: column ``j * P + p`` is mount ``j`` panned to ``p * step``.

    Parameters
    ----------
    demand_xy, mount_xy
        Coordinates in a projected CRS (metres), shapes ``(n, 2)`` and ``(m, 2)``.
    options
        Camera, pans and levels.
    tree
        STRtree of building obstacles (:func:`planner.coverage.sightline.obstacles`):
        pairs whose sight line crosses one are dropped.
    max_bytes
        Memory allowed; default 60 % of free memory.
    """
    demand_xy = np.ascontiguousarray(demand_xy, dtype=np.float64)
    mount_xy = np.ascontiguousarray(mount_xy, dtype=np.float64)
    n, m, n_pans = len(demand_xy), len(mount_xy), options.n_pans
    if n == 0 or m == 0:
        return sparse.csc_array((n, m * n_pans), dtype=np.float64)
    reach, quality = options.thresholds()
    half = options.camera.hfov_deg / 2.0
    spread = min(n_pans, options.camera.hfov_deg / options.pan_step_deg + 1.0)
    indptr, indices, dist = _pairs(demand_xy, mount_xy, float(reach[-1]), max_bytes, spread)
    if tree is not None:
        indptr, indices, dist = _drop_blocked(demand_xy, mount_xy, indptr, indices, dist, tree)
    args = (demand_xy, mount_xy, indptr, indices, dist, float(options.camera.blind_m), reach,
            quality, n_pans, float(options.pan_step_deg), half)
    col_ptr = np.zeros(m * n_pans + 1, dtype=np.int64)
    _fan_out(*args, col_ptr, np.empty(0, np.int32), np.empty(0), True)
    np.cumsum(col_ptr, out=col_ptr)
    nnz = int(col_ptr[-1])
    out_idx, out_q = np.empty(nnz, dtype=np.int32), np.empty(nnz)
    pos = col_ptr[:-1].copy()
    _fan_out(*args, pos, out_idx, out_q, False)
    del indices, dist
    if nnz < np.iinfo(np.int32).max:
        col_ptr = col_ptr.astype(np.int32)
    logger.info("directional coverage: %d points x %d mounts x %d pans, %d pairs", n, m,
                n_pans, nnz)
    out = sparse.csc_array((out_q, out_idx, col_ptr), shape=(n, m * n_pans))
    out.has_sorted_indices = True
    return out


@njit(cache=True)
def _wedge_best(  # noqa: PLR0913 - a compiled kernel
    demand_xy, cam_xy, indptr, indices, dist, pan, half, reach, quality, blind,
                best):
    for i in range(len(indptr) - 1):
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            lv = _level(dist[e], blind, reach[j])
            if lv < 0 or quality[lv] <= best[i]:
                continue
            dx = demand_xy[i, 0] - cam_xy[j, 0]
            dy = demand_xy[i, 1] - cam_xy[j, 1]
            if _sees(dx, dy, pan[j], half[j]):
                best[i] = quality[lv]


def wedge_quality(
    demand_xy: np.ndarray,
    camera_xy: np.ndarray,
    pan_deg: np.ndarray,
    hfov_deg: np.ndarray,
    options: DirectionalOptions,
) -> np.ndarray:
    """Quality each point already has from existing cameras with their own pan and field of view.

    Their resolution is taken to be that of ``options.camera`` (existing-camera
    layers rarely say it); their reach follows from their own field of view.
    """
    n = len(demand_xy)
    best = np.zeros(n)
    if len(camera_xy) == 0 or n == 0:
        return best
    hfov = np.asarray(hfov_deg, dtype=np.float64)
    if np.any(~np.isfinite(hfov) | (hfov <= 0) | (hfov >= 360)):
        raise OptionError("existing", "camera fields of view must lie in (0, 360) degrees")
    cams = [options.camera if h >= 180 else
            CameraSpec("existing", options.camera.resolution_px, float(h)) for h in hfov]
    # A 180+ degree camera (a fisheye) gets the reach of the planned camera type.
    reach = np.array([options.thresholds(c)[0] for c in cams])
    quality = options.thresholds()[1]
    demand_xy = np.ascontiguousarray(demand_xy, dtype=np.float64)
    cam_xy = np.ascontiguousarray(camera_xy, dtype=np.float64)
    indptr, indices, dist = _pairs(demand_xy, cam_xy, float(reach.max()), None, 1.0)
    _wedge_best(demand_xy, cam_xy, indptr, indices, dist,
                np.asarray(pan_deg, dtype=np.float64) % 360.0, hfov / 2.0, reach, quality,
                float(options.camera.blind_m), best)
    return best


def wedge_polygons(
    mount_xy: np.ndarray,
    pan_deg: np.ndarray,
    hfov_deg: float,
    reach_m: float,
    *,
    blind_m: float = 0.0,
    arc_points: int = 24,
) -> np.ndarray:
    """One sector polygon per camera: from ``blind_m`` to ``reach_m`` around its pan."""
    k = len(mount_xy)
    if k == 0:
        return np.empty(0, dtype=object)
    offsets = np.linspace(-hfov_deg / 2.0, hfov_deg / 2.0, arc_points + 1)
    az = np.radians(np.asarray(pan_deg, dtype=np.float64)[:, None] + offsets[None, :])
    east, north = np.sin(az), np.cos(az)
    x, y = mount_xy[:, :1], mount_xy[:, 1:2]
    outer = np.stack([x + reach_m * east, y + reach_m * north], axis=-1)
    if blind_m > 0:
        inner = np.stack([x + blind_m * east, y + blind_m * north], axis=-1)[:, ::-1]
    else:
        inner = np.asarray(mount_xy, dtype=np.float64)[:, None, :]
    ring = np.concatenate([outer, inner, outer[:, :1]], axis=1)
    return shapely.polygons(ring)


def level_reaches(options: DirectionalOptions) -> Mapping[str, float]:
    """Reach of each level that counts, best first (for outputs)."""
    reach, _ = options.thresholds()
    return dict(zip(options.levels, reach.tolist(), strict=True))
