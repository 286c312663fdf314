"""Read GeoParquet as :func:`geopandas.read_parquet` does, points decoded in bulk.

A GIS team hands over a city's demand as a million points in WKB. Each point's WKB
is the same 21 bytes (byte order, type, x, y), so the coordinates are read straight
out of the Arrow buffer and the points made in one call, instead of parsing a
million WKB records one by one. Any other file (polygons, 3D points, several
geometry columns, nulls, empty points) is read by geopandas itself. Either way the
frame is the one :func:`geopandas.read_parquet` returns.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

__all__ = ["read_geoparquet"]

_POINT_WKB_SIZE = 21  # byte order (1), geometry type (4), x and y (8 each)
_LITTLE_ENDIAN_POINT = np.frombuffer(b"\x01\x01\x00\x00\x00", dtype=np.uint8)


def read_geoparquet(path: str | Path) -> gpd.GeoDataFrame:
    """The GeoParquet file at ``path`` as :func:`geopandas.read_parquet` reads it.

    Raises what :func:`geopandas.read_parquet` raises (``ValueError`` for a Parquet
    file without GeoParquet metadata, ``ImportError`` without pyarrow).
    """
    import pyarrow.parquet as pq

    column = _point_column(pq.read_schema(path).metadata or {}) if Path(path).is_file() else None
    if column is None:  # a folder (a partitioned dataset) or not only 2D points
        return gpd.read_parquet(path)
    table = pq.ParquetFile(path).read(use_threads=True)
    geo = json.loads(table.schema.metadata[b"geo"])
    xy = _point_coordinates(table.column(column))
    if xy is None:  # nulls, empty or 3D points, big-endian WKB: as geopandas reads them
        return gpd.read_parquet(path)
    names = list(table.slice(0, 0).to_pandas().columns)
    frame = table.drop([column]).to_pandas()
    crs = _crs(geo["columns"][column])
    frame.insert(names.index(column), column,
                 gpd.array.from_shapely(shapely.points(xy), crs=crs))
    return gpd.GeoDataFrame(frame, geometry=column)


def _point_column(metadata: dict[bytes, bytes]) -> str | None:
    """The one geometry column when the file says it holds only 2D points in WKB."""
    if b"PANDAS_ATTRS" in metadata:
        return None
    try:
        geo = json.loads(metadata[b"geo"])
        ((name, meta),) = geo["columns"].items()
    except (KeyError, ValueError, TypeError, AttributeError):
        return None
    plain = geo.get("primary_column") == name and "covering" not in meta
    if not plain or meta.get("encoding") != "WKB":
        return None
    return str(name) if meta.get("geometry_types") == ["Point"] else None


def _point_coordinates(chunks: Any) -> np.ndarray | None:
    """``(n, 2)`` coordinates of 21-byte little-endian finite 2D points, else ``None``."""
    array = chunks.combine_chunks()
    if array.null_count or str(array.type) not in ("binary", "large_binary"):
        return None
    offsets_type = np.int32 if str(array.type) == "binary" else np.int64
    _, offsets_buf, data_buf = array.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=offsets_type)[array.offset:
                                                             array.offset + len(array) + 1]
    if len(offsets) == 0 or not (np.diff(offsets) == _POINT_WKB_SIZE).all():
        return None
    data = np.frombuffer(data_buf, dtype=np.uint8)[offsets[0]:offsets[-1]]
    records = data.reshape(-1, _POINT_WKB_SIZE)
    if not (records[:, :5] == _LITTLE_ENDIAN_POINT).all():
        return None
    xy = np.ascontiguousarray(records[:, 5:]).view("<f8").astype(np.float64)
    return xy if np.isfinite(xy).all() else None  # NaN: WKB's empty point


def _crs(meta: dict[str, Any]) -> Any:
    """The column's CRS as geopandas takes it (missing: OGC:CRS84, the GeoParquet default)."""
    if "crs" not in meta:
        return "OGC:CRS84"
    crs = meta["crs"]
    if isinstance(crs, dict):
        _drop_member_ids(crs)
    return crs


def _drop_member_ids(node: dict[str, Any]) -> None:
    """Drop the ids of datum-ensemble members older PROJ versions do not know (as geopandas)."""
    for key, value in node.items():
        if isinstance(value, dict):
            _drop_member_ids(value)
        elif key == "members" and isinstance(value, list):
            for member in value:
                member.pop("id", None)
