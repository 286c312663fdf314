"""Coordinate reference systems: choose a metric CRS, project to it, label it.

Every distance in camplan is in ground metres, so every layer is projected to a
CRS whose units are metres on the ground at the study area before the planner
sees it (:func:`metric_choice` says which and why):

- a projected layer in metres whose scale error over the data is at most
  :data:`MAX_SCALE_ERROR` stays as it is (for example HK 1980 Grid, EPSG:2326,
  British National Grid, EPSG:27700, or the data's own UTM zone);
- a geographic layer (longitude/latitude, degrees) goes to the UTM zone of its data;
- a projected layer in other units (US survey feet, as in the Mesa sample data,
  ESRI:102649) goes to the UTM zone of its data;
- Web (pseudo-)Mercator, EPSG:3857, whose "metres" are 1/cos(latitude) ground
  metres (a 40 m reach is 25 m on the ground in London) and which is not
  conformal on the ellipsoid, goes to the UTM zone of its data wherever the data
  is; so does any other projection that stretches distances at the data by more
  than :data:`MAX_SCALE_ERROR` (World Mercator away from the equator, a UTM or
  national grid far from its zone), measured with :meth:`pyproj.Proj.get_factors`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TypeAlias

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from pyproj.exceptions import CRSError as PyprojCRSError

from geodata.errors import CRSError, LayerError
from geodata.validate import format_rows

__all__ = [
    "CRS_FIX",
    "MAX_SCALE_ERROR",
    "CRSLike",
    "MetricChoice",
    "as_crs",
    "check_lonlat_range",
    "crs_label",
    "is_metric",
    "metric_choice",
    "metric_crs",
    "resolve_crs",
    "scale_error",
    "to_metric",
]

logger = logging.getLogger(__name__)

#: Largest plausible projected coordinate, in metres (about half the Earth's circumference).
MAX_METRIC_COORDINATE = 2e7

#: Anything that names a CRS: "EPSG:2326", 2326, WKT or PROJ text, a pyproj.CRS.
CRSLike: TypeAlias = str | int | pyproj.CRS

#: The fix every missing-CRS message ends with.
CRS_FIX = "pass crs=... (command line --crs), e.g. --crs EPSG:2326"

_METRE_NAMES = frozenset({"metre", "meter", "m"})

MAX_SCALE_ERROR = 0.01
"""Largest relative error of a distance (|scale - 1|) over the data for a projected
CRS in metres to be used as it is: 1 %, i.e. 0.4 m on a 40 m reach."""

_PSEUDO_MERCATOR = "popular visualisation pseudo mercator"
"""pyproj's method name of Web Mercator (EPSG:3857, ESRI:102100, EPSG:900913, EPSG:3785)."""


@dataclass(frozen=True)
class MetricChoice:
    """The CRS distances are measured in, and why it was chosen.

    Attributes
    ----------
    crs
        A projected CRS whose units are ground metres over the data.
    reason
        One sentence naming the layer's CRS and what was done with it, e.g.
        ``"EPSG:3857 (WGS 84 / Pseudo-Mercator) is Web Mercator, ...; projected
        to EPSG:32630 (WGS 84 / UTM zone 30N), the UTM zone of the data"``.
    """

    crs: pyproj.CRS
    reason: str


def as_crs(crs: CRSLike, *, source: str = "crs") -> pyproj.CRS:
    """Turn anything pyproj understands ("EPSG:2326", 2326, WKT, a CRS) into a CRS.

    Parameters
    ----------
    crs
        The CRS as given by a user or read from a file.
    source
        The file or option the CRS came from, for the error message.

    Returns
    -------
    pyproj.CRS

    Raises
    ------
    CRSError
        When pyproj cannot interpret ``crs``.
    """
    try:
        return pyproj.CRS.from_user_input(crs)
    except PyprojCRSError as err:
        raise CRSError(
            source,
            f"{crs!r} is not a coordinate reference system pyproj understands; "
            "give an authority code such as EPSG:2326 (command line --crs EPSG:2326)",
        ) from err


def is_metric(crs: pyproj.CRS) -> bool:
    """Whether ``crs`` is projected with both horizontal axes in metres.

    Parameters
    ----------
    crs
        The CRS to test.

    Returns
    -------
    bool
    """
    horizontal = crs.sub_crs_list[0] if crs.is_compound else crs
    if not horizontal.is_projected:
        return False
    axes = horizontal.axis_info[:2]
    return len(axes) == 2 and all(
        axis.unit_name.lower() in _METRE_NAMES and axis.unit_conversion_factor == 1.0
        for axis in axes
    )


