"""The QGIS Processing plugin (qgis/camplan_qgis), run by the real ``qgis_process``.

The plugin zip that ``make qgis-plugin`` builds is unpacked into a throw-away QGIS
profile (``QGIS_CUSTOM_CONFIG_PATH``), enabled with ``qgis_process plugins enable``,
pointed at this checkout's ``camplan`` through its Processing setting, and run on
the Mesa demo layers: demand in UTM 12N (a GeoPackage QGIS re-exports), candidate
sites and districts in longitude/latitude. QGIS runs headless (``offscreen``) with
the system Python, not this virtual environment. The command-building half of the
plugin is plain Python and is tested here without QGIS.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
TIMEOUT_S = 600


def _load(name: str, path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


command = _load("camplan_qgis_command", ROOT / "qgis" / "camplan_qgis" / "command.py")
build = _load("camplan_qgis_build", ROOT / "qgis" / "build.py")


def _qgis_process() -> str | None:
    """The qgis_process program. Debian's ``qgis_process`` wrapper passes QGIS_OPTS
    (``--noversioncheck``), which qgis_process 3.22 rejects; the binary it wraps works."""
    found = shutil.which("qgis_process")
    if found and Path(found + ".bin").is_file():
        return found + ".bin"
    return found


QGIS_PROCESS = _qgis_process()
needs_qgis = [
    pytest.mark.qgis,
    pytest.mark.skipif(
        QGIS_PROCESS is None,
        reason="qgis_process not installed (Debian: apt-get install qgis python3-qgis; "
        ".ci/run installs them)",
    ),
]


# --------------------------------------------------------------------------- no QGIS


def test_plan_arguments_leave_out_empty_values() -> None:
    req = command.PlanRequest(demand="d.gpkg", sites="s.geojson", radius_m=75, sets=12,
                              out="/o", site_id="site_id", existing=("a.gpkg", "b.gpkg"),
                              owner_column="operator")
    assert command.plan_arguments(req) == [
        "plan", "--demand", "d.gpkg", "--sites", "s.geojson", "--radius", "75.0",
        "--sets", "12", "--site-id", "site_id", "--owner-column", "operator",
        "--existing", "a.gpkg", "--existing", "b.gpkg", "--out", "/o", "--overwrite"]
    alone = dataclasses.replace(req, existing=())  # an owner field without cameras: left out
    assert "--owner-column" not in command.plan_arguments(alone)


def test_failure_message_is_the_commands_own_line() -> None:
    stderr = "camplan: WARNING: repaired\ncamplan: error: --sets: must be at least 1\n"
    assert command.failure_message(2, stderr) == "--sets: must be at least 1"
    assert command.failure_message(1, "Traceback\nKeyError: 'x'\n") == (
        "camplan stopped with exit status 1: KeyError: 'x'")


def test_run_raises_with_every_error_line(tmp_path: Path) -> None:
    bad, other = tmp_path / "empty.geojson", tmp_path / "other.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": []}')
    other.write_text('{"type": "FeatureCollection", "features": []}')
    camplan = shutil.which("camplan", path=str(Path(sys.executable).parent))
    assert camplan is not None
    echoed: list[str] = []
    with pytest.raises(command.CommandError) as info:
        command.run(camplan, command.validate_arguments([str(bad), str(other)]),
                    echo=echoed.append)
    assert len(info.value.errors) == 2
    assert str(info.value).startswith(f"{bad}:")


def test_missing_program_is_one_clear_message(tmp_path: Path) -> None:
    with pytest.raises(command.CommandError, match=r"cannot be run.*set the camplan path"):
        command.run(str(tmp_path / "nothere"), ["--version"], echo=print)


def test_plugin_zip_is_one_folder_and_reproducible(tmp_path: Path) -> None:
    a = build.build(tmp_path / "a.zip")
    b = build.build(tmp_path / "b.zip")
    assert a.read_bytes() == b.read_bytes()
    names = zipfile.ZipFile(a).namelist()
    assert {n.split("/")[0] for n in names} == {"camplan_qgis"}
    assert {"camplan_qgis/metadata.txt", "camplan_qgis/__init__.py"} <= set(names)
    assert "hasProcessingProvider=yes" in zipfile.ZipFile(a).read(
        "camplan_qgis/metadata.txt").decode()


# --------------------------------------------------------------------------- qgis_process


@pytest.fixture(scope="module")
def qgis_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A fresh QGIS profile with the built plugin installed, enabled and configured."""
    root = tmp_path_factory.mktemp("qgis")
    plugins = root / "profile" / "profiles" / "default" / "python" / "plugins"
    plugins.mkdir(parents=True)
    zipfile.ZipFile(build.build(root / "camplan_qgis.zip")).extractall(plugins)
    runtime = root / "runtime"
    runtime.mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "VIRTUAL_ENV", "PYENV", "CONDA"))}
    env.update(QT_QPA_PLATFORM="offscreen", XDG_RUNTIME_DIR=str(runtime),
               QGIS_CUSTOM_CONFIG_PATH=str(root / "profile"),
               PATH="/usr/local/bin:/usr/bin:/bin")  # QGIS's own Python, not this venv
    _qgis(env, "plugins", "enable", "camplan_qgis")
    camplan = Path(sys.executable).parent / "camplan"
    ini = root / "profile" / "profiles" / "default" / "QGIS" / "QGIS3.ini"
    with ini.open("a", encoding="utf-8") as f:
        f.write(f"\n[Processing]\nConfiguration\\CAMPLAN_EXECUTABLE={camplan}\n")
    return env


