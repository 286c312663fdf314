"""Read one input layer from any vector format GDAL reads, or from CSV.

:func:`read_layer` is the only way camplan reads a layer. It turns every way a
file can be wrong (missing, a folder, damaged, empty, without a CRS, with
coordinates that cannot be right) into one :class:`~geodata.errors.LayerError`
that names the file, says what is wrong and what to do.
"""

from __future__ import annotations

import csv
import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
import pyproj

from geodata.cells import typed_columns
from geodata.crs import CRS_FIX, CRSLike, as_crs, check_lonlat_range, resolve_crs
from geodata.errors import CRSError, LayerError, OptionError
from geodata.parquet import read_geoparquet
from geodata.raster import RASTER_SUFFIXES, raster_points, read_raster
from geodata.validate import format_rows

__all__ = ["COORDINATE_COLUMNS", "read_layer"]

logger = logging.getLogger(__name__)

#: Coordinate column pairs recognised in CSV files (any case), in order of preference.
COORDINATE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("lon", "lat"),
    ("lng", "lat"),
    ("long", "lat"),
    ("longitude", "latitude"),
    ("x", "y"),
    ("easting", "northing"),
)
_GEOGRAPHIC_COLUMNS = frozenset(COORDINATE_COLUMNS[:4])

_CSV_SEPARATORS: dict[str, str | None] = {".csv": ",", ".tsv": "\t", ".txt": None}
_PARQUET_SUFFIXES = frozenset({".parquet", ".geoparquet"})
_GEOJSON_SUFFIXES = frozenset({".geojson", ".json", ".geojsonl", ".geojsons", ".geojsonseq"})
_FOLDER_SOURCES = frozenset({".gdb"})
_LAYER_SUFFIXES = frozenset(
    {".shp", ".gpkg", ".fgb", ".csv", ".tsv", ".txt", ".parquet", ".geoparquet"}
    | _GEOJSON_SUFFIXES
    | RASTER_SUFFIXES
)
_GDAL_ERRORS = (
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
    pyogrio.errors.FeatureError,
    pyogrio.errors.FieldError,
    pyogrio.errors.GeometryError,
    pyogrio.errors.CRSError,
)
_FORMATS = "GeoJSON, GeoPackage, Shapefile, GeoParquet, FlatGeobuf or CSV"