def crs_label(crs: CRSLike) -> str:
    """A short, portable label for ``crs``: ``"EPSG:32612"``, or WKT when it has no EPSG code.

    Parameters
    ----------
    crs
        Anything pyproj understands.

    Returns
    -------
    str
    """
    crs = as_crs(crs)
    code = crs.to_epsg()
    if code is not None:
        return f"EPSG:{code}"
    return crs.to_wkt()


def metric_crs(gdf: gpd.GeoDataFrame, *, source: str = "layer") -> pyproj.CRS:
    """The projected CRS in ground metres that distances for ``gdf`` are measured in.

    Parameters
    ----------
    gdf
        A layer with a CRS.
    source
        The file the layer came from, for error messages.

    Returns
    -------
    pyproj.CRS
        ``metric_choice(gdf, source=source).crs``.

    Raises
    ------
    CRSError
        When ``gdf`` has no CRS, or no extent to estimate a UTM zone from.
    """
    return metric_choice(gdf, source=source).crs


def metric_choice(
    gdf: gpd.GeoDataFrame, *, source: str = "layer", max_scale_error: float = MAX_SCALE_ERROR
) -> MetricChoice:
    """Choose the CRS in ground metres for ``gdf``, and say why.

    The layer's own CRS is kept when it is projected in metres, is not Web
    (pseudo-)Mercator, and stretches or shrinks distances by at most
    ``max_scale_error`` at the centre and the corners of the data's extent;
    otherwise the UTM zone of the data is used.

    Parameters
    ----------
    gdf
        A layer with a CRS.
    source
        The file the layer came from, for error messages.
    max_scale_error
        Largest |scale - 1| accepted for a projected CRS in metres.

    Returns
    -------
    MetricChoice

    Raises
    ------
    CRSError
        When ``gdf`` has no CRS, or no extent to estimate a UTM zone from
        while its CRS cannot be used as it is.
    """
    crs = _require_crs(gdf, source=source)
    problem = _not_ground_metres(gdf, crs, max_scale_error)
    if problem is None:
        error = scale_error(crs, gdf.total_bounds) if _has_extent(gdf) else None
        measured = "" if error is None else f" with a scale error of {error:.2%} over the data"
        return MetricChoice(crs, f"{_short(crs)} is projected in metres{measured}; used as is")
    if not _has_extent(gdf):
        raise CRSError(
            source,
            f"cannot choose a metric CRS for a layer without coordinates ({_short(crs)} "
            f"{problem}); pass a projected CRS in metres, e.g. crs='EPSG:2326'",
        )
    utm: pyproj.CRS = gdf.estimate_utm_crs()
    reason = f"{_short(crs)} {problem}; projected to {_short(utm)}, the UTM zone of the data"
    logger.info("%s: %s", source, reason)
    return MetricChoice(utm, reason)


def _not_ground_metres(
    gdf: gpd.GeoDataFrame, crs: pyproj.CRS, max_scale_error: float
) -> str | None:
    """Why ``crs`` does not measure ground metres over ``gdf``, or ``None`` when it does."""
    horizontal = crs.sub_crs_list[0] if crs.is_compound else crs
    if horizontal.is_geographic:
        return "is longitude/latitude in degrees, not metres"
    if not is_metric(crs):
        units = {axis.unit_name for axis in horizontal.axis_info[:2]}
        return f"is in {', '.join(sorted(units)) or 'unknown units'}, not metres"
    operation = horizontal.coordinate_operation
    method = operation.method_name.lower() if operation is not None else ""
    if not _has_extent(gdf):
        return "is Web (pseudo-)Mercator, not ground metres" if _PSEUDO_MERCATOR in method else None
    error = scale_error(crs, gdf.total_bounds)
    if _PSEUDO_MERCATOR in method:
        scale = "unknown" if error is None else f"{1 + error:.3f}"
        return (
            f"is Web (pseudo-)Mercator, whose metres are not ground metres "
            f"(scale about {scale} at the data)"
        )
    if error is not None and error > max_scale_error:
        return (
            f"distorts ground distances by {error:.1%} over the data "
            f"(more than the {max_scale_error:.0%} allowed)"
        )
    return None


