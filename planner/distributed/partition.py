"""Reading layers as dask-geopandas frames and cutting them into tiles with halos.

Demand and sites become plain numeric frames (coordinates, weight, global row or
canonical site index) on the workers; a square grid of tiles at least twice the
reach wide assigns every site to one tile and every demand point to its own tile
plus a copy in each neighbouring tile whose reach-wide margin (halo) it lies in,
so a tile's sites see all of their demand. Tiles are grouped into hosts (one
optimiser actor each) and both frames are shuffled so that partition ``h`` holds
exactly host ``h``'s rows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dask.dataframe as dd
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.errors import LayerError

__all__ = ["Grid", "points_frame", "read_layer", "shuffle_to_hosts", "tile_hosts"]

logger = logging.getLogger(__name__)

#: Rows per chunk when a non-Parquet layer is read through pyogrio.
CHUNK_ROWS = 500_000


def read_layer(layer: Any, *, source: str, npartitions: int = 2) -> Any:
    """A dask-geopandas frame from a path, a GeoDataFrame or a dask-geopandas frame.

    Paths: a GeoParquet file or folder, or any OGR format read in chunks through pyogrio.
    """
    import dask_geopandas

    if isinstance(layer, dask_geopandas.GeoDataFrame):
        return layer
    if isinstance(layer, gpd.GeoDataFrame):
        return dask_geopandas.from_geopandas(layer, npartitions=max(1, npartitions))
    path = Path(layer)
    if not path.exists():
        raise LayerError(str(path), "does not exist: check the path")
    if path.is_dir() or path.suffix.lower() in (".parquet", ".geoparquet"):
        return dask_geopandas.read_parquet(str(path))
    return dask_geopandas.read_file(str(path), chunksize=CHUNK_ROWS)


def _xy(part: gpd.GeoDataFrame) -> np.ndarray:
    geoms = np.asarray(part.geometry.array)
    kind = shapely.get_type_id(geoms)
    if len(geoms) and not (kind == 0).all():  # polygons and lines: a representative point
        geoms = geoms.copy()
        geoms[kind != 0] = shapely.point_on_surface(geoms[kind != 0])
    return shapely.get_coordinates(geoms).reshape(len(geoms), 2)


def _numeric(part: gpd.GeoDataFrame, column: str | None, out: str) -> pd.DataFrame:
    xy = _xy(part)
    frame = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1]})
    if column is not None:
        values = part[column].to_numpy()
        frame[out] = (values.astype(np.float64) if out == "w"
                      else pd.Series(values).astype(str).astype("string"))
    return frame


def points_frame(
    gdf: Any, column: str | None, out: str, *, source: str
) -> tuple[dd.DataFrame, np.ndarray]:
    """Coordinates and one column of every row, and the first row of every partition.

    Columns ``x``, ``y``, ``column`` (renamed ``out``) and ``row``, the global input row.
    """
    if column is not None and column not in gdf.columns:
        raise LayerError(source, f"has no column {column!r}; columns are "
                         f"{', '.join(map(str, gdf.columns))}")
    meta = pd.DataFrame({"x": pd.Series(dtype="f8"), "y": pd.Series(dtype="f8")})
    if column is not None:
        meta[out] = pd.Series(dtype="f8" if out == "w" else "string")
    frame = gdf.map_partitions(_numeric, column, out, meta=meta).persist()
    lengths = frame.map_partitions(len).compute().to_numpy()
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])

    def _rows(part: pd.DataFrame, partition_info: dict | None = None) -> pd.DataFrame:
        start = offsets[partition_info["number"]] if partition_info else 0
        return part.assign(row=np.arange(start, start + len(part), dtype=np.int64))

    return frame.map_partitions(_rows, meta=meta.assign(row=pd.Series(dtype="i8"))), offsets


@dataclass(frozen=True)
class Grid:
    """Square tiles of side ``cell`` from ``(x0, y0)``, ``nx`` by ``ny``, numbered by row."""

    x0: float
    y0: float
    cell: float
    nx: int
    ny: int
    reach: float

    @classmethod
    def over(cls, bounds: np.ndarray, reach: float, side: float) -> Grid:
        """A grid over ``bounds`` (xmin, ymin, xmax, ymax) with tiles ``side`` wide.

        Tiles are at least twice the reach wide, so a pick's reach ends in the neighbours.
        """
        xmin, ymin, xmax, ymax = (float(v) for v in bounds)
        cell = max(2.0 * reach, float(side), 1.0)
        return cls(xmin, ymin, cell, int((xmax - xmin) // cell) + 1,
                   int((ymax - ymin) // cell) + 1, float(reach))

    def cells(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Column and row of the tile of every point."""
        ix = np.clip(np.floor((x - self.x0) / self.cell), 0, self.nx - 1).astype(np.int64)
        iy = np.clip(np.floor((y - self.y0) / self.cell), 0, self.ny - 1).astype(np.int64)
        return ix, iy

    def tile(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Tile number of every point."""
        ix, iy = self.cells(x, y)
        return iy * self.nx + ix

    def near(self, x: np.ndarray, y: np.ndarray, margin: float):
        """``(point positions, tile)`` for every tile within ``margin`` of a point.

        Within ``margin`` in x and in y (a square); the point's own tile included.
        """
        ix, iy = self.cells(x, y)
        fx = x - (self.x0 + ix * self.cell)
        fy = y - (self.y0 + iy * self.cell)
        slack = margin * (1 + 1e-9) + 1e-6
        pos, tiles = [], []
        for dx in (-1, 0, 1):
            mx = {-1: fx <= slack, 0: True, 1: self.cell - fx <= slack}[dx]
            for dy in (-1, 0, 1):
                my = {-1: fy <= slack, 0: True, 1: self.cell - fy <= slack}[dy]
                jx, jy = ix + dx, iy + dy
                ok = mx & my & (jx >= 0) & (jx < self.nx) & (jy >= 0) & (jy < self.ny)
                hit = np.flatnonzero(ok)
                pos.append(hit)
                tiles.append(jy[hit] * self.nx + jx[hit])
        return np.concatenate(pos), np.concatenate(tiles)


def tile_hosts(tile_load: pd.Series, hosts: int) -> dict[int, int]:
    """Tiles cut into ``hosts`` contiguous runs of about equal load.

    Runs follow row-major order, so a tile is mostly on the host of its neighbours.
    """
    tiles = np.sort(tile_load.index.to_numpy())
    load = tile_load.reindex(tiles).to_numpy(dtype=np.float64)
    cum = np.cumsum(load) - load / 2
    total = max(float(load.sum()), 1.0)
    host = np.minimum((cum / total * hosts).astype(np.int64), hosts - 1)
    return dict(zip(tiles.tolist(), host.tolist(), strict=True))


def _demand_tiles(part: pd.DataFrame, grid: Grid, host_of: dict[int, int],
                  with_sites: np.ndarray) -> pd.DataFrame:
    x, y = part["x"].to_numpy(), part["y"].to_numpy()
    own = grid.tile(x, y)
    pos, tile = grid.near(x, y, grid.reach)
    halo = (tile != own[pos]) & np.isin(tile, with_sites)
    keep = np.concatenate([np.arange(len(part)), pos[halo]])
    tiles = np.concatenate([own, tile[halo]])
    out = part.iloc[keep].reset_index(drop=True)
    out["tile"] = tiles
    out["own"] = np.arange(len(keep)) < len(part)
    out["host"] = pd.Series(tiles).map(host_of).to_numpy(dtype=np.int64)
    return out


def _site_tiles(part: pd.DataFrame, grid: Grid, host_of: dict[int, int]) -> pd.DataFrame:
    tiles = grid.tile(part["x"].to_numpy(), part["y"].to_numpy())
    return part.assign(tile=tiles, host=pd.Series(tiles).map(host_of).to_numpy(dtype=np.int64))


def shuffle_to_hosts(
    demand: dd.DataFrame,
    sites: dd.DataFrame,
    grid: Grid,
    host_of: dict[int, int],
    with_sites: np.ndarray,
) -> tuple[dd.DataFrame, dd.DataFrame]:
    """Both frames with tile, halo copies and host; partition ``h`` holds host ``h``.

    ``host_of`` maps every tile holding demand or sites to its host; halo copies go
    only to the tiles ``with_sites``.
    """
    hosts = max(host_of.values()) + 1
    dmeta = demand._meta.assign(tile=pd.Series(dtype="i8"), own=pd.Series(dtype=bool),
                                host=pd.Series(dtype="i8"))
    smeta = sites._meta.assign(tile=pd.Series(dtype="i8"), host=pd.Series(dtype="i8"))
    d = demand.map_partitions(_demand_tiles, grid, host_of, with_sites, meta=dmeta)
    s = sites.map_partitions(_site_tiles, grid, host_of, meta=smeta)
    divisions = [*range(hosts), hosts - 1] if hosts > 1 else [0, 0]
    return (d.set_index("host", divisions=divisions, sorted=False),
            s.set_index("host", divisions=divisions, sorted=False))
