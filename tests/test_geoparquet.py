"""GeoParquet points decoded in bulk: the same frame as geopandas.read_parquet."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from geodata import parquet


def _points(n: int = 50, seed: int = 3) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(800_000, 850_000, (n, 2))
    return gpd.GeoDataFrame(
        {"weight": rng.gamma(2.0, 1.0, n), "name": [f"p{i}" for i in range(n)],
         "count": np.arange(n, dtype=np.int32)},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs="EPSG:2326",
    )


def _same_as_geopandas(frame: gpd.GeoDataFrame, path: Path) -> gpd.GeoDataFrame:
    frame.to_parquet(path)
    ours = parquet.read_geoparquet(path)
    assert_geodataframe_equal(ours, gpd.read_parquet(path), check_crs=True)
    assert ours.crs == gpd.read_parquet(path).crs
    return ours


def test_points_are_read_in_bulk_as_geopandas_reads_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoded: list[np.ndarray | None] = []
    decode = parquet._point_coordinates

    def spy(chunks: object) -> np.ndarray | None:
        decoded.append(decode(chunks))
        return decoded[-1]

    monkeypatch.setattr(parquet, "_point_coordinates", spy)
    ours = _same_as_geopandas(_points(), tmp_path / "p.parquet")
    assert len(decoded) == 1  # the fast path, not geopandas' WKB parser
    assert decoded[0] is not None
    assert list(ours.columns) == ["weight", "name", "count", "geometry"]


@pytest.mark.parametrize("case", ["index", "geometry first", "other name", "lonlat", "no crs"])
def test_layouts_read_as_geopandas_reads_them(tmp_path: Path, case: str) -> None:
    frame = _points()
    if case == "index":
        frame.index = pd.Index([f"id{i}" for i in range(len(frame))], name="key")
    elif case == "geometry first":
        frame = frame[["geometry", "weight", "name", "count"]]
    elif case == "other name":
        frame = frame.rename_geometry("where")
    elif case == "lonlat":
        frame = frame.to_crs("EPSG:4326")
    else:
        frame = frame.set_crs(None, allow_override=True)
    _same_as_geopandas(frame, tmp_path / "p.parquet")


@pytest.mark.parametrize("case", ["null", "empty", "nan", "z", "polygons", "mixed"])
def test_other_geometries_are_read_by_geopandas(tmp_path: Path, case: str) -> None:
    frame = _points(10)
    geoms = frame.geometry.to_numpy().copy()
    if case == "null":
        geoms[3] = None
    elif case == "empty":
        geoms[3] = shapely.Point()
    elif case == "nan":
        geoms[3] = shapely.Point(np.nan, 1.0)
    elif case == "z":
        geoms = shapely.points(np.c_[shapely.get_coordinates(geoms), np.ones(len(geoms))])
    elif case == "polygons":
        geoms = shapely.buffer(geoms, 10.0)
    else:
        geoms[3] = shapely.buffer(geoms[3], 10.0)
    frame = frame.set_geometry(gpd.GeoSeries(geoms, crs=frame.crs))
    _same_as_geopandas(frame, tmp_path / "p.parquet")


def test_a_partitioned_folder_is_read_by_geopandas(tmp_path: Path) -> None:
    frame = _points()
    folder = tmp_path / "parts"
    folder.mkdir()
    frame.to_parquet(folder / "part-0.parquet")
    assert_geodataframe_equal(parquet.read_geoparquet(folder), gpd.read_parquet(folder))


def test_a_plain_parquet_file_is_the_error_geopandas_raises(tmp_path: Path) -> None:
    path = tmp_path / "plain.parquet"
    pd.DataFrame({"a": [1, 2]}).to_parquet(path)
    with pytest.raises(ValueError, match="geo"):
        parquet.read_geoparquet(path)