def scale_error(crs: pyproj.CRS, bounds: np.ndarray) -> float | None:
    """The largest |scale - 1| of ``crs`` at the centre and corners of ``bounds``.

    Parameters
    ----------
    crs
        A projected CRS.
    bounds
        ``(minx, miny, maxx, maxy)`` in ``crs``.

    Returns
    -------
    float or None
        The relative error of a ground distance in the worst direction (from
        the axes of Tissot's indicatrix) over the points where the projection
        is defined, or ``None`` when pyproj cannot compute the factors there
        (a CRS without a geodetic datum, or coordinates outside its domain:
        :func:`to_metric` then reports them as implausible).
    """
    horizontal = crs.sub_crs_list[0] if crs.is_compound else crs
    if horizontal.geodetic_crs is None:
        return None
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    xs = np.array([(minx + maxx) / 2, minx, minx, maxx, maxx])
    ys = np.array([(miny + maxy) / 2, miny, maxy, miny, maxy])
    try:
        to_lonlat = pyproj.Transformer.from_crs(
            horizontal, horizontal.geodetic_crs, always_xy=True
        )
        lon, lat = to_lonlat.transform(xs, ys)
        factors = pyproj.Proj(horizontal).get_factors(lon, lat, errcheck=False)
    except (PyprojCRSError, pyproj.exceptions.ProjError):
        return None
    axes = np.concatenate([np.asarray(factors.tissot_semimajor, dtype=float),
                           np.asarray(factors.tissot_semiminor, dtype=float)])
    errors = np.abs(axes - 1.0)
    errors = errors[np.isfinite(errors)]
    return float(errors.max()) if errors.size else None


def to_metric(
    gdf: gpd.GeoDataFrame, *, source: str, crs: CRSLike | None = None
) -> gpd.GeoDataFrame:
    """Project ``gdf`` to a CRS in metres and check that the coordinates are plausible.

    Parameters
    ----------
    gdf
        A layer with a CRS.
    source
        The file the layer came from, for error messages.
    crs
        The target CRS; must be projected in metres. Default: :func:`metric_crs`.

    Returns
    -------
    geopandas.GeoDataFrame
        A projected copy, same index and columns.

    Raises
    ------
    CRSError
        When ``gdf`` has no CRS, or ``crs`` is not a projected CRS in metres.
    LayerError
        When projected coordinates are infinite, NaN or beyond ±2e7 m.
    """
    _require_crs(gdf, source=source)
    target = metric_crs(gdf, source=source) if crs is None else as_crs(crs, source=source)
    if not is_metric(target):
        raise CRSError(
            source,
            f"the target CRS {_short(target)} is not a projected CRS in metres; "
            "choose one such as a UTM zone or EPSG:2326 (HK 1980 Grid)",
        )
    projected = gdf.to_crs(target)
    _check_plausible(projected, source=source, target=target)
    logger.info("%s: projected %d features to %s", source, len(projected), _short(target))
    return projected


def resolve_crs(
    gdf: gpd.GeoDataFrame, *, given: CRSLike | None, source: str, geojson: bool = False
) -> gpd.GeoDataFrame:
    """Settle a layer's CRS from what the file declares and what the user gave.

    A file without a CRS takes ``given``; a file whose CRS equals ``given``
    keeps it; a GeoJSON whose coordinates cannot be longitude/latitude takes
    ``given`` (its EPSG:4326 is only the RFC 7946 default); any other
    disagreement is an error, never a silent override.

    Parameters
    ----------
    gdf
        The layer as read.
    given
        The CRS the user passed (``crs=``, command line ``--crs``), or None.
    source
        The file, for error messages.
    geojson
        Whether the layer was read from GeoJSON.

    Returns
    -------
    geopandas.GeoDataFrame
        ``gdf`` itself, or a copy with the CRS set.

    Raises
    ------
    CRSError
        When there is no CRS at all, or the file's CRS conflicts with ``given``.
    """
    if given is None:
        if gdf.crs is None:
            raise CRSError(
                source,
                f"has no coordinate reference system (CRS); {CRS_FIX}"
                " (a Shapefile keeps its CRS in the .prj file beside it)",
            )
        return gdf
    target = as_crs(given, source=source)
    if gdf.crs is None:
        logger.info("%s: declares no CRS; using crs=%s", source, target.to_string())
        return gdf.set_crs(target)
    if _same_crs(gdf.crs, target):
        return gdf
    if geojson and gdf.crs.is_geographic and not _fits_lonlat(gdf):
        logger.info(
            "%s: coordinates are not longitude/latitude, so the GeoJSON default CRS does not "
            "apply; using crs=%s",
            source,
            target.to_string(),
        )
        return gdf.set_crs(target, allow_override=True)
    raise CRSError(
        source,
        f"declares CRS {gdf.crs.to_string()} but crs={given!r} was given; a file's own CRS is "
        "never overridden: drop crs (command line --crs) to use the file's CRS, or reproject "
        f"the file to {target.to_string()} first",
    )


