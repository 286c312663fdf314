"""Maps for closed networks: a tile server's URL template, or no tiles and a drawn land."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import LineString, Point, box

from geodata.errors import OptionError
from maps.cli.main import main
from maps.webmap.colours import LAND_COLOUR, WATER_COLOUR
from maps.webmap.land import BaseLayers, land_shape
from maps.webmap.map import plan_map, render_map
from maps.webmap.tiles import Tiles, tiles_from
from planner.plan.result import Plan

TEMPLATE = "https://tiles.city.example/osm/{z}/{x}/{y}.png"


def test_none_and_empty_turn_tiles_off() -> None:
    assert tiles_from("none").url is None
    assert tiles_from(" None ").url is None
    assert tiles_from("").url is None


def test_template_takes_its_host_as_attribution_unless_given() -> None:
    assert tiles_from(TEMPLATE).attr() == "Tiles: tiles.city.example"
    assert tiles_from(TEMPLATE, "© City Survey").attr() == "© City Survey"
    assert tiles_from("https://t.example/{z}/{x}/{-y}.png").url is not None  # TMS
    assert tiles_from("OpenStreetMap").attr() is None  # the provider's own line
    assert tiles_from("CartoDB.Positron").url == "CartoDB.Positron"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("https://tiles.example/{z}/{x}.png", "lacks {y}"),
        ("ftp://tiles.example/{z}/{x}/{y}.png", "must start with https://"),
        ("Streetmap of my town", "neither a tile provider name nor a URL template"),
    ],
)
def test_bad_tiles_are_one_message_naming_the_option(value: str, problem: str) -> None:
    with pytest.raises(OptionError, match=re.escape(problem)) as info:
        tiles_from(value, option="--tiles")
    assert str(info.value).startswith("--tiles: ")


def test_page_uses_the_tile_server(small_plan: Plan) -> None:
    page = render_map(plan_map(small_plan, tiles=tiles_from(TEMPLATE, "© City <Survey>")))
    assert json.dumps(TEMPLATE)[1:-1] in page
    assert "City <Survey>" not in page  # Leaflet shows the attribution as HTML: escaped
    assert r'"\u00a9 City \u0026lt;Survey\u0026gt;"' in page  # folium's HTML-safe JSON
    assert "openstreetmap" not in page.lower()
    assert '"Land"' not in page


def test_no_tiles_draws_the_land_under_everything(small_plan: Plan) -> None:
    streets = gpd.GeoDataFrame(
        geometry=[LineString([(412_100, 3_697_100), (412_900, 3_697_900)])], crs=small_plan.crs)
    page = render_map(plan_map(small_plan, tiles=Tiles(url=None),
                               base=BaseLayers(streets=streets)))
    assert "L.tileLayer(" not in page
    assert f"background: {WATER_COLOUR}" in page
    land = page.index('"Land"')
    assert land < page.index('"Streets"') < page.index("Camera sets, phase 1")
    assert LAND_COLOUR in page


def test_land_is_the_districts_clipped_to_a_land_layer(small_plan: Plan) -> None:
    districts = shapely.union_all(small_plan.districts.geometry.array)
    assert land_shape(small_plan).geometry.iloc[0].equals(districts)
    minx, miny, maxx, maxy = districts.bounds
    half = gpd.GeoDataFrame(geometry=[box(minx, miny, (minx + maxx) / 2, maxy)],
                            crs=small_plan.crs)
    clipped = land_shape(small_plan, half).geometry.iloc[0]
    assert clipped.area == pytest.approx(districts.area / 2, rel=1e-6)


def test_without_districts_the_land_is_the_study_area(small_plan: Plan) -> None:
    plan = dataclasses.replace(small_plan, districts=None)
    land = land_shape(plan).geometry.iloc[0]
    reach = shapely.buffer(plan.sites.geometry.array, plan.radius_m * 0.99)
    assert shapely.contains(land, reach).all()
    assert shapely.contains(land, plan.demand.geometry.array).all()


# --------------------------------------------------------------------------- command line


@pytest.fixture
def layers(tmp_path: Path) -> dict[str, Path]:
    """A tiny demand layer, three sites and a street, in UTM 12N."""
    crs, x0, y0 = "EPSG:32612", 412_000.0, 3_697_000.0
    demand = gpd.GeoDataFrame({"weight": [1.0] * 20},
                              geometry=[Point(x0 + 10 * i, y0) for i in range(20)], crs=crs)
    sites = gpd.GeoDataFrame({"pole": ["a", "b", "c"]},
                             geometry=[Point(x0 + 40 * i, y0) for i in range(3)], crs=crs)
    streets = gpd.GeoDataFrame(geometry=[LineString([(x0, y0), (x0 + 200, y0)])], crs=crs)
    paths = {k: tmp_path / f"{k}.gpkg" for k in ("demand", "sites", "streets")}
    for name, frame in (("demand", demand), ("sites", sites), ("streets", streets)):
        frame.to_file(paths[name])
    return paths


def _args(layers: dict[str, Path], out: Path, *extra: str) -> list[str]:
    return ["plan", "--demand", str(layers["demand"]), "--sites", str(layers["sites"]),
            "--site-id", "pole", "--radius", "30", "--sets", "2", "--out", str(out), *extra]


def test_cli_tiles_url_and_attribution(layers: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(_args(layers, out, "--tiles", TEMPLATE, "--tiles-attribution", "© City")) == 0
    page = (out / "map.html").read_text(encoding="utf-8")
    assert TEMPLATE in page
    assert json.dumps("© City")[1:-1] in page
    assert "tile.openstreetmap.org" not in page


def test_cli_tiles_none_draws_land_and_streets(layers: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(_args(layers, out, "--tiles", "none", "--streets", str(layers["streets"]))) == 0
    page = (out / "map.html").read_text(encoding="utf-8")
    assert '"Land"' in page
    assert '"Streets"' in page
    assert "L.tileLayer(" not in page


def test_cli_default_tiles_stay_openstreetmap(layers: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(_args(layers, out)) == 0
    assert "tile.openstreetmap.org" in (out / "map.html").read_text(encoding="utf-8")


def test_scenario_tiles_key(layers: dict[str, Path], tmp_path: Path) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text(
        f'demand = "{layers["demand"]}"\nsites = "{layers["sites"]}"\nsite_id = "pole"\n'
        f'radius = 30\nsets = 2\ntiles = "{TEMPLATE}"\ntiles_attribution = "© City"\n',
        encoding="utf-8")
    out = tmp_path / "out"
    assert main(["plan", str(scenario), "--out", str(out)]) == 0
    assert TEMPLATE in (out / "map.html").read_text(encoding="utf-8")


def test_cli_bad_tiles_exit_2_before_planning(
    layers: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(_args(layers, out, "--tiles", "https://t.example/{z}/{x}.png")) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("camplan: error: --tiles: the tile URL template "
                   "'https://t.example/{z}/{x}.png' lacks {y}; write it as "
                   "https://host/{z}/{x}/{y}.png")
    assert not out.exists()
