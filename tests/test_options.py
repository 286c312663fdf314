"""The option registry: one declaration per option, followed by the CLI, scenarios, validate,
messages and the README."""

from __future__ import annotations

from pathlib import Path

import click
import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from maps.cli.main import cli, main
from planner.options import OPTIONS, lookup, parse, readme_with_tables
from planner.scenario import check_scenario, load_scenario

ROOT = Path(__file__).resolve().parents[1]
CRS = "EPSG:2326"
X0, Y0 = 835_000.0, 818_000.0


def _layers(folder: Path) -> dict[str, Path]:
    demand = gpd.GeoDataFrame(
        {"people": [1.0, 2.0, 3.0]},
        geometry=[Point(X0 + 10 * k, Y0) for k in range(3)], crs=CRS)
    sites = gpd.GeoDataFrame(
        {"sid": ["00042", "7", "x"], "cost": [1.0, 2.0, 1.0]},
        geometry=[Point(X0 + 10 * k, Y0 + 5) for k in range(3)], crs=CRS)
    districts = gpd.GeoDataFrame({"name": ["A"], "pop": [100.0]},
                                 geometry=[box(X0 - 50, Y0 - 50, X0 + 50, Y0 + 50)], crs=CRS)
    cams = gpd.GeoDataFrame({"agency": ["TD"]}, geometry=[Point(X0, Y0)], crs=CRS)
    paths = {}
    for name, gdf in (("demand", demand), ("sites", sites), ("districts", districts),
                      ("cams", cams)):
        paths[name] = folder / f"{name}.gpkg"
        gdf.to_file(paths[name])
    return paths


def _toml(folder: Path, text: str) -> Path:
    path = folder / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    return path


BASE = """
demand = "demand.gpkg"
weight = "people"
sites = "sites.gpkg"
site_id = "sid"
radius = 20
sets = 2
"""


def test_readme_tables_are_the_registry() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "<!-- options:plan -->" in text
    assert "<!-- options:surface -->" in text
    assert readme_with_tables(text) == text, "run: python -m planner.options README.md"


def test_every_flag_of_plan_is_a_registry_option() -> None:
    command = cli.commands["plan"]
    flags = {p.name for p in command.params if isinstance(p, click.Option)}
    registry = {o.key for o in OPTIONS if o.cli is not None}
    assert registry <= flags
    assert flags - registry == {"data_dir", "out", "overwrite"}


@pytest.mark.parametrize("option", OPTIONS, ids=lambda o: o.key)
def test_every_default_is_a_valid_value(option) -> None:
    if option.default is None:
        return
    assert option.check(option.default) is None
    if option.kind not in ("weights", "table"):
        _value, problem = parse(option, option.default)
        assert problem is None


def test_negative_cell_is_refused_by_validate_under_its_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _layers(tmp_path)
    path = _toml(tmp_path, BASE + "\n[surface]\ncell = -5\n")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "key 'cell' in [surface] must be a number above 0 (metres), got -5.0" in err
    assert "cell_m" not in err


def test_messages_name_the_option_as_the_user_wrote_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = _layers(tmp_path)
    path = _toml(tmp_path, BASE.replace("radius = 20", "radius = -3"))
    assert main(["plan", str(path), "--out", str(tmp_path / "o1")]) == 2
    assert "key 'radius' must be a number above 0 (metres), got -3.0" in capsys.readouterr().err
    args = ["plan", "--demand", str(paths["demand"]), "--weight", "people",
            "--sites", str(paths["sites"]), "--sets", "1", "--out", str(tmp_path / "o2")]
    assert main([*args, "--radius", "-3"]) == 2
    assert "--radius: must be a number above 0 (metres), got -3.0" in capsys.readouterr().err
    assert not (tmp_path / "o1").exists()
    assert not (tmp_path / "o2").exists()


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("weight", "weight_x", "weight"),
        ("site_id", "pole", "site_id"),
        ("cost_column", "price", "cost_column"),
        ("district_name", "district", "district_name"),
        ("population", "residents", "population"),
        ("owner_column", "who", "owner_column"),
    ],
)
def test_a_column_the_layer_lacks_is_an_error_naming_it(
    tmp_path: Path, key: str, value: str, shown: str
) -> None:
    _layers(tmp_path)
    extra = ('\ndistricts = "districts.gpkg"\ndistrict_name = "name"\n'
             'existing = ["cams.gpkg"]\n')
    text = "\n".join(line for line in (BASE + extra).splitlines()
                     if not line.startswith(f"{key} ="))
    text += f'\n{key} = "{value}"\n'
    problems = "\n".join(check_scenario(load_scenario(_toml(tmp_path, text))))
    assert repr(value) in problems
    assert f"named by {shown}" in problems
    assert "columns present" in problems


def test_owner_column_default_falls_back_to_the_file_name(tmp_path: Path) -> None:
    _layers(tmp_path)
    path = _toml(tmp_path, BASE + 'existing = ["cams.gpkg"]\n')
    scenario = load_scenario(path)
    assert check_scenario(scenario) == []
    from planner.scenario.read import read_layers

    (layer,) = read_layers(scenario).existing()
    assert set(layer["owner"]) == {"cams"}


def test_validate_lists_every_problem_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _layers(tmp_path)
    text = BASE.replace('weight = "people"', 'weight = "nobody"') + (
        "min_spacing = -1\nphases = [1, 5]\nforced = ['nope']\nradius_m = 3\n"
        "\n[surface]\ncell = 0\nrule = 'max'\n")
    assert main(["validate", str(_toml(tmp_path, text))]) == 2
    err = capsys.readouterr().err
    for needle in ("'min_spacing' must be a number at least 0",
                   "unknown key 'radius_m' (did you mean 'radius'?)",
                   "key 'cell' in [surface] must be a number above 0",
                   "key 'rule' in [surface] must be one of 'product', 'sum'",
                   "phases: the phases add up to 6, more than sets 2",
                   "'nobody' (named by weight)"):
        assert needle in err, needle


def test_forced_id_that_no_site_has_is_found_by_validate(tmp_path: Path) -> None:
    _layers(tmp_path)
    problems = check_scenario(load_scenario(_toml(tmp_path, BASE + 'forced = ["00043"]\n')))
    assert any("forced: no candidate site has the id '00043'" in p for p in problems)
    assert check_scenario(load_scenario(_toml(tmp_path, BASE + 'forced = ["00042"]\n'))) == []


def test_lookup_knows_table_keys() -> None:
    assert lookup("surface.cell").default == 100.0
    assert lookup("radius").cli == "--radius"
    assert lookup("local_search").cli == "--local-search/--no-local-search"
    with pytest.raises(KeyError):
        lookup("cell")


def test_budget_below_the_cheapest_site_and_too_many_forced_are_found_by_validate(
    tmp_path: Path,
) -> None:
    _layers(tmp_path)
    text = BASE.replace("sets = 2", "budget = 0.5") + 'cost_column = "cost"\n'
    problems = check_scenario(load_scenario(_toml(tmp_path, text)))
    assert any("budget: 0.5 is below the cheapest site (1)" in p for p in problems)
    text = BASE + 'forced = ["00042", "7", "x"]\n'
    problems = check_scenario(load_scenario(_toml(tmp_path, text), problems=[]))
    assert any("3 forced sites do not fit in the first phase (2 sets)" in p for p in problems)
