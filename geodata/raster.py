"""Read a population or footfall raster (any format GDAL reads) as populated cells.

:func:`read_raster` reads band 1 of a raster through rasterio and keeps the
cells that hold a positive amount: cells equal to the declared nodata value,
NaN cells and negative cells (a negative head count is a nodata marker the file
did not declare) are dropped, and counted in the log. :class:`RasterCells`
gives each kept cell's centre and its corner quadrilateral in any CRS, so a
planner can move the amounts onto its own demand points by area, and
:func:`raster_points` turns the cells into a point layer (one point per
populated cell, ``weight`` = the cell's value) that :func:`geodata.read_layer`
returns for raster files.
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from geodata.crs import CRS_FIX, CRSLike, as_crs
from geodata.errors import CRSError, LayerError

__all__ = ["RASTER_SUFFIXES", "RasterCells", "is_raster", "raster_points", "read_raster"]

logger = logging.getLogger(__name__)

#: File suffixes read as rasters (any other GDAL raster can be read with :func:`read_raster`).
RASTER_SUFFIXES = frozenset(
    {".tif", ".tiff", ".gtiff", ".vrt", ".img", ".asc", ".nc", ".jp2", ".bil", ".hgt", ".dem"}
)


def is_raster(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names a raster by its suffix (``.tif``, ``.tiff``, ``.asc``, ...)."""
    return Path(path).suffix.lower() in RASTER_SUFFIXES