def _qgis(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    assert QGIS_PROCESS is not None
    proc = subprocess.run([QGIS_PROCESS, *args], env=env, capture_output=True, text=True,
                          timeout=TIMEOUT_S, check=False)
    if check:
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc


@pytest.fixture(scope="module")
def mesa_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo's demand (UTM 12N GeoPackage) and candidate sites (GeoJSON, lon/lat)."""
    from planner.samples.mesa import mesa_inputs

    folder = tmp_path_factory.mktemp("mesa")
    sample = mesa_inputs()
    files = {"demand": folder / "demand.gpkg", "sites": folder / "sites.geojson",
             "existing": folder / "existing.gpkg"}
    sample.demand[["weight", "geometry"]].to_file(files["demand"], layer="demand")
    sample.sites[["site_id", "geometry"]].to_crs("EPSG:4326").to_file(files["sites"])
    existing = sample.sites.iloc[[0, 1]].assign(operator=["Transit", "Police"])
    existing[["operator", "geometry"]].to_crs("EPSG:3857").to_file(files["existing"])
    return files


def _plan_args(files: dict[str, Path], out: Path, *extra: str, sets: int = 12) -> list[str]:
    return ["--json", "run", "camplan:plan", "--",
            f"DEMAND={files['demand']}", "WEIGHT_FIELD=weight", f"SITES={files['sites']}",
            "SITE_ID_FIELD=site_id", "RADIUS=75", f"SETS={sets}",
            f"DISTRICTS={DATA / 'districts.geojson'}", "DISTRICT_NAME_FIELD=district",
            "POPULATION_FIELD=population", f"OUTPUT_FOLDER={out}", *extra]


@pytest.fixture(scope="module")
def qgis_plan(qgis_env: dict[str, str], mesa_files: dict[str, Path],
              tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("run") / "plan"
    proc = _qgis(qgis_env, *_plan_args(mesa_files, out, "PHASES=6,6",
                                       f"EXISTING={mesa_files['existing']}",
                                       "OWNER_FIELD=operator"))
    return json.loads(proc.stdout)


class TestInQgis:
    pytestmark = needs_qgis

    def test_provider_lists_three_algorithms(self, qgis_env: dict[str, str]) -> None:
        listed = _qgis(qgis_env, "list").stdout
        for alg in ("camplan:plan", "camplan:compare", "camplan:validate"):
            assert alg in listed

    def test_plan_returns_the_result_layers(self, qgis_plan: dict[str, Any]) -> None:
        results = qgis_plan["results"]
        folder = Path(results["OUTPUT_FOLDER"])
        gpkg = folder / "plan.gpkg"
        assert results["SITES_LAYER"] == f"{gpkg}|layername=sites"
        assert results["FOOTPRINTS_LAYER"] == f"{gpkg}|layername=footprints"
        assert results["DISTRICTS_LAYER"] == f"{gpkg}|layername=districts"
        assert Path(results["REPORT"]) == folder / "report.html"
        assert (folder / "report.html").is_file()
        assert (folder / "map.html").is_file()

    def test_result_layers_counts_fields_and_crs(self, qgis_plan: dict[str, Any]) -> None:
        gpkg = Path(qgis_plan["results"]["OUTPUT_FOLDER"]) / "plan.gpkg"
        sites = gpd.read_file(gpkg, layer="sites")
        assert len(sites) == 12
        assert sites["phase"].value_counts().sort_index().tolist() == [6, 6]
        assert {"site_id", "rank", "phase"} <= set(sites.columns)
        assert sites["site_id"].str.match(r"X\d{4}$").all()  # the demo's ids, unchanged
        assert sites.crs.to_epsg() == 32612  # the demand's metric CRS
        assert len(gpd.read_file(gpkg, layer="footprints")) == 12
        districts = gpd.read_file(gpkg, layer="districts")
        assert sorted(districts["district"]) == ["East", "West"]
        assert {"covered_share", "population"} <= set(districts.columns)
        assert districts.crs.to_epsg() == 32612
        existing = gpd.read_file(gpkg, layer="existing")  # given in Web Mercator
        assert sorted(existing["owner"]) == ["Police", "Transit"]
        assert existing.crs.to_epsg() == 32612

    def test_plan_error_is_the_command_line_message(
        self, qgis_env: dict[str, str], mesa_files: dict[str, Path], tmp_path: Path
    ) -> None:
        proc = _qgis(qgis_env, *_plan_args(mesa_files, tmp_path / "bad", "PHASES=20,20"),
                     check=False)
        assert proc.returncode != 0
        message = "--phases: the phases add up to 40, more than --sets 12"
        assert message in proc.stdout + proc.stderr
        assert "Traceback" not in proc.stdout + proc.stderr
        assert not (tmp_path / "bad").exists()

    def test_validate_lists_every_problem(self, qgis_env: dict[str, str]) -> None:
        bad = DATA / "bad" / "collapsed_polygon.geojson"
        proc = _qgis(qgis_env, "--json", "run", "camplan:validate", "--",
                     f"LAYERS={bad}", f"LAYERS={DATA / 'mesa_sites.geojson'}")
        result = json.loads(proc.stdout)
        assert result["results"]["PROBLEMS"] == 1
        assert result["log"]["errors"] == [result["results"]["MESSAGES"]]
        assert result["results"]["MESSAGES"].startswith(f"{bad}: has invalid polygons")

    def test_compare_two_plans(self, qgis_env: dict[str, str], qgis_plan: dict[str, Any],
                               mesa_files: dict[str, Path], tmp_path: Path) -> None:
        first = qgis_plan["results"]["OUTPUT_FOLDER"]
        second = tmp_path / "plan8"
        _qgis(qgis_env, *_plan_args(mesa_files, second, sets=8))
        proc = _qgis(qgis_env, "--json", "run", "camplan:compare", "--", f"FIRST={first}",
                     f"SECOND={second}", f"OUTPUT_FOLDER={tmp_path / 'cmp'}")
        report = Path(json.loads(proc.stdout)["results"]["REPORT"])
        assert report == tmp_path / "cmp" / "compare.html"
        assert report.is_file()


@pytest.mark.qgis
@pytest.mark.skipif(not Path("/usr/bin/python3").is_file() or QGIS_PROCESS is None,
                    reason="QGIS's Python bindings not installed (Debian: python3-qgis)")
def test_plan_gpkg_opens_styled_in_qgis(qgis_env: dict[str, str], qgis_plan: dict[str, Any],
                                        tmp_path: Path) -> None:
    """QGIS itself opens plan.gpkg's layers with their default styles: the web map's colours."""
    from maps.webmap.colours import PHASE_COLOURS, district_colormap

    gpkg = Path(qgis_plan["results"]["OUTPUT_FOLDER"]) / "plan.gpkg"
    png = tmp_path / "plan.png"
    proc = subprocess.run(["/usr/bin/python3", str(ROOT / "qgis" / "render.py"), str(gpkg),
                           str(png), "600", "400"], env=qgis_env, capture_output=True,
                          text=True, timeout=TIMEOUT_S, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    layers = json.loads(proc.stdout)
    for name in ("sites", "footprints"):
        assert layers[name]["renderer"] == "categorizedSymbol"
        assert layers[name]["field"] == "phase"
        assert [c[2] for c in layers[name]["classes"]] == list(PHASE_COLOURS[:2])
    assert layers["sites"]["features"] == 12
    assert layers["sites"]["crs"] == "EPSG:32612"
    districts = layers["districts"]
    assert (districts["renderer"], districts["field"]) == ("graduatedSymbol", "covered_share")
    assert districts["classes"][0][2] == district_colormap()(0.1)[:7]
    assert layers["demand"]["renderer"] == "graduatedSymbol"
    assert png.stat().st_size > 10_000  # drawn, not an empty canvas
