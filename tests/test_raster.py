"""Population rasters: reading (CRS, nodata, negatives, NaN), as demand and moved onto a surface."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from shapely.geometry import box

from geodata import CRSError, LayerError, read_layer
from geodata.raster import read_raster
from planner.demand.surface import (
    SurfaceLayers,
    SurfaceOptions,
    build_surface,
    grid_cells,
    raster_share,
)

NODATA = -99999.0


def from_origin(west: float, north: float, xsize: float, ysize: float) -> Affine:
    """North-up transform (rasterio's own helper warns under affine 3)."""
    return Affine(xsize, 0.0, west, 0.0, -ysize, north)


def write_tif(path: Path, data: np.ndarray, *, crs: str | None, transform: object,
              nodata: float | None = NODATA) -> Path:
    # rasterio's own writer multiplies affine transforms with the operator affine 3.x
    # deprecates; that warning is rasterio's, not ours.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        with rasterio.open(path, "w", driver="GTiff", height=data.shape[0],
                           width=data.shape[1], count=1, dtype="float32", crs=crs,
                           transform=transform, nodata=nodata) as dst:
            dst.write(data.astype("float32"), 1)
    return path


def lonlat_tif(tmp_path: Path) -> Path:
    """A 3 x 4 population grid over Kowloon in lon/lat, 3 arc-second cells, like WorldPop."""
    data = np.array([[10, 0, NODATA, 5],
                     [2.5, -3, np.nan, 7],
                     [1, 1, 1, NODATA]], dtype=np.float64)
    step = 3 / 3600
    return write_tif(tmp_path / "pop.tif", data, crs="EPSG:4326",
                     transform=from_origin(114.17, 22.32, step, step))


def test_nodata_negative_nan_and_zero_cells_are_dropped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        cells = read_raster(lonlat_tif(tmp_path), role="population")
    assert cells.total == pytest.approx(10 + 5 + 2.5 + 7 + 1 + 1 + 1)
    assert len(cells) == 7
    assert cells.crs.to_epsg() == 4326
    assert "1 negative cells" in caplog.text
    # The first cell's centre is half a cell east and south of the origin.
    x, y = cells.centres()[0]
    assert x == pytest.approx(114.17 + 1.5 / 3600)
    assert y == pytest.approx(22.32 - 1.5 / 3600)


def test_read_layer_gives_one_demand_point_per_populated_cell(tmp_path: Path) -> None:
    gdf = read_layer(lonlat_tif(tmp_path), role="demand")
    assert len(gdf) == 7
    assert gdf["weight"].sum() == pytest.approx(27.5)
    assert list(gdf["cell"][:2]) == ["r0c0", "r0c3"]
    assert gdf.crs.to_epsg() == 4326


def test_projected_raster_moved_onto_a_grid_conserves_the_total(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    data = rng.gamma(2.0, 40.0, size=(20, 30))
    data[rng.random(data.shape) < 0.2] = NODATA
    # HK 1980 Grid, 90 m cells, not aligned with the 100 m surface grid.
    path = write_tif(tmp_path / "pop2326.tif", data, crs="EPSG:2326",
                     transform=from_origin(835_013.0, 821_007.0, 90.0, 90.0))
    cells = read_raster(path)
    # The area covers only part of the raster: outside cells go to the nearest point.
    area = gpd.GeoDataFrame(geometry=[box(835_000, 819_500, 836_800, 821_000)], crs="EPSG:2326")
    surface = grid_cells(area, cell_m=100.0)
    share = raster_share(surface, cells)
    assert share.sum() == pytest.approx(cells.total, rel=1e-9)
    assert (share >= 0).all()


def test_uniform_density_is_kept_by_area(tmp_path: Path) -> None:
    # 81 people per 90 m cell is 0.01 per m2: every 100 m cell inside gets 100.
    path = write_tif(tmp_path / "uniform.tif", np.full((30, 30), 81.0), crs="EPSG:2326",
                     transform=from_origin(835_013.0, 821_007.0, 90.0, 90.0))
    area = gpd.GeoDataFrame(geometry=[box(835_500, 819_500, 836_500, 820_500)],
                            crs="EPSG:2326")
    surface = grid_cells(area, cell_m=100.0)
    share = raster_share(surface, read_raster(path))
    inner = surface.geometry.centroid.within(box(835_600, 819_600, 836_400, 820_400))
    assert share[inner.to_numpy()] == pytest.approx(100.0, rel=1e-9)
    assert share.sum() == pytest.approx(81.0 * 900)


def test_lonlat_raster_on_a_metric_surface_conserves_the_total(tmp_path: Path) -> None:
    cells = read_raster(lonlat_tif(tmp_path))
    centre = gpd.GeoSeries.from_xy([114.1715], [22.3190], crs="EPSG:4326").to_crs("EPSG:2326")
    x, y = centre.x.iloc[0], centre.y.iloc[0]
    area = gpd.GeoDataFrame(geometry=[box(x - 150, y - 150, x + 150, y + 150)], crs="EPSG:2326")
    layers = SurfaceLayers(area=area, population_raster=cells)
    surface = build_surface(layers, options=SurfaceOptions(cell_m=50.0))
    assert "footfall_population" in surface.columns
    raw = raster_share(grid_cells(area, cell_m=50.0), cells)
    assert raw.sum() == pytest.approx(27.5)


def test_points_surface_splits_a_cell_among_the_points_inside(tmp_path: Path) -> None:
    data = np.array([[12.0, 6.0]])
    path = write_tif(tmp_path / "two.tif", data, crs="EPSG:2326",
                     transform=from_origin(0.0, 100.0, 100.0, 100.0))
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([10, 30, 50, 500], [50, 50, 50, 50]),
                           crs="EPSG:2326")
    share = raster_share(pts, read_raster(path))
    # Three points share the first cell; the second cell holds none: its 6 go to the point
    # nearest its centre (150, 50), the third; the far point gets nothing.
    assert share.tolist() == pytest.approx([4.0, 4.0, 10.0, 0.0])