@dataclass(frozen=True)
class RasterCells:
    """The populated cells of one raster band.

    Attributes
    ----------
    amounts
        The amount in each kept cell (float64, all > 0), in row-major order.
    rows, cols
        Each kept cell's row and column in the raster.
    transform
        The raster's affine transform, as the 6 coefficients ``(a, b, c, d, e, f)``:
        ``x = a * col + b * row + c``, ``y = d * col + e * row + f``.
    crs
        The raster's CRS.
    source
        The file, for messages.
    """

    amounts: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    transform: tuple[float, float, float, float, float, float]
    crs: pyproj.CRS
    source: str

    def __len__(self) -> int:
        """The number of populated cells."""
        return len(self.amounts)

    @property
    def total(self) -> float:
        """The sum of every kept cell."""
        return float(self.amounts.sum())

    def _xy(self, col: np.ndarray, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, b, c, d, e, f = self.transform
        return a * col + b * row + c, d * col + e * row + f

    def _to(self, x: np.ndarray, y: np.ndarray, crs: CRSLike | None) -> np.ndarray:
        if crs is not None and not as_crs(crs).equals(self.crs):
            t = pyproj.Transformer.from_crs(self.crs, as_crs(crs), always_xy=True)
            x, y = t.transform(x, y)
        return np.column_stack([np.asarray(x, np.float64), np.asarray(y, np.float64)])

    def centres(self, crs: CRSLike | None = None) -> np.ndarray:
        """The cell centres as an ``(n, 2)`` array, in ``crs`` (default the raster's)."""
        x, y = self._xy(self.cols + 0.5, self.rows + 0.5)
        return self._to(x, y, crs)

    def corners(self, crs: CRSLike | None = None) -> np.ndarray:
        """Each cell's 4 corners, reprojected to ``crs``, as an ``(n, 4, 2)`` array.

        A cell of about 100 m reprojected between two CRSs stays a quadrilateral
        to well under a centimetre, so its corners alone describe it.
        """
        dc = np.array([0.0, 1.0, 1.0, 0.0])
        dr = np.array([0.0, 0.0, 1.0, 1.0])
        x, y = self._xy((self.cols[:, None] + dc).ravel(), (self.rows[:, None] + dr).ravel())
        return self._to(x, y, crs).reshape(len(self), 4, 2)

    def quads(self, crs: CRSLike | None = None) -> np.ndarray:
        """Each cell as a polygon through its 4 reprojected corners, in ``crs``."""
        corners = self.corners(crs)
        return np.asarray(shapely.polygons(np.concatenate([corners, corners[:, :1]], axis=1)))


def read_raster(
    path: str | os.PathLike[str], *, role: str = "raster", crs: CRSLike | None = None
) -> RasterCells:
    """Read band 1 of a raster and keep its populated cells.

    Parameters
    ----------
    path
        Any raster GDAL reads (GeoTIFF, ASCII grid, VRT, NetCDF, ...).
    role
        What the raster is for ("population", "demand"), used in messages.
    crs
        The CRS for a raster that declares none. A raster that declares a
        different CRS is an error, never silently overridden.

    Returns
    -------
    RasterCells
        Every cell holding a finite value > 0.

    Raises
    ------
    LayerError
        When the file is missing or unreadable, holds infinite values, or no cell
        holds a positive value.
    CRSError
        When the raster has no CRS and none is given, or conflicts with ``crs``.
    """
    import rasterio
    import rasterio.errors

    path = Path(path)
    source = f"raster {path}" if role == "raster" else f"{role} raster {path}"
    if not path.is_file():
        raise LayerError(source, "file not found (or not a file); check the path (relative "
                                 f"paths start from {Path.cwd()})")
    try:
        with warnings.catch_warnings(record=True) as caught, rasterio.open(path) as src:
            warnings.simplefilter("always")
            band = src.read(1, masked=True)
            declared = src.crs.to_wkt() if src.crs is not None else None
            transform = tuple(float(v) for v in tuple(src.transform)[:6])
    except (rasterio.errors.RasterioError, OSError) as err:
        raise LayerError(
            source,
            f"GDAL cannot read it as a raster ({' '.join(str(err).split())}); check that it "
            "is a raster file (GeoTIFF, ASCII grid, ...) and is not damaged or truncated",
        ) from err
    for warning in caught:
        logger.debug("%s: %s", source, warning.message)
    raster_crs = _raster_crs(declared, crs, source)
    return _cells(band, transform, raster_crs, source)


def _raster_crs(declared: str | None, given: CRSLike | None, source: str) -> pyproj.CRS:
    if declared is None:
        if given is None:
            raise CRSError(source, f"has no coordinate reference system (CRS); {CRS_FIX}")
        return as_crs(given, source=source)
    crs = pyproj.CRS.from_wkt(declared)
    if given is not None and not crs.equals(as_crs(given, source=source), ignore_axis_order=True):
        raise CRSError(
            source,
            f"declares CRS {crs.to_string()} but crs={given!r} was given; a file's own CRS is "
            "never overridden: drop crs (command line --crs) to use the raster's CRS",
        )
    return crs


def _cells(
    band: np.ma.MaskedArray, transform: tuple[float, ...], crs: pyproj.CRS, source: str
) -> RasterCells:
    data = np.ma.getdata(band).astype(np.float64)
    masked = np.ma.getmaskarray(band)
    if np.isinf(data[~masked]).any():
        raise LayerError(source, "holds infinite values; set them to the nodata value or 0")
    nan = ~masked & np.isnan(data)
    negative = ~masked & ~nan & (data < 0)
    keep = ~masked & ~nan & (data > 0)
    if negative.any():
        logger.warning("%s: %d negative cells (min %g) read as no data", source,
                       int(negative.sum()), float(data[negative].min()))
    logger.info("%s: %d populated cells of %d (%d nodata, %d NaN), total %.1f", source,
                int(keep.sum()), data.size, int(masked.sum()), int(nan.sum()),
                float(data[keep].sum()))
    if not keep.any():
        raise LayerError(source, "holds no cell with a positive value (all are nodata, zero, "
                                 "negative or NaN); check the band and its nodata value")
    rows, cols = np.nonzero(keep)
    cells = RasterCells(amounts=data[rows, cols], rows=rows.astype(np.int64),
                        cols=cols.astype(np.int64), transform=tuple(transform),  # type: ignore[arg-type]
                        crs=crs, source=source)
    if crs.is_geographic:
        xy = cells.centres()
        if (np.abs(xy[:, 0]) > 180).any() or (np.abs(xy[:, 1]) > 90).any():
            raise CRSError(source, f"cell centres lie outside longitude/latitude although its "
                                   f"CRS ({crs.to_string()}) is geographic; {CRS_FIX}")
    return cells


def raster_points(cells: RasterCells) -> gpd.GeoDataFrame:
    """One point per populated cell at its centre, ``weight`` = the cell's value.

    Columns ``cell`` (``"r{row}c{col}"``) and ``weight``; the raster's CRS.
    """
    xy = cells.centres()
    names = np.char.add(np.char.add("r", cells.rows.astype(str)),
                        np.char.add("c", cells.cols.astype(str)))
    return gpd.GeoDataFrame({"cell": names, "weight": cells.amounts},
                            geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=cells.crs)