def _same_crs(a: pyproj.CRS, b: pyproj.CRS) -> bool:
    return a.equals(b, ignore_axis_order=True) or (
        a.to_authority() is not None and a.to_authority() == b.to_authority()
    )


def _lonlat_bounds(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """Bounds over the non-missing, non-empty geometries; all NaN when there are none."""
    return shapely.total_bounds(np.asarray(gdf.geometry.array, dtype=object))


def _fits_lonlat(gdf: gpd.GeoDataFrame) -> bool:
    minx, miny, maxx, maxy = _lonlat_bounds(gdf)
    if np.isnan([minx, miny, maxx, maxy]).any():
        return True
    return bool(max(abs(minx), abs(maxx)) <= 180 and max(abs(miny), abs(maxy)) <= 90)


def check_lonlat_range(gdf: gpd.GeoDataFrame, *, source: str, geojson: bool = False) -> None:
    """Check that a layer in a geographic CRS holds longitudes/latitudes in range.

    Parameters
    ----------
    gdf
        A layer with a CRS.
    source
        The file, for error messages.
    geojson
        Whether the layer was read from GeoJSON (the message then explains RFC 7946).

    Raises
    ------
    CRSError
        When the CRS is geographic but coordinates lie beyond ±180 / ±90.
    """
    if not gdf.crs.is_geographic or _fits_lonlat(gdf):
        return
    minx, miny, maxx, maxy = _lonlat_bounds(gdf)
    default = " (GeoJSON without a crs member is longitude/latitude, RFC 7946)" if geojson else ""
    raise CRSError(
        source,
        f"coordinates span x {minx:g}..{maxx:g}, y {miny:g}..{maxy:g}, outside longitude "
        f"-180..180 / latitude -90..90, but the layer's CRS is geographic "
        f"({gdf.crs.to_string()}){default}; if they are projected coordinates, {CRS_FIX}",
    )


def _require_crs(gdf: gpd.GeoDataFrame, *, source: str) -> pyproj.CRS:
    if gdf.crs is None:
        raise CRSError(
            source,
            "has no coordinate reference system (CRS); pass crs=... "
            "(command line --crs), e.g. --crs EPSG:2326",
        )
    crs: pyproj.CRS = gdf.crs
    return crs


def _has_extent(gdf: gpd.GeoDataFrame) -> bool:
    return len(gdf) > 0 and bool(np.isfinite(gdf.total_bounds).all())


def _check_plausible(gdf: gpd.GeoDataFrame, *, source: str, target: pyproj.CRS) -> None:
    coords, index = shapely.get_coordinates(np.asarray(gdf.geometry.array), return_index=True)
    if len(coords) == 0:
        return
    bad = ~np.isfinite(coords).all(axis=1)
    with np.errstate(invalid="ignore"):
        bad |= (np.abs(coords) > MAX_METRIC_COORDINATE).any(axis=1)
    if not bad.any():
        return
    rows = np.unique(index[bad]) + 1
    raise LayerError(
        source,
        f"coordinates at {format_rows(rows)} are infinite, NaN or farther than "
        f"{MAX_METRIC_COORDINATE:.0e} m from the origin after projecting to {_short(target)}; "
        "the layer's CRS is probably wrong: check it, or pass the right one with crs=... "
        "(command line --crs)",
    )


def _short(crs: pyproj.CRS) -> str:
    authority = crs.to_authority(min_confidence=70)
    if authority is not None:
        return f"{authority[0]}:{authority[1]} ({crs.name})"
    return crs.name