def test_raster_without_crs_needs_one(tmp_path: Path) -> None:
    path = write_tif(tmp_path / "nocrs.tif", np.ones((2, 2)), crs=None,
                     transform=from_origin(835_000, 820_000, 100, 100))
    with pytest.raises(CRSError, match="no coordinate reference system"):
        read_raster(path)
    assert read_raster(path, crs="EPSG:2326").total == 4.0
    with pytest.raises(CRSError, match="never overridden"):
        read_raster(lonlat_tif(tmp_path), crs="EPSG:2326")


@pytest.mark.parametrize(("content", "problem"), [
    (b"", "cannot read it as a raster"),
    (b"II*\x00garbage", "cannot read it as a raster"),
])
def test_unreadable_rasters_are_clear_errors(tmp_path: Path, content: bytes,
                                             problem: str) -> None:
    path = tmp_path / "broken.tif"
    path.write_bytes(content)
    with pytest.raises(LayerError, match=problem) as err:
        read_layer(path, role="demand")
    assert "broken.tif" in str(err.value)


def test_missing_and_empty_rasters(tmp_path: Path) -> None:
    with pytest.raises(LayerError, match="not found"):
        read_raster(tmp_path / "absent.tif")
    path = write_tif(tmp_path / "empty.tif", np.full((2, 2), NODATA), crs="EPSG:4326",
                     transform=from_origin(114.0, 22.3, 0.001, 0.001))
    with pytest.raises(LayerError, match="no cell with a positive value"):
        read_raster(path)


def test_infinite_cells_are_an_error(tmp_path: Path) -> None:
    path = write_tif(tmp_path / "inf.tif", np.array([[1.0, np.inf]]), crs="EPSG:4326",
                     transform=from_origin(114.0, 22.3, 0.001, 0.001), nodata=None)
    with pytest.raises(LayerError, match="infinite"):
        read_raster(path)


def test_quad_rect_overlap_matches_shapely() -> None:
    from planner.demand.overlap import quad_rect_area

    rng = np.random.default_rng(11)
    n = 400
    centre = rng.uniform(0, 100, size=(n, 2))
    angle = rng.uniform(0, np.pi / 2, size=n)
    half = rng.uniform(5, 60, size=(n, 1))
    unit = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], float)
    rot = np.stack([np.cos(angle), -np.sin(angle), np.sin(angle), np.cos(angle)], 1)
    quads = centre[:, None, :] + half[:, :, None] * np.einsum(
        "kj,nij->nki", unit, rot.reshape(n, 2, 2))
    rects = np.column_stack([rng.uniform(0, 80, n), rng.uniform(0, 80, n)])
    rects = np.column_stack([rects, rects + rng.uniform(1, 50, size=(n, 2))])
    got = quad_rect_area(quads, rects)
    polys = shapely.polygons(np.concatenate([quads, quads[:, :1]], axis=1))
    want = shapely.area(shapely.intersection(polys, shapely.box(*rects.T)))
    assert (want > 0).sum() > 100
    assert (want == 0).sum() > 10
    assert got == pytest.approx(want, abs=1e-6)


def test_raster_as_demand_on_the_command_line(tmp_path: Path) -> None:
    from maps.cli.main import main

    data = np.zeros((4, 6))
    data[1, 1], data[2, 4] = 300.0, 100.0
    pop = write_tif(tmp_path / "pop.tif", data, crs="EPSG:2326",
                    transform=from_origin(835_000.0, 820_400.0, 100.0, 100.0))
    sites = gpd.GeoDataFrame({"id": ["A", "B", "C"]},
                             geometry=gpd.points_from_xy([835_150, 835_450, 835_550],
                                                         [820_250, 820_150, 820_250]),
                             crs="EPSG:2326")
    sites.to_file(tmp_path / "sites.gpkg")
    out = tmp_path / "plan"
    assert main(["plan", "--demand", str(pop), "--sites", str(tmp_path / "sites.gpkg"),
                 "--site-id", "id", "--radius", "60", "--sets", "1", "--out", str(out)]) == 0
    chosen = gpd.read_file(out / "sites.geojson")
    assert chosen["site_id"].tolist() == ["A"]  # the 300-people cell, not the 100-people one


def test_raster_cells_as_surface_points_keep_their_own_people(tmp_path: Path) -> None:
    data = np.array([[10.0, 20.0, 30.0], [40.0, NODATA, 60.0]])
    path = write_tif(tmp_path / "cells.tif", data, crs="EPSG:2326",
                     transform=from_origin(835_000.0, 820_200.0, 100.0, 100.0))
    # The area covers the first two columns only: the third column's people (90) go to the
    # nearest kept point, so the total is kept.
    area = gpd.GeoDataFrame(geometry=[box(835_000, 820_000, 835_190, 820_200)], crs="EPSG:2326")
    layers = SurfaceLayers(area=area, population_raster=read_raster(path))
    surface = build_surface(layers, options=SurfaceOptions(points="raster"))
    assert surface["cell"].tolist() == ["r0c0", "r0c1", "r1c0"]
    assert "_raster_cell" not in surface.columns
    raw = surface["footfall_population"] * (20 + 30 + 60)  # normalised by the largest
    assert raw.tolist() == pytest.approx([10.0, 20.0 + 30.0 + 60.0, 40.0])
