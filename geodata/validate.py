"""Check a layer once, at the edge, and report every problem in one error.

:func:`validate_layer` runs every check, collects each problem as one sentence
that says what was found and what to do, and raises a single
:class:`~geodata.errors.LayerError` listing them all, so a user fixes a file in
one pass instead of one error at a time.

Row numbers in messages are 1-based positions in the layer: feature 1 is the
first feature of the file, and in a CSV file row 1 is the first data row
below the header.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.errors import LayerError, OptionError

__all__ = ["GEOMETRY_KINDS", "format_rows", "validate_layer"]

logger = logging.getLogger(__name__)

#: Accepted geometry types for each value of ``geometry=``; ``None`` accepts any.
GEOMETRY_KINDS: dict[str, tuple[str, ...] | None] = {
    "point": ("Point",),
    "polygon": ("Polygon", "MultiPolygon"),
    "line": ("LineString", "MultiLineString"),
    "point-or-polygon": ("Point", "Polygon", "MultiPolygon"),
    "any": None,
}

_POLYGON_IDS = (3, 6)  # Polygon, MultiPolygon
_ALWAYS_VALID_IDS = (0, 4)  # Point, MultiPoint (with finite coordinates)
#: Geometry type names by shapely type id (as ``GeoSeries.geom_type``); id -1 (missing): None.
_TYPE_NAMES = np.array(["Point", "LineString", "LinearRing", "Polygon", "MultiPoint",
                        "MultiLineString", "MultiPolygon", "GeometryCollection", None],
                       dtype=object)
_POLYGONAL = ("Polygon", "MultiPolygon")
_SHOWN = 5


def format_rows(rows: Sequence[int] | np.ndarray) -> str:
    """Name the first few 1-based row numbers: ``"rows 2, 5, 9 and 4 more"``.

    Parameters
    ----------
    rows
        1-based row numbers, in order.

    Returns
    -------
    str
    """
    rows = [int(r) for r in rows]
    word = "row" if len(rows) == 1 else "rows"
    shown = ", ".join(str(r) for r in rows[:_SHOWN])
    more = f" and {len(rows) - _SHOWN} more" if len(rows) > _SHOWN else ""
    return f"{word} {shown}{more}"


def validate_layer(
    gdf: gpd.GeoDataFrame,
    *,
    source: str,
    geometry: str = "any",
    weight: str | None = None,
    id_column: str | None = None,
    required: Sequence[str] = (),
    repair: bool = True,
    labels: Mapping[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """Check a layer and return a cleaned copy, or raise one error listing every problem.

    Checks features, CRS, columns, geometries (null, empty, wrong type, invalid,
    non-finite), weights (numbers, finite, >= 0) and ids (present, unique).
    Nothing is dropped silently: a site without a location is an error.

    Parameters
    ----------
    gdf
        The layer, as read by :func:`geodata.read_layer`.
    source
        The file the layer came from; every message starts with it.
    geometry
        ``"point"`` (multi-points are not), ``"polygon"``, ``"line"``,
        ``"point-or-polygon"`` or ``"any"``.
    weight, id_column
        A column of numbers >= 0 (weight, population); one of unique, non-null ids.
    required
        Other columns that must exist.
    repair
        Repair invalid polygons (:func:`shapely.make_valid`, logged) instead of reporting them.
    labels
        The option naming each column, as the user wrote it (``{"pop": "--population"}``).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with the same index and row order, invalid polygons repaired and
        the weight column, if any, as float64.

    Raises
    ------
    LayerError
        Listing every problem found (:class:`OptionError` for an unknown ``geometry``).
    """
    expected = _expected_types(geometry)
    if not _has_geometry(gdf):
        raise LayerError(source, "is not a layer with a geometry column")
    result = gdf.copy()
    problems = _check_layer(result)
    problems += _check_contents(
        result, weight=weight, id_column=id_column, required=required, labels=labels or {},
        expected=expected, repair=repair, source=source,
    )  # fmt: skip
    if problems:
        raise LayerError(source, problems)
    logger.debug("%s: %d features passed validation", source, len(result))
    return result


def _check_layer(result: gpd.GeoDataFrame) -> list[str]:
    """Problems of the layer as a whole: no features, no CRS."""
    problems = []
    if len(result) == 0:
        problems.append("has no features; check that the file holds data (or the right layer)")
    if result.crs is None:
        problems.append(
            "has no coordinate reference system (CRS); pass crs=... (command line --crs)"
        )
    return problems


def _check_contents(
    result: gpd.GeoDataFrame,
    *,
    weight: str | None,
    id_column: str | None,
    required: Sequence[str],
    labels: Mapping[str, str],
    expected: tuple[str, ...] | None,
    repair: bool,
    source: str,
) -> list[str]:
    """Columns, geometries, weights and ids; the weight column becomes float64 in place."""
    problems = _check_columns(
        result, weight=weight, id_column=id_column, required=required, labels=labels
    )
    problems += _check_geometries(result, expected=expected, repair=repair, source=source)
    if weight is not None and weight in result.columns:
        weight_problems, values = _check_weight(result[weight], name=weight)
        problems += weight_problems
        if values is not None:
            result[weight] = values
    if id_column is not None and id_column in result.columns:
        problems += _check_ids(result[id_column], name=id_column)
    return problems


def _has_geometry(gdf: object) -> bool:
    if not isinstance(gdf, gpd.GeoDataFrame):
        return False
    try:
        return gdf.geometry is not None
    except AttributeError:  # no active geometry column
        return False


def _expected_types(geometry: str) -> tuple[str, ...] | None:
    if geometry not in GEOMETRY_KINDS:
        raise OptionError(
            "geometry",
            f"{geometry!r} is not a geometry kind; choose one of {', '.join(GEOMETRY_KINDS)}",
        )
    return GEOMETRY_KINDS[geometry]


def _check_columns(
    gdf: gpd.GeoDataFrame,
    *,
    weight: str | None,
    id_column: str | None,
    required: Sequence[str],
    labels: Mapping[str, str],
) -> list[str]:
    wanted = dict.fromkeys(required, "required")
    if weight is not None:
        wanted[weight] = "weight"
    if id_column is not None:
        wanted[id_column] = "id"
    present = [str(c) for c in gdf.columns if c != gdf.geometry.name]
    problems = []
    for column, role in wanted.items():
        if column not in gdf.columns:
            named = f" (named by {labels[column]})" if column in labels else ""
            problems.append(
                f"has no {role} column {column!r}{named}; columns present: "
                f"{', '.join(present) or '(none)'}; name the right column or add it"
            )
    return problems


def _check_geometries(
    gdf: gpd.GeoDataFrame,
    *,
    expected: tuple[str, ...] | None,
    repair: bool,
    source: str,
) -> list[str]:
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    problems = []
    missing = shapely.is_missing(geoms)
    if missing.any():
        problems.append(
            f"has no geometry (null) at {format_rows(_rows(missing))}; every feature needs "
            "a location: fix or remove those rows"
        )
    empty = ~missing & shapely.is_empty(geoms)
    if empty.any():
        problems.append(
            f"has an empty geometry at {format_rows(_rows(empty))}; give those features "
            "a location or remove them"
        )
    present = ~missing & ~empty
    ids = shapely.get_type_id(geoms)
    types = _TYPE_NAMES[ids]  # "Point", ...; None if missing (id -1: the last name)
    finite = _finite(geoms, present)
    problems += _check_coordinates(present, finite)
    problems += _check_types(types, present, expected)
    problems += _check_validity(gdf, geoms, (ids, types), finite, repair=repair, source=source)
    return problems


def _finite(geoms: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Present geometries whose coordinates are all finite (one pass over the coordinates)."""
    coords, index = shapely.get_coordinates(geoms[present], return_index=True)
    finite = present.copy()
    bad = ~np.isfinite(coords).all(axis=1)
    if bad.any():
        finite[np.flatnonzero(present)[np.unique(index[bad])]] = False
    return finite


