"""Coordinate reference systems: choose a metric CRS, project to it, label it.

Every distance in camplan is in metres, so every layer is projected to a
projected CRS whose axes are in metres before the planner sees it:

- a geographic layer (longitude/latitude) goes to its UTM zone;
- a projected layer in metres stays as it is (for example HK 1980 Grid, EPSG:2326);
- a projected layer in other units (US survey feet, as in the Mesa sample data,
  ESRI:102649) goes to the UTM zone of its data.
"""

from __future__ import annotations

import logging
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
    "CRSLike",
    "as_crs",
    "check_lonlat_range",
    "crs_label",
    "is_metric",
    "metric_crs",
    "resolve_crs",
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
    """The projected CRS in metres that distances for ``gdf`` are measured in.

    Parameters
    ----------
    gdf
        A layer with a CRS.
    source
        The file the layer came from, for error messages.

    Returns
    -------
    pyproj.CRS
        The layer's own CRS when it is projected in metres, else the UTM zone
        estimated from the layer's extent.

    Raises
    ------
    CRSError
        When ``gdf`` has no CRS, or no extent to estimate a UTM zone from.
    """
    crs = _require_crs(gdf, source=source)
    if is_metric(crs):
        return crs
    if not _has_extent(gdf):
        raise CRSError(
            source,
            f"cannot choose a metric CRS for a layer without coordinates (its CRS is "
            f"{_short(crs)}); pass a projected CRS in metres, e.g. crs='EPSG:2326'",
        )
    utm: pyproj.CRS = gdf.estimate_utm_crs()
    logger.debug("%s: %s is not metric; using %s", source, _short(crs), _short(utm))
    return utm


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
