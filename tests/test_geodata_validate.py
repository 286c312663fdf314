"""validate_layer: every problem found in one pass, a cleaned copy otherwise."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, MultiPoint, Point, Polygon, box

from geodata import LayerError, OptionError, validate_layer
from geodata.validate import format_rows

CRS = "EPSG:2326"
BOWTIE = Polygon([(0, 0), (10, 10), (10, 0), (0, 10), (0, 0)])


def points(n: int = 3, **columns: list) -> gpd.GeoDataFrame:
    data = {"site_id": [f"S{i + 1}" for i in range(n)], "weight": [1.0] * n, **columns}
    geometry = [Point(835_000 + 10 * i, 818_000) for i in range(n)]
    return gpd.GeoDataFrame(data, geometry=geometry, crs=CRS)


def check(gdf: gpd.GeoDataFrame, **options: object) -> gpd.GeoDataFrame:
    return validate_layer(gdf, source="sites.gpkg", **options)


def test_a_clean_layer_comes_back_as_an_equal_copy() -> None:
    gdf = points()
    result = check(gdf, geometry="point", weight="weight", id_column="site_id")
    assert result is not gdf
    assert result.equals(gdf)
    assert result.crs == gdf.crs


def test_index_and_row_order_are_kept() -> None:
    gdf = points(3).set_axis([30, 10, 20])
    result = check(gdf, geometry="point")
    assert list(result.index) == [30, 10, 20]
    assert list(result["site_id"]) == ["S1", "S2", "S3"]


def test_numeric_text_weights_become_float64() -> None:
    gdf = points(2, weight=["1.5", "2"])
    result = check(gdf, weight="weight")
    assert result["weight"].dtype == np.float64
    assert list(result["weight"]) == [1.5, 2.0]
    assert list(gdf["weight"]) == ["1.5", "2"]


def test_every_problem_is_collected_into_one_error() -> None:
    gdf = gpd.GeoDataFrame(
        {"site_id": ["A", "B", "A", None], "weight": [1.0, "x", None, -2.0]},
        geometry=[Point(0, 0), None, Point(np.nan, 1), LineString([(0, 0), (1, 1)])],
        crs=CRS,
    )
    with pytest.raises(LayerError) as err:
        check(gdf, geometry="point", weight="weight", id_column="site_id", required=["mount"])
    problems = err.value.problems
    expected = [
        "has no required column 'mount'; columns present: site_id, weight",
        "has no geometry (null) at row 2",
        "has NaN or infinite coordinates at row 3",
        "found LineString (row 4); expected Point",
        "'weight' is not numeric at row 2 (e.g. 'x')",
        "'weight' is missing (NaN) at row 3",
        "'weight' is negative at row 4 (smallest -2)",
        "id column 'site_id' is missing at row 4",
        "duplicate ids: 'A' (rows 1, 3)",
    ]
    assert len(problems) == len(expected)
    for problem, text in zip(problems, expected, strict=True):
        assert text in problem
    assert str(err.value).startswith("sites.gpkg: 9 problems:")


def test_empty_layer_and_missing_crs_are_problems() -> None:
    gdf = gpd.GeoDataFrame({"weight": []}, geometry=[], crs=None)
    with pytest.raises(LayerError) as err:
        check(gdf, weight="weight")
    assert "has no features" in err.value.problems[0]
    assert "has no coordinate reference system" in err.value.problems[1]
    assert "--crs" in err.value.problems[1]


def test_infinite_weight_is_named() -> None:
    with pytest.raises(LayerError, match="'weight' is infinite at row 2"):
        check(points(3, weight=[1.0, np.inf, 2.0]), weight="weight")


def test_boolean_weight_is_not_a_number() -> None:
    with pytest.raises(LayerError, match="holds true/false values"):
        check(points(2, weight=[True, False]), weight="weight")


def test_weight_total_overflow_is_reported_without_numpy_warnings() -> None:
    with pytest.raises(LayerError, match="sums to more than a 64-bit float holds"):
        check(points(3, weight=[1e308, 1e308, 1.0]), weight="weight")


def test_zero_weights_are_fine() -> None:
    result = check(points(2, weight=[0, 0]), weight="weight")
    assert result["weight"].sum() == 0.0


def test_long_row_lists_are_shortened() -> None:
    gdf = points(9, weight=[-1.0] * 9)
    with pytest.raises(LayerError, match=r"negative at rows 1, 2, 3, 4, 5 and 4 more \("):
        check(gdf, weight="weight")


def test_numeric_ids_are_shown_as_plain_numbers() -> None:
    gdf = points(3, site_id=[7, 8, 7])
    with pytest.raises(LayerError, match=r"duplicate ids: 7 \(rows 1, 3\);"):
        check(gdf, id_column="site_id")


@pytest.mark.parametrize(
    ("kind", "geometry", "ok"),
    [
        ("point", Point(0, 0), True),
        ("point", MultiPoint([(0, 0), (1, 1)]), False),
        ("polygon", box(0, 0, 1, 1), True),
        ("polygon", Point(0, 0), False),
        ("line", LineString([(0, 0), (1, 1)]), True),
        ("line", box(0, 0, 1, 1), False),
        ("point-or-polygon", box(0, 0, 1, 1), True),
        ("point-or-polygon", Point(0, 0), True),
        ("point-or-polygon", LineString([(0, 0), (1, 1)]), False),
        ("any", LineString([(0, 0), (1, 1)]), True),
    ],
)
def test_geometry_kinds(kind: str, geometry: object, ok: bool) -> None:
    gdf = gpd.GeoDataFrame({"a": [1]}, geometry=[geometry], crs=CRS)
    if ok:
        assert len(check(gdf, geometry=kind)) == 1
    else:
        with pytest.raises(LayerError, match=r"wrong geometry type: found \w+ \(row 1\); expected"):
            check(gdf, geometry=kind)


def test_unknown_geometry_kind_is_an_option_error() -> None:
    with pytest.raises(OptionError, match=r"^geometry: 'points' is not a geometry kind"):
        check(points(), geometry="points")


def test_empty_geometry_is_named() -> None:
    gdf = gpd.GeoDataFrame({"a": [1, 2]}, geometry=[box(0, 0, 1, 1), Polygon()], crs=CRS)
    with pytest.raises(LayerError, match="has an empty geometry at row 2"):
        check(gdf, geometry="polygon")


def test_bowtie_is_repaired_with_a_logged_warning(caplog: pytest.LogCaptureFixture) -> None:
    gdf = gpd.GeoDataFrame(
        {"district": ["Bow", "Box"]}, geometry=[BOWTIE, box(0, 0, 1, 1)], crs=CRS
    )
    with caplog.at_level(logging.WARNING, logger="geodata.validate"):
        result = check(gdf, geometry="polygon")
    repaired = result.geometry.iloc[0]
    assert repaired.is_valid
    assert repaired.geom_type == "MultiPolygon"
    assert repaired.area == pytest.approx(50.0)
    assert result.geometry.iloc[1].equals(box(0, 0, 1, 1))
    assert not gdf.geometry.iloc[0].is_valid, "the input must not be modified"
    assert "sites.gpkg: repaired 1 invalid polygon(s) at row 1" in caplog.text


def test_polygon_that_collapses_is_an_error() -> None:
    flat = Polygon([(0, 0), (0, 5), (0, 10), (0, 0)])
    gdf = gpd.GeoDataFrame({"a": [1]}, geometry=[flat], crs=CRS)
    with pytest.raises(LayerError, match="do not repair into polygons"):
        check(gdf, geometry="polygon")


def test_invalid_line_is_reported_not_repaired() -> None:
    degenerate = LineString([(0, 0), (0, 0)])
    gdf = gpd.GeoDataFrame({"a": [1]}, geometry=[degenerate], crs=CRS)
    with pytest.raises(
        LayerError, match=r"has invalid geometries at row 1 \(row 1: Too few points"
    ):
        check(gdf, geometry="line")


def test_a_dataframe_without_geometry_is_a_layer_error() -> None:
    with pytest.raises(LayerError, match="is not a layer with a geometry column"):
        check(gpd.GeoDataFrame({"a": [1]}))


def test_format_rows() -> None:
    assert format_rows([3]) == "row 3"
    assert format_rows([1, 2]) == "rows 1, 2"
    assert format_rows(list(range(1, 8))) == "rows 1, 2, 3, 4, 5 and 2 more"