def _check_coordinates(present: np.ndarray, finite: np.ndarray) -> list[str]:
    bad = present & ~finite
    if not bad.any():
        return []
    message = (
        f"has NaN or infinite coordinates at {format_rows(_rows(bad))}; fix the coordinates "
        "of those features"
    )
    return [message]


def _check_types(
    types: np.ndarray, present: np.ndarray, expected: tuple[str, ...] | None
) -> list[str]:
    if expected is None or not present.any():
        return []
    wrong = present & ~np.isin(types, expected)
    if not wrong.any():
        return []
    found = ", ".join(
        f"{name} ({format_rows(_rows(wrong & (types == name)))})"
        for name in sorted(set(types[wrong]))
    )
    message = (
        f"has the wrong geometry type: found {found}; expected {' or '.join(expected)}; "
        "use a layer of that type or convert the geometries"
    )
    return [message]


def _check_validity(
    gdf: gpd.GeoDataFrame,
    geoms: np.ndarray,
    kinds: tuple[np.ndarray, np.ndarray],
    finite: np.ndarray,
    *,
    repair: bool,
    source: str,
) -> list[str]:
    ids, types = kinds
    invalid = finite & ~np.isin(ids, _ALWAYS_VALID_IDS)  # finite points are always valid
    if invalid.any():
        invalid[invalid] = ~shapely.is_valid(geoms[invalid])
    if not invalid.any():
        return []
    polygonal = invalid & np.isin(types, _POLYGONAL)
    problems = []
    other = invalid & ~polygonal
    if other.any():
        problems.append(_invalid_message(geoms, other, "geometries") + "; fix them")
    if not polygonal.any():
        return problems
    if not repair:
        problems.append(
            _invalid_message(geoms, polygonal, "polygons")
            + "; repair them (QGIS: Fix Geometries) or allow repair"
        )
        return problems
    repaired = np.array([_polygonal_part(g) for g in shapely.make_valid(geoms[polygonal])])
    failed = shapely.is_empty(repaired) | (shapely.area(repaired) <= 0)
    positions = np.flatnonzero(polygonal)
    if failed.any():
        problems.append(
            f"has invalid polygons at {format_rows(positions[failed] + 1)} that do not "
            "repair into polygons (they collapse to lines or points); fix or remove them"
        )
    fixed = positions[~failed]
    if len(fixed):
        column = gdf.geometry.name
        gdf.iloc[fixed, gdf.columns.get_loc(column)] = repaired[~failed]
        logger.warning(
            "%s: repaired %d invalid polygon(s) at %s with shapely.make_valid",
            source,
            len(fixed),
            format_rows(fixed + 1),
        )
    return problems


