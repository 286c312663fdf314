"""Bounds in longitude and latitude from a few reprojected points (maps.lonlat)."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest

from maps.export.lonlat import _extreme_candidates, lonlat, lonlat_bounds


def every_point(x: np.ndarray, y: np.ndarray, crs: str) -> tuple[float, ...] | None:
    """The bounds of every point reprojected: what the map computed before."""
    lon, lat = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(x, y)
    lon, lat = np.asarray(lon), np.asarray(lat)
    keep = np.isfinite(lon) & np.isfinite(lat)
    if not keep.any():
        return None
    return (lon[keep].min(), lat[keep].min(), lon[keep].max(), lat[keep].max())


def city(rng: np.random.Generator, centre: tuple[float, float], n: int) -> np.ndarray:
    """Points of a city: clusters, a scatter, and a ragged edge (metres)."""
    clusters = rng.normal(0, 3_000, (n // 2, 2)) + rng.uniform(-15_000, 15_000, (1, 2))
    scatter = rng.uniform(-25_000, 25_000, (n - n // 2, 2))
    return np.vstack([clusters, scatter]) + np.asarray(centre)


CASES = [
    ("EPSG:2326", (833_000.0, 823_000.0)),  # Hong Kong 1980 Grid
    ("EPSG:32612", (412_000.0, 3_697_000.0)),  # UTM 12N, Mesa
    ("EPSG:3067", (385_000.0, 6_672_000.0)),  # ETRS-TM35FIN, Helsinki
    ("EPSG:27700", (530_000.0, 180_000.0)),  # British National Grid, London (lon near 0)
    ("EPSG:3413", (0.0, -1_000_000.0)),  # polar stereographic north, near the pole
    ("EPSG:3857", (12_700_000.0, 2_550_000.0)),  # web Mercator
]


@pytest.mark.parametrize(("crs", "centre"), CASES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bounds_equal_every_point_reprojected(crs: str, centre: tuple, seed: int) -> None:
    xy = city(np.random.default_rng(seed), centre, 30_000)
    x, y = xy[:, 0], xy[:, 1]
    expected = every_point(x, y, crs)
    assert lonlat_bounds(x, y, crs, min_points=1_000) == expected  # to the bit
    assert lonlat_bounds(x, y, crs, min_points=10**9) == expected
    # ... from a handful of reprojected points
    transformer = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    assert len(_extreme_candidates(x, y, transformer)) < 100


def test_bounds_of_a_continent_and_a_line() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.uniform(-2e6, 2e6, 50_000), rng.uniform(-2e6, 2e6, 50_000)
    crs = "+proj=laea +lat_0=50 +lon_0=10 +datum=WGS84"
    assert lonlat_bounds(x, y, crs, min_points=1_000) == every_point(x, y, crs)
    line = np.full(50_000, 3_000.0)  # every point on one meridian of the grid
    assert lonlat_bounds(line, y, crs, min_points=1_000) == every_point(line, y, crs)


def test_bounds_across_the_antimeridian() -> None:
    rng = np.random.default_rng(4)
    crs = "+proj=tmerc +lat_0=0 +lon_0=180 +k=0.9996 +datum=WGS84 +units=m"  # Fiji
    x, y = rng.uniform(-300_000, 300_000, 30_000), rng.uniform(-2.1e6, -1.9e6, 30_000)
    lon, _ = lonlat(x, y, crs)
    assert lon.min() < -179  # both sides of the antimeridian
    assert lon.max() > 179
    transformer = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    assert _extreme_candidates(x, y, transformer) is None  # every point is reprojected
    assert lonlat_bounds(x, y, crs, min_points=1_000) == every_point(x, y, crs)


def test_points_outside_the_projection_are_left_out() -> None:
    rng = np.random.default_rng(5)
    crs = "+proj=ortho +lat_0=22 +lon_0=114 +datum=WGS84"
    x, y = rng.uniform(-7e6, 7e6, 30_000), rng.uniform(-7e6, 7e6, 30_000)
    lon, _ = lonlat(x, y, crs)
    assert not np.isfinite(lon).all()  # beyond the visible hemisphere
    assert lonlat_bounds(x, y, crs, min_points=1_000) == every_point(x, y, crs)
    far = np.full(3, 1e8)
    assert lonlat_bounds(far, far, crs) is None
    assert lonlat_bounds(np.empty(0), np.empty(0), crs) is None
