"""GeoJSON (RFC 7946), GeoPackage, CSV and summary exports of a plan."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import re
import shutil
import sqlite3
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from conftest import HOSTILE
from shapely.geometry import Polygon

from geodata.errors import OptionError
from maps.export import features, gpkg, tables
from maps.export import summary as summary_json
from maps.export import values as cells
from planner.plan.result import Plan

SITE_PROPERTIES = [
    "site_id",
    "rank",
    "phase",
    "marginal_weight",
    "cumulative_weight",
    "cumulative_share",
    "mount_type",
]


def _reject_constant(name: str) -> Any:
    raise AssertionError(f"non-standard JSON constant {name} in output")


def _load(path: Path) -> Any:
    """Parse strictly: NaN, Infinity and -Infinity fail the test."""
    return json.loads(path.read_text(encoding="utf-8"), parse_constant=_reject_constant)


def _numbers(coords: Any) -> list[float]:
    if isinstance(coords, int | float):
        return [coords]
    return [n for c in coords for n in _numbers(c)]


def _signed_area(ring: list[list[float]]) -> float:
    """Shoelace formula: positive for counter-clockwise rings."""
    xy = np.asarray(ring)
    x, y = xy[:, 0], xy[:, 1]
    return 0.5 * float(np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]))


@pytest.fixture
def sites_file(small_plan: Plan, tmp_path: Path) -> Path:
    return features.write_geojson(features.plan_to_geojson(small_plan), tmp_path / "sites.geojson")


# --------------------------------------------------------------------------- sites GeoJSON


def test_sites_are_an_rfc7946_feature_collection(sites_file: Path, small_plan: Plan) -> None:
    obj = _load(sites_file)
    assert obj["type"] == "FeatureCollection"
    assert "crs" not in obj
    assert len(obj["features"]) == small_plan.n_sets
    for feature in obj["features"]:
        assert feature["type"] == "Feature"
        assert feature["geometry"]["type"] == "Point"
        lon, lat = feature["geometry"]["coordinates"]
        assert -180 <= lon <= 180
        assert -90 <= lat <= 90


def test_sites_are_reprojected_to_lon_lat(small_plan: Plan) -> None:
    obj = features.plan_to_geojson(small_plan)
    expected = small_plan.sites.geometry.to_crs("EPSG:4326")
    got = np.array([f["geometry"]["coordinates"] for f in obj["features"]])
    np.testing.assert_allclose(got[:, 0], expected.x, atol=1e-7)
    np.testing.assert_allclose(got[:, 1], expected.y, atol=1e-7)
    assert got[:, 0] == pytest.approx(-111.94, abs=0.01)  # Mesa, AZ: lon first
    assert got[:, 1] == pytest.approx(33.41, abs=0.01)


def test_coordinates_have_at_most_seven_decimals(sites_file: Path) -> None:
    obj = _load(sites_file)
    for feature in obj["features"]:
        for number in feature["geometry"]["coordinates"]:
            decimals = repr(number).split(".")[1]
            assert len(decimals) <= 7, number
    assert not re.search(r"\d\.\d{8,}\]", sites_file.read_text(encoding="utf-8"))


def test_site_ids_and_properties_are_kept_in_order(sites_file: Path, small_plan: Plan) -> None:
    obj = _load(sites_file)
    ids = [f["properties"]["site_id"] for f in obj["features"]]
    assert ids == list(small_plan.sites["site_id"])
    assert HOSTILE in ids
    assert [f["id"] for f in obj["features"]] == ids
    for feature in obj["features"]:
        assert list(feature["properties"]) == SITE_PROPERTIES
    first = obj["features"][0]["properties"]
    assert first["rank"] == 1
    assert first["phase"] == 1
    assert first["cumulative_weight"] == float(small_plan.sites["cumulative_weight"].iloc[0])


def test_numpy_scalars_become_plain_python(small_plan: Plan) -> None:
    obj = features.plan_to_geojson(small_plan)
    props = obj["features"][0]["properties"]
    assert type(props["rank"]) is int
    assert type(props["marginal_weight"]) is float
    json.dumps(obj, allow_nan=False)  # no numpy types left: json would refuse them


def test_nan_infinity_and_odd_values_become_null_or_text(small_plan: Plan, tmp_path: Path) -> None:
    plan = _odd_plan(small_plan)
    obj = _load(features.write_geojson(features.plan_to_geojson(plan), tmp_path / "s.geojson"))
    props = [f["properties"] for f in obj["features"]]
    assert props[0]["marginal_weight"] is None
    assert props[1]["marginal_weight"] is None
    assert [p["price"] for p in props] == ["1.5", None, None, 2, 3]
    assert props[0]["installed"] == "2025-01-02"


def test_write_geojson_is_deterministic_utf8(small_plan: Plan, tmp_path: Path) -> None:
    obj = features.plan_to_geojson(small_plan)
    a = features.write_geojson(obj, tmp_path / "a.geojson").read_bytes()
    b = features.write_geojson(features.plan_to_geojson(small_plan), tmp_path / "b.geojson")
    assert a == b.read_bytes()
    assert a.endswith(b"}\n")
    assert b'"type":"FeatureCollection"' in a
    assert HOSTILE.encode("utf-8") in a


def test_write_geojson_refuses_nan(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="JSON compliant"):
        features.write_geojson({"type": "FeatureCollection", "x": float("nan")}, tmp_path / "x")


def test_unicode_is_written_as_is(tmp_path: Path) -> None:
    path = features.write_geojson({"name": "旺角"}, tmp_path / "u.geojson")
    assert path.read_bytes() == '{"name":"旺角"}\n'.encode()


def _odd_plan(small_plan: Plan) -> Plan:
    """The small plan with NaN, infinity, decimals, dates, text and holes in its layers."""
    sites = small_plan.sites.copy()
    sites["marginal_weight"] = sites["marginal_weight"].astype(float)
    sites.loc[0, "marginal_weight"] = np.nan
    sites.loc[1, "marginal_weight"] = np.inf
    sites["price"] = [Decimal("1.5"), None, np.nan, 2, 3]
    sites["installed"] = [dt.date(2025, 1, 2)] * 5
    sites["note"] = ["旺角", "", None, 'say "hi"\n', HOSTILE]
    footprints = small_plan.footprints.copy()
    x0, y0 = 412_300.0, 3_697_300.0
    outer = [(x0, y0), (x0, y0 + 100), (x0 + 100, y0 + 100), (x0 + 100, y0)]
    hole = [(x0 + 40, y0 + 40), (x0 + 60, y0 + 40), (x0 + 60, y0 + 60), (x0 + 40, y0 + 60)]
    footprints.loc[0, "geometry"] = Polygon(outer, [hole])
    footprints.loc[1, "geometry"] = shapely.MultiPolygon(
        [shapely.box(x0, y0, x0 + 10, y0 + 10), shapely.box(x0 + 20, y0, x0 + 30, y0 + 10)]
    )
    return dataclasses.replace(small_plan, sites=sites, footprints=footprints)


@pytest.mark.parametrize("odd", [False, True])
def test_geojson_text_is_the_dumped_collection(small_plan: Plan, odd: bool) -> None:
    plan = _odd_plan(small_plan) if odd else small_plan
    assert features.plan_geojson_text(plan) == cells.dumps_json(features.plan_to_geojson(plan))
    assert features.footprints_geojson_text(plan) == cells.dumps_json(
        features.footprints_to_geojson(plan)
    )


def test_write_geojson_takes_the_text(small_plan: Plan, tmp_path: Path) -> None:
    a = features.write_geojson(features.plan_to_geojson(small_plan), tmp_path / "a.geojson")
    b = features.write_geojson(features.plan_geojson_text(small_plan), tmp_path / "b.geojson")
    assert a.read_bytes() == b.read_bytes()


# --------------------------------------------------------------------------- footprints


def test_footprints_follow_the_right_hand_rule(small_plan: Plan, tmp_path: Path) -> None:
    x0, y0 = 412_300.0, 3_697_300.0
    outer = [(x0, y0), (x0, y0 + 100), (x0 + 100, y0 + 100), (x0 + 100, y0)]  # clockwise
    hole = [(x0 + 40, y0 + 40), (x0 + 60, y0 + 40), (x0 + 60, y0 + 60), (x0 + 40, y0 + 60)]
    footprints = small_plan.footprints.copy()
    footprints.loc[0, "geometry"] = Polygon(outer, [hole])
    plan = dataclasses.replace(small_plan, footprints=footprints)
    path = features.write_geojson(features.footprints_to_geojson(plan), tmp_path / "f.geojson")
    obj = _load(path)
    assert "crs" not in obj
    assert len(obj["features"]) == len(footprints)
    for feature in obj["features"]:
        rings = feature["geometry"]["coordinates"]
        assert _signed_area(rings[0]) > 0
        assert all(_signed_area(r) < 0 for r in rings[1:])
        assert all(len(repr(n).split(".")[1]) <= 7 for n in _numbers(rings))
    assert len(obj["features"][0]["geometry"]["coordinates"]) == 2
    assert [f["properties"]["site_id"] for f in obj["features"]] == list(footprints["site_id"])
    assert list(obj["features"][0]["properties"]) == ["site_id", "rank", "phase"]


# --------------------------------------------------------------------------- GeoPackage


def _with_demand_layer(plan: Plan, choice: str) -> Plan:
    return dataclasses.replace(plan, parameters={**plan.parameters, "demand_layer": choice})


def test_geopackage_layers_and_crs(small_plan: Plan, tmp_path: Path) -> None:
    small_plan = _with_demand_layer(small_plan, "all")
    path = gpkg.write_geopackage(small_plan, tmp_path / "plan.gpkg")
    layers = pyogrio.list_layers(path)
    assert [tuple(row) for row in layers] == [
        ("sites", "Point"),
        ("footprints", "Polygon"),
        ("demand", "Point"),
        ("districts", "Polygon"),
        ("existing", "Point"),
        ("exclusions", "Polygon"),
        ("layer_styles", None),  # QGIS's default styles of the layers above
    ]
    sites = gpd.read_file(path, layer="sites")
    assert sites.crs == "EPSG:32612"
    assert list(sites["site_id"]) == list(small_plan.sites["site_id"])
    assert list(sites.columns) == [*SITE_PROPERTIES, "geometry"]
    assert shapely.equals(sites.geometry.to_numpy(), small_plan.sites.geometry.to_numpy()).all()
    demand = gpd.read_file(path, layer="demand")
    assert len(demand) == len(small_plan.demand)
    assert demand["weight"].sum() == pytest.approx(small_plan.total_weight)
    districts = gpd.read_file(path, layer="districts")
    assert HOSTILE in set(districts["district"])


@pytest.mark.parametrize("choice", ["covered", "uncovered", "all"])
def test_geopackage_demand_layer_holds_the_points_asked_for(
    small_plan: Plan, tmp_path: Path, choice: str
) -> None:
    quality = small_plan.demand["covered"].to_numpy()
    assert (quality > 0).any()
    assert (quality == 0).any()
    wanted = {"covered": quality > 0, "uncovered": quality == 0, "all": quality >= 0}[choice]
    plan = _with_demand_layer(small_plan, choice)
    path = gpkg.write_geopackage(plan, tmp_path / "plan.gpkg")
    back = gpd.read_file(path, layer="demand")
    assert list(back.columns) == list(small_plan.demand.columns)  # no index column added
    assert back["weight"].tolist() == small_plan.demand["weight"][wanted].tolist()
    assert shapely.equals(back.geometry.to_numpy(),
                          small_plan.demand.geometry.to_numpy()[wanted]).all()
    note = gpkg.demand_layer_note(plan)
    assert note == {"choice": choice, "points": int(wanted.sum()), "of": len(quality)}


def test_geopackage_demand_layer_defaults_to_the_covered_points(small_plan: Plan) -> None:
    assert "demand_layer" not in small_plan.parameters
    assert gpkg.demand_layer_choice(small_plan) == "covered"
    assert len(gpkg.gpkg_demand(small_plan)) == int((small_plan.demand["covered"] > 0).sum())


def test_geopackage_demand_layer_none_writes_no_demand_layer(
    small_plan: Plan, tmp_path: Path
) -> None:
    path = gpkg.write_geopackage(_with_demand_layer(small_plan, "none"), tmp_path / "p.gpkg")
    layers = [row[0] for row in pyogrio.list_layers(path)]
    assert "demand" not in layers
    assert "sites" in layers


def test_geopackage_demand_layer_keeps_points_of_unknown_coverage(small_plan: Plan) -> None:
    demand = small_plan.demand.assign(covered=np.nan)  # e.g. a sweep plan without a matrix
    plan = dataclasses.replace(_with_demand_layer(small_plan, "covered"), demand=demand)
    assert len(gpkg.gpkg_demand(plan)) == len(demand)


def test_geopackage_demand_layer_rejects_an_unknown_choice(small_plan: Plan) -> None:
    with pytest.raises(OptionError, match="demand_layer"):
        gpkg.demand_layer_choice(_with_demand_layer(small_plan, "some"))


def test_geopackage_without_optional_layers(small_plan: Plan, tmp_path: Path) -> None:
    plan = dataclasses.replace(small_plan, districts=None, existing=None, exclusions=None)
    path = gpkg.write_geopackage(plan, tmp_path / "plan.gpkg")
    assert [row[0] for row in pyogrio.list_layers(path)] == [
        "sites", "footprints", "demand", "layer_styles"]


def test_geopackage_is_byte_identical_between_writes(small_plan: Plan, tmp_path: Path) -> None:
    a = gpkg.write_geopackage(small_plan, tmp_path / "a.gpkg")
    b = gpkg.write_geopackage(small_plan, tmp_path / "b.gpkg")
    assert a.read_bytes() == b.read_bytes()
    with sqlite3.connect(a) as con:
        stamps = {row[0] for row in con.execute("SELECT last_change FROM gpkg_contents")}
    con.close()
    assert stamps == {gpkg.GPKG_TIMESTAMP}


def test_geopackage_replaces_an_existing_file(small_plan: Plan, tmp_path: Path) -> None:
    path = tmp_path / "plan.gpkg"
    path.write_bytes(b"not a geopackage")
    gpkg.write_geopackage(small_plan, path)
    assert "sites" in pyogrio.list_layers(path)[:, 0]


def test_geopackage_opens_with_ogrinfo(small_plan: Plan, tmp_path: Path) -> None:
    ogrinfo = shutil.which("ogrinfo")
    if ogrinfo is None:
        pytest.skip("ogrinfo (GDAL command line tools) is not installed")
    path = gpkg.write_geopackage(small_plan, tmp_path / "plan.gpkg")
    out = subprocess.run([ogrinfo, "-ro", "-so", str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    for layer in ("sites (Point)", "footprints (Polygon)", "demand (Point)", "districts (Polygon)"):
        assert layer in out.stdout
    assert "Warning" not in out.stderr  # e.g. "GeoPackage ... may only be partially supported"


def test_object_columns_are_stored_as_text(small_plan: Plan, tmp_path: Path) -> None:
    sites = small_plan.sites.copy()
    sites["tags"] = [["a", "b"], None, {"k": 1}, "plain", Decimal("2.5")]
    plan = dataclasses.replace(small_plan, sites=sites)
    back = gpd.read_file(gpkg.write_geopackage(plan, tmp_path / "p.gpkg"), layer="sites")
    assert list(back["tags"].fillna("-")) == ['["a","b"]', "-", '{"k":1}', '"plain"', '"2.5"']


def _column_kinds(n: int) -> dict[str, Any]:
    """A column of each kind a layer may hold."""
    rng = np.random.default_rng(4)
    return {
        "flag": rng.random(n) > 0.5,
        "maybe": pd.array([True, None] * (n // 2), dtype="boolean"),
        "count": np.arange(n, dtype=np.int64) * 10**12,
        "small": np.arange(n, dtype=np.int32),
        "sparse": pd.array([1, None] * (n // 2), dtype="Int64"),
        "weight": np.r_[np.nan, np.inf, -0.0, rng.random(n - 3)],
        "name": pd.Series(["a", "旺角", None, HOSTILE, ""] * (n // 5), dtype="str"),
    }


def _gpkg_bytes(path: Path) -> bytes:
    gpkg._fix_gpkg_timestamps(path)
    return path.read_bytes()


@pytest.mark.parametrize("kind", ["points", "polygons"])
def test_layers_through_arrow_are_the_file_gdal_writes_feature_by_feature(
    tmp_path: Path, kind: str
) -> None:
    n = 50
    rng = np.random.default_rng(9)
    geometry = shapely.points(rng.uniform(800_000, 900_000, (n, 2)))
    if kind == "polygons":
        geometry = shapely.buffer(geometry, 50.0)
    frame = gpd.GeoDataFrame(_column_kinds(n), geometry=geometry, crs="EPSG:2326")
    fast = tmp_path / "arrow.gpkg"
    gpkg._write_gpkg_layer(frame, fast, "layer", SPATIAL_INDEX="YES")
    plain = tmp_path / "plain.gpkg"
    pyogrio.write_dataframe(frame, plain, layer="layer", driver="GPKG", use_arrow=False,
                            dataset_options={"VERSION": "1.2"}, SPATIAL_INDEX="YES")
    assert _gpkg_bytes(fast) == _gpkg_bytes(plain)


def test_geopackage_column_types_read_back(small_plan: Plan, tmp_path: Path) -> None:
    n = len(small_plan.demand)
    demand = small_plan.demand.copy()
    for name, values in _column_kinds(n).items():
        demand[name] = values
    plan = _with_demand_layer(dataclasses.replace(small_plan, demand=demand), "all")
    path = gpkg.write_geopackage(plan, tmp_path / "plan.gpkg")
    back = pyogrio.read_dataframe(path, layer="demand")
    assert back["flag"].dtype == bool
    assert back["count"].dtype == np.int64
    assert back["small"].dtype == np.int32
    assert back["weight"].dtype == np.float64
    assert list(back["name"].fillna("-")) == list(demand["name"].fillna("-"))
    assert list(back["count"]) == list(demand["count"])
    ogrinfo = shutil.which("ogrinfo")
    if ogrinfo is None:
        pytest.skip("ogrinfo (GDAL command line tools) is not installed")
    out = subprocess.run([ogrinfo, "-ro", "-so", str(path), "demand"], capture_output=True,
                         text=True, check=True).stdout
    for field in ("flag: Integer(Boolean)", "maybe: Integer(Boolean)", "count: Integer64",
                  "small: Integer", "sparse: Integer64", "weight: Real", "name: String",
                  "covered: Real"):
        assert field in out


# --------------------------------------------------------------------------- CSV


def _read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def test_sites_csv(small_plan: Plan, tmp_path: Path) -> None:
    path = tables.sites_to_csv(small_plan, tmp_path / "sites.csv")
    rows = _read_csv(path)
    assert rows[0] == [
        "site_id", "rank", "phase", "lon", "lat", "x", "y",
        "marginal_weight", "cumulative_weight", "cumulative_share", "mount_type",
    ]  # fmt: skip
    body = rows[1:]
    assert [r[0] for r in body] == list(small_plan.sites["site_id"])
    lonlat = small_plan.sites.geometry.to_crs("EPSG:4326")
    assert [r[3] for r in body] == [f"{v:.7f}" for v in lonlat.x]
    assert [r[4] for r in body] == [f"{v:.7f}" for v in lonlat.y]
    assert body[0][5:7] == ["412200.000", "3697200.000"]
    assert [float(r[8]) for r in body] == list(small_plan.sites["cumulative_weight"])
    assert b"\r\n" not in path.read_bytes()


def test_sites_csv_is_deterministic(small_plan: Plan, tmp_path: Path) -> None:
    a = tables.sites_to_csv(small_plan, tmp_path / "a.csv").read_bytes()
    assert a == tables.sites_to_csv(small_plan, tmp_path / "b.csv").read_bytes()


def _every_kind_of_column() -> pd.DataFrame:
    n = 6
    return pd.DataFrame(
        {
            "flag": [True, False] * 3,
            "count": np.arange(n, dtype=np.int64) - 3,
            "unsigned": np.arange(n, dtype=np.uint16),
            "weight": [1.5, np.nan, np.inf, -np.inf, -0.0, 1e300],
            "single": np.array([0.1, 2.5, np.nan, 3, 4, 5], dtype=np.float32),
            "sparse": pd.array([1, None, 3, 4, 5, 6], dtype="Int64"),
            "maybe": pd.array([True, None, False, True, True, False], dtype="boolean"),
            "name": pd.Series(["a", None, "旺角", "", HOSTILE, "x"], dtype="str"),
            "things": [["a"], {"k": 1}, None, Decimal("2.5"), np.int64(7), "t"],
            "when": pd.to_datetime(["2025-01-02", None, "2025-03-04", "2025-01-02",
                                    "2025-01-02", "2025-01-02"]),
        }
    )


def test_columns_are_converted_as_value_by_value() -> None:
    frame = _every_kind_of_column()
    for column in frame.columns:
        values = frame[column]
        assert cells.cell_texts(values) == [cells.format_cell(v) for v in values], column
    order = ["name", *(c for c in frame.columns if c != "name")]
    records = frame[order].to_dict(orient="records")
    expected = [{str(k): cells.json_value(v) for k, v in r.items()} for r in records]
    got = features._properties(frame, ["name"])
    assert got == expected
    assert [list(p) for p in got] == [order] * len(frame)
    assert features._properties(frame[[]], []) == [{}] * len(frame)


def test_districts_csv(small_plan: Plan, tmp_path: Path) -> None:
    rows = _read_csv(tables.districts_to_csv(small_plan, tmp_path / "districts.csv"))
    assert rows[0] == list(tables.DISTRICT_COLUMNS)
    districts = small_plan.districts
    assert districts is not None
    assert [r[0] for r in rows[1:]] == ["West", HOSTILE]
    assert rows[1][1:5] == ["3", "0.6", "12000", "0.25"]
    assert float(rows[2][5]) == districts["covered_weight"].iloc[1]


def test_districts_csv_needs_districts(small_plan: Plan, tmp_path: Path) -> None:
    plan = dataclasses.replace(small_plan, districts=None)
    with pytest.raises(ValueError, match="no districts"):
        tables.districts_to_csv(plan, tmp_path / "d.csv")


# --------------------------------------------------------------------------- summary


def test_summary_numbers_and_key_order(small_plan: Plan, tmp_path: Path) -> None:
    summary = _load(summary_json.write_summary(small_plan, tmp_path / "summary.json"))
    assert list(summary)[-1] == "timings"
    assert summary["timings"] == dict(small_plan.timings)
    assert summary["n_sets"] == 5
    assert summary["covered_weight"] == small_plan.covered_weight
    assert summary["coverage_share"] == small_plan.coverage_share
    assert summary["new_weight"] == pytest.approx(
        small_plan.covered_weight - small_plan.existing_weight
    )
    assert summary["owners"] == {"MTR": small_plan.existing_weight}
    assert summary["upper_bound"] == small_plan.certificate.upper_bound
    assert summary["gap"] == small_plan.certificate.gap
    assert summary["bound_method"] == "online-submodular"
    assert summary["proven_optimal"] is False
    assert [p["cumulative_sets"] for p in summary["phases"]] == [3, 5]
    assert summary["parameters"]["phases"] == [3, 2]
    assert summary["inputs"] == dict(small_plan.inputs)
    assert summary["crs"] == "EPSG:32612"
    assert summary["camplan_version"] == summary_json.camplan_version() != "unknown"


def test_summary_sanitises_parameters(small_plan: Plan) -> None:
    params = {"radius_m": np.float64(150.0), "bad": float("nan"), "ids": np.array([1, 2])}
    summary = summary_json.plan_summary(dataclasses.replace(small_plan, parameters=params))
    assert summary["parameters"] == {"radius_m": 150.0, "bad": None, "ids": [1, 2]}
    json.dumps(summary, allow_nan=False)


# --------------------------------------------------------------------------- fast geometry path


def test_round_array_is_pythons_round() -> None:
    rng = np.random.default_rng(11)
    ties = rng.integers(-1_800_000_000, 1_800_000_000, 20_000) / 1e7 + 0.5e-7
    values = np.concatenate(
        [rng.uniform(-180, 180, 50_000), ties, [0.0, -0.0, -2.5e-8, 0.15, 1e300, np.inf]]
    )
    rounded = features._round_array(values)
    expected = [round(float(v), features.COORD_DECIMALS) for v in values]
    assert rounded.tolist() == expected
    assert np.signbit(rounded).tolist() == np.signbit(expected).tolist()


def test_vectorised_geometry_json_matches_per_geometry() -> None:
    ring = [(0.123456789, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.123456789, 0.0)]
    hole = [(0.2, 0.2), (0.2, 0.4), (0.4, 0.4), (0.2, 0.2)]
    geoms = np.array(
        [
            shapely.Point(1.23456789, -2.5),
            None,
            Polygon(ring, [hole]),
            shapely.MultiPolygon([Polygon(ring), Polygon([(5, 5), (6, 5), (6, 6), (5, 5)])]),
            shapely.LineString([(0, 0), (1.000000051, 2)]),
            shapely.MultiPoint([(0, 0), (1, 1)]),
            shapely.MultiLineString([[(0, 0), (1, 1)], [(2, 2), (3, 3)]]),
            shapely.GeometryCollection([shapely.Point(1, 2), shapely.Point()]),
            shapely.Point(1, 2, 3.123456789),
            Polygon(),
        ],
        dtype=object,
    )
    expected = [features._geometry_json(g) for g in geoms]
    assert features._geometries_json(geoms) == expected
    assert cells.dumps_json(features._geometries_json(geoms)) == cells.dumps_json(expected)
