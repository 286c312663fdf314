"""GeoJSON geometry objects and their text, built from coordinate arrays (maps.geojson)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon

from maps.export import features, geojson


def _dumps(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


EDGE_VALUES = [
    0.0, -0.0, 1e-4, -1e-4, 9.9999999e-5, 5e-5, 1e-7, 0.5, 1.0, -1.0, 0.1, 0.7, 22.3,
    100.0, 180.0, -180.0, 9999.9999999, 10_000.0, -10_000.0, 123456.7, 1e16, 1e300,
    113.97020293525411, 2.5e-8, np.nan, np.inf, -np.inf,
]  # fmt: skip


@pytest.mark.parametrize("decimals", range(1, 10))
def test_number_texts_are_pythons_repr(decimals: int) -> None:
    rng = np.random.default_rng(decimals)
    values = np.concatenate(
        [
            rng.uniform(-180, 180, 20_000),
            rng.uniform(-1, 1, 5_000),
            10.0 ** rng.uniform(-9, 9, 5_000) * rng.choice([-1, 1], 5_000),
            rng.integers(-10**6, 10**6, 2_000) / 10**decimals,  # trailing zeros
            EDGE_VALUES,
        ]
    )
    rounded = features._round_array(values, decimals)
    assert geojson.number_texts(rounded, decimals) == [repr(float(v)) for v in rounded]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=50))
def test_number_texts_are_pythons_repr_for_any_double(values: list[float]) -> None:
    rounded = features._round_array(np.array(values), 7)
    assert geojson.number_texts(rounded, 7) == [repr(float(v)) for v in rounded]
    # numbers not rounded as promised are still written as Python writes them
    assert geojson.number_texts(np.array(values), 7) == [repr(v) for v in values]


def test_number_texts_refuse_too_many_decimals() -> None:
    with pytest.raises(ValueError, match="from 1 to 9"):
        geojson.number_matrix(np.array([1.5]), 10)


def _geometries() -> np.ndarray:
    ring = [(0.123456789, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.123456789, 0.0)]
    hole = [(0.2, 0.2), (0.2, 0.4), (0.4, 0.4), (0.2, 0.2)]
    hole2 = [(0.6, 0.6), (0.6, 0.8), (0.8, 0.8), (0.6, 0.6)]
    rng = np.random.default_rng(5)
    fixed = np.array(
        [
            shapely.Point(1.23456789, -2.5),
            None,
            Polygon(ring, [hole, hole2]),
            shapely.MultiPolygon(
                [Polygon(ring, [hole]), Polygon([(5, 5), (6, 5), (6, 6), (5, 5)])]
            ),
            shapely.LineString([(0, 0), (1.000000051, 2)]),
            shapely.MultiPoint([(0, 0), (1e-5, -1e-9)]),
            shapely.MultiLineString([[(0, 0), (1, 1)], [(2, 2), (3, 3), (-4.5, 1e6)]]),
            shapely.GeometryCollection([shapely.Point(1, 2), shapely.Point()]),
            shapely.Point(1, 2, 3.123456789),
            Polygon(),
            shapely.Point(),
        ],
        dtype=object,
    )
    discs = shapely.buffer(shapely.points(rng.uniform(113, 115, (200, 2))), 0.001)
    points = shapely.points(rng.uniform(-180, 180, (500, 2)))
    return np.concatenate([fixed, discs, points])


def test_geometry_texts_are_the_dumped_objects() -> None:
    geoms = _geometries()
    texts = geojson.geometry_texts(
        geoms, decimals=7, round_values=features._round_array, other=features._geometry_json
    )
    assert texts == [_dumps(obj) for obj in features._geometries_json(geoms)]


def test_geometry_texts_of_one_type_and_of_none() -> None:
    assert geojson.geometry_texts(
        np.array([], dtype=object), decimals=7, round_values=features._round_array, other=str
    ) == []
    points = shapely.points([[1.5, 2.25], [3.0, -4.0]])
    texts = geojson.geometry_texts(
        points, decimals=7, round_values=features._round_array, other=str
    )
    assert texts == [
        '{"type":"Point","coordinates":[1.5,2.25]}',
        '{"type":"Point","coordinates":[3.0,-4.0]}',
    ]


def test_geometry_objects_as_tuples_write_the_same_json() -> None:
    geoms = _geometries()
    lists = geojson.geometry_objects(geoms, round_values=None, other=features._geometry_json)
    tuples = geojson.geometry_objects(
        geoms, round_values=None, other=features._geometry_json, tuples=True
    )
    assert _dumps(tuples) == _dumps(lists)
    assert isinstance(tuples[0]["coordinates"], tuple)