def _invalid_message(geoms: np.ndarray, mask: np.ndarray, what: str) -> str:
    first = int(np.flatnonzero(mask)[0])
    reason = shapely.is_valid_reason(geoms[first])
    return f"has invalid {what} at {format_rows(_rows(mask))} (row {first + 1}: {reason})"


def _polygonal_part(geom: shapely.Geometry) -> shapely.Geometry:
    if shapely.get_type_id(geom) in _POLYGON_IDS:
        return geom
    parts = [p for p in shapely.get_parts(geom) if shapely.get_type_id(p) in _POLYGON_IDS]
    polygons: list[shapely.Geometry] = [q for p in parts for q in shapely.get_parts(p)]
    if not polygons:
        return shapely.Polygon()
    if len(polygons) == 1:
        return polygons[0]
    return shapely.MultiPolygon(cast("list[shapely.Polygon]", polygons))


def _check_weight(values: pd.Series, *, name: str) -> tuple[list[str], pd.Series | None]:
    label = f"weight column {name!r}"
    if pd.api.types.is_bool_dtype(values):
        return [f"{label} holds true/false values; it must hold numbers"], None
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    problems = []
    null = values.isna().to_numpy()
    non_numeric = numbers.isna().to_numpy() & ~null
    if non_numeric.any():
        example = values.iloc[int(np.flatnonzero(non_numeric)[0])]
        problems.append(
            f"{label} is not numeric at {format_rows(_rows(non_numeric))} "
            f"(e.g. {_show(example)}); weights must be numbers"
        )
    array = numbers.to_numpy()
    if null.any():
        problems.append(
            f"{label} is missing (NaN) at {format_rows(_rows(null))}; give every feature "
            "a weight (0 if it has none)"
        )
    infinite = np.isinf(array)
    if infinite.any():
        problems.append(f"{label} is infinite at {format_rows(_rows(infinite))}")
    negative = array < 0
    if negative.any():
        problems.append(
            f"{label} is negative at {format_rows(_rows(negative))} "
            f"(smallest {array[negative].min():g}); weights must be 0 or more"
        )
    finite = array[np.isfinite(array)]
    with np.errstate(over="ignore"):
        total = finite.sum()
    if not infinite.any() and not np.isfinite(total):
        problems.append(
            f"{label} sums to more than a 64-bit float holds ({finite.max():g} is the largest "
            "weight); rescale the weights"
        )
    return problems, (None if problems else numbers)


def _check_ids(ids: pd.Series, *, name: str) -> list[str]:
    problems = []
    null = ids.isna().to_numpy()
    if null.any():
        problems.append(
            f"id column {name!r} is missing at {format_rows(_rows(null))}; every feature "
            "needs an id"
        )
    duplicated = ids.duplicated(keep=False).to_numpy() & ~null
    if duplicated.any():
        positions = pd.Series(np.arange(1, len(ids) + 1)[duplicated], dtype="int64")
        groups = positions.groupby(ids.to_numpy()[duplicated], sort=False)
        described = [f"{_show(key)} ({format_rows(rows.to_numpy())})" for key, rows in groups]
        more = f" and {len(described) - _SHOWN} more" if len(described) > _SHOWN else ""
        problems.append(
            f"id column {name!r} has duplicate ids: {', '.join(described[:_SHOWN])}{more}; "
            "ids must be unique"
        )
    return problems


def _show(value: object) -> str:
    item = getattr(value, "item", None)
    return repr(item() if callable(item) else value)


def _rows(mask: np.ndarray) -> np.ndarray:
    return np.flatnonzero(mask) + 1


