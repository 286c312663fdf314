"""Data fidelity: ids come out as they went in; spreadsheet outputs never run a formula.

Ids keep their type and text whatever the input format: text ids (``00042``)
stay the same text, integer ids (``42``) stay integers, in CSV as in GeoJSON.
CSV outputs prefix would-be formulas with ``'``; GeoJSON and GeoPackage keep
every value unchanged.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point

from geodata import read_layer
from geodata.cells import is_faithful_float, is_faithful_int, typed_columns
from maps.compare.plans import load_plan
from maps.export.folder import write_plan
from maps.export.values import from_spreadsheet_cell, spreadsheet_cell
from planner.api import PlanOptions, plan_sites
from planner.plan.result import Plan

X0, Y0 = 412_000.0, 3_697_000.0
FORMULAS = ["=HYPERLINK(\"http://x\",\"y\")", "+1+2", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def _write_sites_csv(path: Path, ids: list[str]) -> Path:
    lines = ["id,x,y,note"] + [f"{i},{X0 + 100 * k},{Y0},n{k}" for k, i in enumerate(ids)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _demand() -> gpd.GeoDataFrame:
    xs = X0 + np.arange(0, 500, 10.0)
    return gpd.GeoDataFrame({"weight": np.ones(len(xs))},
                            geometry=[Point(x, Y0 + 5) for x in xs], crs="EPSG:32612")


def _plan_from(path: Path, sets: int = 3) -> Plan:
    sites = read_layer(path, role="sites", crs="EPSG:32612")
    return plan_sites(_demand(), sites, PlanOptions(radius_m=40.0, sets=sets), site_id="id")


# --------------------------------------------------------------------------- ids


def test_csv_text_ids_come_out_unchanged(tmp_path: Path) -> None:
    ids = ["00042", "007", "42", "NA", "12345678901234567890"]
    plan = _plan_from(_write_sites_csv(tmp_path / "sites.csv", ids), sets=5)
    assert sorted(plan.sites["site_id"]) == sorted(ids)
    out = write_plan(plan, tmp_path / "out")
    rows = _rows(out / "sites.csv")
    assert sorted(r[0] for r in rows[1:]) == sorted(ids)
    features = json.loads((out / "sites.geojson").read_text(encoding="utf-8"))["features"]
    assert sorted(f["id"] for f in features) == sorted(ids)
    assert sorted(f["properties"]["site_id"] for f in features) == sorted(ids)
    layer = pyogrio.read_dataframe(out / "plan.gpkg", layer="sites")
    assert sorted(layer["site_id"]) == sorted(ids)


def test_csv_integer_ids_stay_integers_like_geojson_ones(tmp_path: Path) -> None:
    from_csv = _plan_from(_write_sites_csv(tmp_path / "sites.csv", ["40", "41", "42", "43"]))
    points = [Point(X0 + 100 * k, Y0) for k in range(4)]
    gpd.GeoDataFrame({"id": [40, 41, 42, 43]}, geometry=points, crs="EPSG:32612").to_file(
        tmp_path / "sites.geojson")
    from_geojson = _plan_from(tmp_path / "sites.geojson")
    assert from_csv.sites["site_id"].tolist() == from_geojson.sites["site_id"].tolist()
    assert all(isinstance(v, int) for v in from_csv.sites["site_id"].tolist())
    out = write_plan(from_csv, tmp_path / "out")
    features = json.loads((out / "sites.geojson").read_text(encoding="utf-8"))["features"]
    assert [f["id"] for f in features] == from_geojson.sites["site_id"].tolist()


def test_geojson_text_ids_stay_text(tmp_path: Path) -> None:
    points = [Point(X0 + 100 * k, Y0) for k in range(3)]
    gpd.GeoDataFrame({"id": ["042", "043", "44"]}, geometry=points, crs="EPSG:32612").to_file(
        tmp_path / "sites.geojson")
    plan = _plan_from(tmp_path / "sites.geojson")
    assert sorted(plan.sites["site_id"]) == ["042", "043", "44"]


@pytest.mark.parametrize(
    ("cells", "dtype"),
    [
        (["1", "2", "-3"], "int64"),
        (["1", None, "3"], "Int64"),
        (["2.5", "-0.25", "114.1501576"], "float64"),
        (["00042", "42"], "object"),     # a leading zero: ids
        (["1", "2.5"], "object"),        # 1 would come back as 1.0
        (["2.50", "3.5"], "object"),     # 2.50 would come back as 2.5
        (["1e5", "2"], "object"),
        (["+5", "6"], "object"),
        (["NA", "7"], "object"),
    ],
)
def test_a_csv_column_is_numbers_only_when_nothing_is_lost(cells: list, dtype: str) -> None:
    frame = typed_columns(pd.DataFrame({"c": pd.Series(cells, dtype=object)}))
    assert str(frame["c"].dtype) == dtype
    if dtype == "object":
        assert frame["c"].tolist() == cells


def test_faithful_numbers() -> None:
    assert is_faithful_int("42")
    assert not is_faithful_int("042")
    assert not is_faithful_int("-0")
    assert not is_faithful_int("1" * 19)
    assert is_faithful_float("0.1")
    assert not is_faithful_float("0.10")
    assert not is_faithful_float("0.1000000000000000055511151231257827")


def test_csv_weights_and_coordinates_still_read_as_numbers(tmp_path: Path) -> None:
    path = tmp_path / "demand.csv"
    path.write_text("lon,lat,weight,code\n114.15,22.3,1,007\n114.16,22.31,2.5,008\n",
                    encoding="utf-8")
    layer = read_layer(path, role="demand")
    assert layer["code"].tolist() == ["007", "008"]
    assert layer.geometry.x.tolist() == [114.15, 114.16]


# --------------------------------------------------------------------------- formulas


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        *((f, "'" + f) for f in FORMULAS),
        ("-12.5", "-12.5"), ("-1e-05", "-1e-05"), ("-7", "-7"),
        ("West", "West"), ("'quoted", "'quoted"), ("'=x", "''=x"), ("", ""),
    ],
)
def test_spreadsheet_cells(text: str, safe: str) -> None:
    assert spreadsheet_cell(text) == safe
    assert from_spreadsheet_cell(safe) == text


def test_csv_outputs_neutralise_formulas_and_keep_negative_numbers(
    small_plan: Plan, tmp_path: Path
) -> None:
    sites = small_plan.sites.assign(note=FORMULAS[:5], height=[-3.5, 2.0, -1.0, 0.5, -0.25])
    sites["site_id"] = ["=cmd()", "S2", "@x", "S4", "-S5"]
    districts = small_plan.districts
    assert districts is not None
    districts = districts.assign(district=["=West()", "+East"])
    plan = dataclasses.replace(small_plan, sites=sites, districts=districts)
    out = write_plan(plan, tmp_path / "out")
    header, *rows = _rows(out / "sites.csv")
    column = {name: [r[i] for r in rows] for i, name in enumerate(header)}
    assert column["site_id"] == ["'=cmd()", "S2", "'@x", "S4", "'-S5"]
    assert column["note"] == ["'" + f for f in FORMULAS[:5]]
    assert column["height"] == ["-3.5", "2.0", "-1.0", "0.5", "-0.25"]
    assert [r[0] for r in _rows(out / "districts.csv")[1:]] == ["'=West()", "'+East"]
    # GeoJSON and GeoPackage keep every value as it is
    features = json.loads((out / "sites.geojson").read_text(encoding="utf-8"))["features"]
    assert [f["properties"]["note"] for f in features] == FORMULAS[:5]
    assert [f["id"] for f in features] == ["=cmd()", "S2", "@x", "S4", "-S5"]
    layer = pyogrio.read_dataframe(out / "plan.gpkg", layer="districts")
    assert layer["district"].tolist() == ["=West()", "+East"]
    # a comparison reads the districts back as they were
    record = load_plan(out)
    assert record.districts is not None
    assert [r.district for r in record.districts] == ["=West()", "+East"]
