"""Readers of geodata.layers and geodata.tables: each kind, and every problem reported at once."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from shapely.geometry import LineString, Point, box, mapping

from geodata.errors import LayerError
from geodata.layers import (
    collect,
    load_attractors,
    load_buildings,
    load_crime,
    load_districts,
    load_exclusions,
    load_existing,
    load_footfall,
    load_mounts,
    load_population,
    load_streets,
)
from geodata.tables import join_key, read_table


def _geojson(path: Path, features: list[tuple[object, dict]]) -> Path:
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props,
         "geometry": None if geom is None else mapping(geom)} for geom, props in features]}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


LON, LAT = 114.17, 22.30


def _square(i: int, size: float = 0.01) -> object:
    return box(LON + i * size, LAT, LON + (i + 1) * size, LAT + size)


def test_districts_read_with_name_and_population(tmp_path: Path) -> None:
    path = _geojson(tmp_path / "d.geojson", [(_square(0), {"name": "A", "pop": 10}),
                                             (_square(1), {"name": "B", "pop": 20})])
    gdf = load_districts(path, name="name", population="pop")
    assert gdf["name"].tolist() == ["A", "B"]
    assert gdf["pop"].dtype == np.float64


def test_districts_with_several_polygons_are_merged(tmp_path: Path) -> None:
    path = _geojson(tmp_path / "d.geojson", [(_square(0), {"name": "A"}),
                                             (_square(2), {"name": "A"})])
    gdf = load_districts(path, name="name")
    assert len(gdf) == 1
    assert gdf.geometry.iloc[0].geom_type == "MultiPolygon"


def test_districts_report_every_problem_at_once(tmp_path: Path) -> None:
    path = _geojson(tmp_path / "d.geojson", [
        (_square(0), {"name": "A", "pop": -5}),
        (Point(LON, LAT), {"name": "", "pop": "many"}),
    ])
    with pytest.raises(LayerError) as err:
        load_districts(path, name="name", population="pop")
    text = str(err.value)
    assert "wrong geometry type" in text
    assert "negative" in text
    assert "not numeric" in text
    assert "name column 'name' is empty" in text
    assert len(err.value.problems) >= 4


def test_districts_missing_columns_are_named(tmp_path: Path) -> None:
    path = _geojson(tmp_path / "d.geojson", [(_square(0), {"label": "A"})])
    with pytest.raises(LayerError) as err:
        load_districts(path, name="name", population="pop")
    assert "'name'" in str(err.value)
    assert "'pop'" in str(err.value)
    assert len(err.value.problems) == 2


def test_crime_points_with_a_severity_table(tmp_path: Path) -> None:
    path = tmp_path / "crime.csv"
    path.write_text(f"lon,lat,kind\n{LON},{LAT},theft\n{LON},{LAT + 0.001},robbery\n")
    gdf = load_crime(path, category="kind", severity={"theft": 1, "robbery": 3})
    assert gdf["severity"].tolist() == [1.0, 3.0]


def test_crime_without_severity_weighs_one(tmp_path: Path) -> None:
    path = tmp_path / "crime.csv"
    path.write_text(f"lon,lat\n{LON},{LAT}\n")
    assert load_crime(path)["severity"].tolist() == [1.0]


def test_crime_unknown_categories_and_bad_rows_reported_together(tmp_path: Path) -> None:
    path = tmp_path / "crime.csv"
    path.write_text("x,y,kind\n835000,818000,theft\n835100,818100,arson\n")
    with pytest.raises(LayerError) as err:
        load_crime(path, category="kind", severity={"theft": 1, "robbery": -2}, crs="EPSG:2326")
    text = str(err.value)
    assert "'arson'" in text
    assert "no severity" in text
    assert ">= 0" in text


def test_crime_csv_with_projected_columns_and_crs(tmp_path: Path) -> None:
    path = tmp_path / "crime.csv"
    path.write_text("x,y\n835000,818000\n")
    gdf = load_crime(path, crs="EPSG:2326")
    assert gdf.crs.to_epsg() == 2326


def test_footfall_counts_must_be_numbers(tmp_path: Path) -> None:
    path = tmp_path / "counts.csv"
    path.write_text(f"lon,lat,count\n{LON},{LAT},120\n{LON},{LAT},-3\n{LON},{LAT},\n")
    with pytest.raises(LayerError) as err:
        load_footfall(path, count="count")
    assert "negative" in str(err.value)
    assert "missing" in str(err.value)
    path.write_text(f"lon,lat,count\n{LON},{LAT},120\n")
    assert load_footfall(path, count="count")["count"].tolist() == [120.0]


def test_population_polygons(tmp_path: Path) -> None:
    path = _geojson(tmp_path / "p.geojson", [(_square(0), {"working": 5})])
    assert load_population(path, column="working")["working"].tolist() == [5.0]
    with pytest.raises(LayerError, match="has no weight column 'residents'"):
        load_population(path, column="residents")


def test_attractors_polygons_become_points_and_weights_default_to_one(tmp_path: Path) -> None:
    path = _geojson(tmp_path / "a.geojson", [(Point(LON, LAT), {"name": "exit A"}),
                                             (_square(1), {"name": "mall"})])
    gdf = load_attractors(path)
    assert set(gdf.geom_type) == {"Point"}
    assert gdf["weight"].tolist() == [1.0, 1.0]
    assert gdf.geometry.iloc[1].within(_square(1))


def test_attractors_weight_column(tmp_path: Path) -> None:
    path = _geojson(tmp_path / "a.geojson", [(Point(LON, LAT), {"w": 4})])
    assert load_attractors(path, weight="w")["weight"].tolist() == [4.0]


def test_streets_from_gdal_lines_and_wrong_geometry(tmp_path: Path) -> None:
    path = _geojson(tmp_path / "s.geojson", [(LineString([(LON, LAT), (LON + 0.01, LAT)]), {})])
    assert len(load_streets(path)) == 1
    bad = _geojson(tmp_path / "bad.geojson", [(Point(LON, LAT), {})])
    with pytest.raises(LayerError, match="wrong geometry type"):
        load_streets(bad)


def test_streets_from_graphml(tmp_path: Path) -> None:
    graph = nx.MultiDiGraph(crs="EPSG:2326")
    graph.add_node(1, x=835000.0, y=818000.0)
    graph.add_node(2, x=835100.0, y=818000.0)
    graph.add_node(3, x=835100.0, y=818100.0)
    graph.add_edge(1, 2)
    graph.add_edge(2, 3, geometry="LINESTRING (835100 818000, 835150 818050, 835100 818100)")
    path = tmp_path / "g.graphml"
    nx.write_graphml(graph, path)
    lines = load_streets(path)
    assert lines.crs.to_epsg() == 2326
    assert sorted(np.round(lines.length, 3)) == [100.0, round(2 * np.hypot(50, 50), 3)]


def test_graphml_without_coordinates_is_an_error(tmp_path: Path) -> None:
    graph = nx.Graph()
    graph.add_edge("a", "b")
    path = tmp_path / "g.graphml"
    nx.write_graphml(graph, path)
    with pytest.raises(LayerError, match="no x/y"):
        load_streets(path)


def test_streets_buildings_and_pois_from_osm_pbf() -> None:
    data = pytest.importorskip("pyrosm.data")
    path = Path(data.__file__).parent / "test.osm.pbf"
    streets = load_streets(path)
    assert len(streets) > 0
    assert set(streets.geom_type) <= {"LineString", "MultiLineString"}
    buildings = load_buildings(path)
    assert len(buildings) > 0
    assert set(buildings.geom_type) <= {"Polygon", "MultiPolygon"}
    assert buildings.is_valid.all()


def test_buildings_and_exclusions_must_be_polygons(tmp_path: Path) -> None:
    good = _geojson(tmp_path / "b.geojson", [(_square(0), {})])
    assert len(load_buildings(good)) == 1
    assert len(load_exclusions(good)) == 1
    bad = _geojson(tmp_path / "x.geojson", [(Point(LON, LAT), {}), (None, {})])
    with pytest.raises(LayerError) as err:
        load_exclusions(bad)
    assert "wrong geometry type" in str(err.value)
    assert "null" in str(err.value)


def test_mounts_with_type_cost_and_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "mounts.csv"
    path.write_text(f"id,lon,lat,type,cost\nL1,{LON},{LAT},lamp post,2\n"
                    f"L1,{LON},{LAT},pole,0\nL3,{LON},{LAT},pole,x\n")
    with pytest.raises(LayerError) as err:
        load_mounts(path, id_column="id", type_column="type", cost_column="cost")
    assert "duplicate ids" in str(err.value)
    assert "positive numbers" in str(err.value)
    path.write_text(f"id,lon,lat,type,cost\nL1,{LON},{LAT},lamp post,2\n")
    gdf = load_mounts(path, id_column="id", type_column="type", cost_column="cost")
    assert gdf["type"].tolist() == ["lamp post"]


def test_existing_cameras_owner(tmp_path: Path) -> None:
    path = tmp_path / "mtr.csv"
    path.write_text(f"lon,lat,owner\n{LON},{LAT},MTR\n{LON},{LAT},\n")
    with pytest.raises(LayerError, match="owner column 'owner' is empty"):
        load_existing(path, owner="owner")
    path.write_text(f"lon,lat\n{LON},{LAT}\n")
    assert load_existing(path)["owner"].tolist() == ["mtr"]


def test_table_keys_and_numbers_all_reported(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("district,count\nA,1\na,2\n,x\nB,-1\n")
    with pytest.raises(LayerError) as err:
        read_table(path, key="district", columns=["count", "other"], role="crime counts")
    text = str(err.value)
    for fragment in ("no column 'other'", "duplicates", "empty", "not a number", "negative"):
        assert fragment in text


def test_join_key_ignores_case_spacing_and_ampersand() -> None:
    import pandas as pd

    keys = join_key(pd.Series(["Central And Western", "central  and western",
                               "Central & Western"]))
    assert set(keys) == {"central and western"}


def test_collect_reports_every_failing_layer() -> None:
    def bad(name: str) -> object:
        raise LayerError(name, "broken")

    layers, problems = collect({"a": lambda: 1, "b": lambda: bad("b"), "c": lambda: bad("c")})
    assert layers == {"a": 1}
    assert problems == ["b: broken", "c: broken"]