def read_layer(
    path: str | os.PathLike[str],
    *,
    role: str = "layer",
    layer: str | int | None = None,
    crs: CRSLike | None = None,
    x: str | None = None,
    y: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a layer from a file, with its CRS resolved and checked.

    Parameters
    ----------
    path
        A vector file GDAL reads (GeoJSON, GeoPackage, Shapefile, FlatGeobuf,
        a ``.gdb`` folder), GeoParquet (``.parquet``), a table of points
        (``.csv``, ``.tsv``, ``.txt``) or a raster (``.tif``, ``.asc``, ...: one
        point per populated cell, ``weight`` = value; :mod:`geodata.raster`).
    role
        What the layer is for ("sites", "demand", ...), used in messages.
    layer
        The layer to read from a file that holds several (a GeoPackage).
    crs
        The CRS of the coordinates, for a file that declares none (a CSV of
        eastings/northings, a Shapefile without ``.prj``). A file that declares
        a different CRS is an error, not silently overridden.
    x, y
        CSV only: the columns holding x (longitude, easting) and y (latitude,
        northing). Default: detected from their names (``lon``/``lat``,
        ``longitude``/``latitude``, ``x``/``y``, ``easting``/``northing``, any case).

    Returns
    -------
    geopandas.GeoDataFrame
        At least one feature, with a CRS, in file order.

    Raises
    ------
    LayerError
        When the file is missing, unreadable, damaged or has no features.
    CRSError
        When the CRS is missing, conflicts with ``crs`` or does not fit the coordinates.
    OptionError
        When only one of ``x`` and ``y`` is given, or they are given for a non-CSV file.
    """
    path = Path(path)
    source = str(path) if role == "layer" else f"{role} layer {path}"
    _check_path(path, source=source)
    suffix = path.suffix.lower()
    if suffix in _CSV_SEPARATORS:
        gdf = _read_csv(path, source=source, crs=crs, x=x, y=y)
    elif x is not None or y is not None:
        raise OptionError("x" if x is not None else "y", f"applies to CSV files only: {path}")
    elif suffix in RASTER_SUFFIXES:
        gdf = raster_points(read_raster(path, role=role, crs=crs))
    else:
        gdf = _read_features(path, source=source, layer=layer, crs=crs)
    check_lonlat_range(gdf, source=source, geojson=suffix in _GEOJSON_SUFFIXES)
    logger.info("%s: read %d features (CRS %s)", source, len(gdf), gdf.crs.to_string())
    return gdf


def _read_features(
    path: Path, *, source: str, layer: str | int | None, crs: CRSLike | None
) -> gpd.GeoDataFrame:
    """A GeoParquet or GDAL vector file, with at least one feature and its CRS settled."""
    suffix = path.suffix.lower()
    if suffix in _PARQUET_SUFFIXES:
        gdf = _read_parquet(path, source)
    else:
        gdf = _read_vector(path, source=source, layer=layer)
    _require_features(gdf, source)
    return resolve_crs(gdf, given=crs, source=source, geojson=suffix in _GEOJSON_SUFFIXES)


def _check_path(path: Path, *, source: str) -> None:
    if not path.exists():
        raise LayerError(
            source,
            f"file not found; check the path (relative paths start from {Path.cwd()})",
        )
    if path.is_dir() and path.suffix.lower() not in _FOLDER_SOURCES:
        inside = sorted(p.name for p in path.iterdir() if p.suffix.lower() in _LAYER_SUFFIXES)
        hint = (
            f"pass one of the layer files inside it: {', '.join(inside[:5])}"
            if inside
            else "it holds no layer files; pass the path of a layer file"
        )
        raise LayerError(source, f"is a folder, not a file; {hint}")
    if not os.access(path, os.R_OK):
        raise LayerError(source, "cannot be read (permission denied); check the file's permissions")


def _reason(err: BaseException) -> str:
    """The error's own message on one line, to quote inside ours."""
    return " ".join(str(err).split())


@contextmanager
def _warnings_logged(source: str) -> Iterator[None]:
    """Turn warnings raised by the readers into log records: the library does not warn."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for warning in caught:
        logger.warning("%s: %s", source, warning.message)


def _read_vector(path: Path, *, source: str, layer: str | int | None) -> gpd.GeoDataFrame:
    try:
        with _warnings_logged(source):
            names = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    except (*_GDAL_ERRORS, OSError) as err:
        raise LayerError(
            source,
            f"GDAL cannot open it as a vector layer ({_reason(err)}); check that it is a "
            f"{_FORMATS} file and is not damaged or truncated",
        ) from err
    _check_layer_choice(names, layer=layer, source=source)
    try:
        with _warnings_logged(source):
            return gpd.read_file(path, engine="pyogrio", layer=layer, use_arrow=True)
    except (*_GDAL_ERRORS, OSError) as err:
        raise LayerError(
            source,
            f"GDAL cannot read its features ({_reason(err)}); check that the file is not damaged",
        ) from err


def _check_layer_choice(names: list[str], *, layer: str | int | None, source: str) -> None:
    listed = ", ".join(repr(n) for n in names)
    if layer is None and len(names) > 1:
        raise LayerError(source, f"holds {len(names)} layers ({listed}); choose one with layer=...")
    if isinstance(layer, str) and layer not in names:
        raise LayerError(source, f"has no layer {layer!r}; its layers are {listed}")
    if isinstance(layer, int) and not 0 <= layer < len(names):
        raise LayerError(source, f"has no layer number {layer}; its layers are {listed}")


def _read_parquet(path: Path, source: str) -> gpd.GeoDataFrame:
    try:
        with _warnings_logged(source):
            return read_geoparquet(path)
    except ImportError as err:
        raise LayerError(
            source,
            "reading GeoParquet needs the pyarrow package; install it (pip install pyarrow) "
            "or convert the file to GeoPackage",
        ) from err
    except (ValueError, OSError) as err:
        raise LayerError(
            source,
            f"cannot be read as GeoParquet ({_reason(err)}); check that it is a GeoParquet file "
            "(a Parquet file with 'geo' metadata)",
        ) from err


def _require_features(gdf: gpd.GeoDataFrame, source: str) -> None:
    if len(gdf) == 0:
        raise LayerError(
            source, "has no features; check that the file holds data (or choose another layer)"
        )


# --- CSV -------------------------------------------------------------------------------------


def _read_csv(
    path: Path, *, source: str, crs: CRSLike | None, x: str | None, y: str | None
) -> gpd.GeoDataFrame:
    frame = _read_table(path, source=source)
    if len(frame) == 0:
        raise LayerError(source, "has no features: a header but no data rows")
    xcol, ycol = _coordinate_columns(frame, x=x, y=y, source=source)
    problems: list[str] = []
    if crs is not None:
        target: pyproj.CRS | None = as_crs(crs, source=source)
    elif (xcol.lower(), ycol.lower()) in _GEOGRAPHIC_COLUMNS:
        target = pyproj.CRS.from_epsg(4326)
    else:
        target = None
        problems.append(
            f"columns {xcol!r}/{ycol!r} hold projected coordinates but the file cannot say "
            f"in which CRS; {CRS_FIX}"
        )
    xs, x_problems = _parse_coordinate(frame[xcol], name=xcol)
    ys, y_problems = _parse_coordinate(frame[ycol], name=ycol)
    problems += x_problems + y_problems
    if target is not None and target.is_geographic and not (x_problems or y_problems):
        problems += _check_lonlat(xs, ys, xcol=xcol, ycol=ycol)
    if problems:
        raise (CRSError if target is None else LayerError)(source, problems)
    if "geometry" in frame.columns:
        raise LayerError(source, "has a column named 'geometry'; rename it")
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(xs, ys), crs=target)


def _read_table(path: Path, *, source: str) -> pd.DataFrame:
    sep = _CSV_SEPARATORS[path.suffix.lower()]
    options: dict[str, Any] = (
        {"sep": sep, "low_memory": False} if sep else {"sep": None, "engine": "python"}
    )
    try:
        frame = _text_cells(path, sep, options)
    except pd.errors.EmptyDataError as err:
        raise LayerError(source, "is empty: no header and no rows") from err
    except UnicodeDecodeError as err:
        raise LayerError(
            source, f"is not UTF-8 text ({err.reason}); save it as UTF-8 (Excel: CSV UTF-8)"
        ) from err
    except (pd.errors.ParserError, csv.Error) as err:
        raise LayerError(
            source,
            f"is not a well-formed table ({_reason(err)}); check the delimiter, quoting "
            "and that every row has as many fields as the header",
        ) from err
    return typed_columns(frame)


def _text_cells(path: Path, sep: str | None, options: dict[str, Any]) -> pd.DataFrame:
    """Every cell as text, only empty cells missing ("NA" may be an id or a name).

    A column becomes numbers later, only when nothing is lost (:mod:`geodata.cells`).
    Arrow reads text cells many times faster than pandas' own parser; a file it
    refuses is read again by pandas' parser, whose messages the errors quote.
    """
    text: dict[str, Any] = {"encoding": "utf-8-sig", "dtype": str, "keep_default_na": False,
                            "na_values": [""]}
    if sep is not None:
        try:
            fast: pd.DataFrame = pd.read_csv(path, engine="pyarrow", sep=sep, **text)
            return fast
        except (ValueError, UnicodeDecodeError):
            logger.debug("%s: the Arrow reader refused the file; reading it with pandas", path)
    frame: pd.DataFrame = pd.read_csv(path, **options, **text)
    return frame


def _find_column(frame: pd.DataFrame, name: str) -> str | None:
    if name in frame.columns:
        return name
    matches = [str(c) for c in frame.columns if str(c).lower() == name.lower()]
    return matches[0] if len(matches) == 1 else None


def _coordinate_columns(
    frame: pd.DataFrame, *, x: str | None, y: str | None, source: str
) -> tuple[str, str]:
    present = ", ".join(str(c) for c in frame.columns)
    if (x is None) != (y is None):
        raise OptionError("y" if y is None else "x", "give both x= and y= (the coordinate columns)")
    if x is not None and y is not None:
        found = [(name, _find_column(frame, name)) for name in (x, y)]
        missing = [name for name, column in found if column is None]
        if missing:
            raise LayerError(
                source,
                f"has no column {' or '.join(repr(m) for m in missing)}; "
                f"columns present: {present}",
            )
        return str(found[0][1]), str(found[1][1])
    for xname, yname in COORDINATE_COLUMNS:
        xcol, ycol = _find_column(frame, xname), _find_column(frame, yname)
        if xcol is not None and ycol is not None:
            return xcol, ycol
    looked = ", ".join(f"{a}/{b}" for a, b in COORDINATE_COLUMNS)
    raise LayerError(
        source,
        f"has no coordinate columns (looked for {looked}, any case); columns present: "
        f"{present}; rename them or pass x= and y=",
    )


def _parse_coordinate(values: pd.Series, *, name: str) -> tuple[np.ndarray, list[str]]:
    numbers = pd.to_numeric(values, errors="coerce").astype("float64").to_numpy()
    null = values.isna().to_numpy()
    non_numeric = np.isnan(numbers) & ~null
    problems = []
    if non_numeric.any():
        example = values.iloc[int(np.flatnonzero(non_numeric)[0])]
        problems.append(
            f"column {name!r} holds non-numeric coordinates at "
            f"{format_rows(np.flatnonzero(non_numeric) + 1)} (e.g. {str(example)!r}); "
            "coordinates must be plain numbers (decimal point, no units)"
        )
    if null.any():
        problems.append(
            f"column {name!r} is empty at {format_rows(np.flatnonzero(null) + 1)}; every row "
            "needs coordinates: fill them in or remove those rows"
        )
    infinite = np.isinf(numbers)
    if infinite.any():
        problems.append(
            f"column {name!r} holds infinite coordinates at "
            f"{format_rows(np.flatnonzero(infinite) + 1)}"
        )
    return numbers, problems


def _check_lonlat(xs: np.ndarray, ys: np.ndarray, *, xcol: str, ycol: str) -> list[str]:
    bad_lon = np.abs(xs) > 180
    bad_lat = np.abs(ys) > 90
    if not (bad_lon.any() or bad_lat.any()):
        return []
    if bad_lat.any() and (np.abs(ys) <= 180).all() and (np.abs(xs) <= 90).all():
        swapped = (
            f"latitude and longitude look swapped: column {ycol!r} (latitude) holds values "
            f"beyond ±90 such as {ys[bad_lat][0]:g}, while {xcol!r} (longitude) stays within "
            f"±90; swap the column names, or pass x={ycol!r}, y={xcol!r}"
        )
        return [swapped]
    problems = []
    if bad_lon.any():
        problems.append(
            f"column {xcol!r} holds longitudes outside -180..180 at "
            f"{format_rows(np.flatnonzero(bad_lon) + 1)} (e.g. {xs[bad_lon][0]:g}); if these "
            f"are projected coordinates, {CRS_FIX}"
        )
    if bad_lat.any():
        problems.append(
            f"column {ycol!r} holds latitudes outside -90..90 at "
            f"{format_rows(np.flatnonzero(bad_lat) + 1)} (e.g. {ys[bad_lat][0]:g}); if these "
            f"are projected coordinates, {CRS_FIX}"
        )
    return problems
