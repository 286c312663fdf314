"""The command line: the demo end to end, `camplan plan` on files, and user errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point

from maps.cli.main import main

CRS = "EPSG:32612"


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    return out


def test_demo_writes_the_four_files(demo_dir: Path) -> None:
    for name in ("sites.geojson", "summary.json", "map.html", "report.md"):
        assert (demo_dir / name).stat().st_size > 0, name


def test_demo_plan_is_twelve_sets_in_two_phases(demo_dir: Path) -> None:
    sites = json.loads((demo_dir / "sites.geojson").read_text())
    phases = [f["properties"]["phase"] for f in sites["features"]]
    assert phases == [1] * 6 + [2] * 6
    summary = json.loads((demo_dir / "summary.json").read_text())
    assert summary["n_sets"] == 12
    assert summary["radius_m"] == 75.0
    assert 0 < summary["coverage_share"] < 1
    assert summary["upper_bound"] >= summary["covered_weight"]
    cum = [f["properties"]["cumulative_weight"] for f in sites["features"]]
    assert cum[-1] == pytest.approx(summary["covered_weight"])
    assert np.all(np.diff(cum) >= 0)


def test_demo_map_says_footfall_is_modelled(demo_dir: Path) -> None:
    assert "modelled" in (demo_dir / "map.html").read_text(encoding="utf-8")
    assert "modelled" in (demo_dir / "report.md").read_text(encoding="utf-8")


def test_demo_refuses_to_overwrite_unless_asked(
    demo_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (demo_dir / "summary.json").read_bytes()
    assert main(["demo", "--out", str(demo_dir)]) == 2
    err = capsys.readouterr().err
    assert str(demo_dir) in err
    assert "--overwrite" in err
    assert (demo_dir / "summary.json").read_bytes() == before


def test_demo_twice_is_byte_identical(demo_dir: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    assert main(["demo", "--out", str(again)]) == 0
    names = sorted(p.name for p in demo_dir.iterdir())
    assert names == sorted(p.name for p in again.iterdir())
    assert {"plan.gpkg", "coverage.png", "report.html", "map.html"} <= set(names)
    for name in names:
        if name != "summary.json":
            assert (again / name).read_bytes() == (demo_dir / name).read_bytes(), name
    a = json.loads((demo_dir / "summary.json").read_text())
    b = json.loads((again / "summary.json").read_text())
    a.pop("timings"), b.pop("timings")
    assert a == b


@pytest.fixture
def layers(tmp_path: Path) -> dict[str, Path]:
    """Demand on a line of points 10 m apart, three candidate sites; in UTM 12N."""
    x0, y0 = 412_000.0, 3_697_000.0
    demand = gpd.GeoDataFrame(
        {"people": [1.0] * 30}, geometry=[Point(x0 + 10 * i, y0) for i in range(30)], crs=CRS
    )
    sites = gpd.GeoDataFrame(
        {"pole": ["P-a", "P-b", "P-c"], "mount_type": ["lamp post", "smart pole", "building"]},
        geometry=[Point(x0 + 50, y0), Point(x0 + 150, y0), Point(x0 + 250, y0)],
        crs=CRS,
    )
    existing = gpd.GeoDataFrame({"owner": ["MTR"]}, geometry=[Point(x0 + 250, y0)], crs=CRS)
    paths = {
        "demand": tmp_path / "demand.gpkg",
        "sites": tmp_path / "sites.geojson",
        "existing": tmp_path / "mtr.gpkg",
    }
    demand.to_file(paths["demand"])
    sites.to_crs("EPSG:4326").to_file(paths["sites"])
    existing.to_file(paths["existing"])
    return paths


def _plan_args(layers: dict[str, Path], out: Path, *extra: str) -> list[str]:
    return [
        "plan",
        "--demand",
        str(layers["demand"]),
        "--weight",
        "people",
        "--sites",
        str(layers["sites"]),
        "--site-id",
        "pole",
        "--radius",
        "45",
        "--out",
        str(out),
        *extra,
    ]


def test_plan_keeps_site_ids_and_counts_existing_first(
    layers: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "plan"
    args = _plan_args(
        layers, out, "--sets", "2", "--phases", "1", "--existing", str(layers["existing"])
    )
    assert main(args) == 0
    sites = json.loads((out / "sites.geojson").read_text())
    ids = [f["properties"]["site_id"] for f in sites["features"]]
    # P-c's area is already covered by the MTR camera: the plan takes P-a and P-b.
    assert sorted(ids) == ["P-a", "P-b"]
    assert [f["properties"]["phase"] for f in sites["features"]] == [1, 2]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["existing_weight"] == pytest.approx(9.0)  # points 210..290 m
    assert summary["covered_weight"] == pytest.approx(9 + 9 + 9)
    assert summary["owners"] == {"MTR": pytest.approx(9.0)}


@pytest.mark.parametrize(("flag", "points"), [([], 18), (["--demand-layer", "all"], 30),
                                             (["--demand-layer", "uncovered"], 12)])
def test_plan_writes_the_demand_layer_asked_for(
    layers: dict[str, Path], tmp_path: Path, flag: list[str], points: int
) -> None:
    out = tmp_path / "plan"
    assert main(_plan_args(layers, out, "--sets", "2", *flag)) == 0
    demand = gpd.read_file(out / "plan.gpkg", layer="demand")
    assert len(demand) == points  # two sets of reach 45 m cover 2 x 9 of the 30 points
    summary = json.loads((out / "summary.json").read_text())
    choice = flag[1] if flag else "covered"
    assert summary["gpkg_demand_layer"] == {"choice": choice, "points": points, "of": 30}
    assert summary["parameters"]["demand_layer"] == choice
    assert "plan.gpkg's demand layer holds" in (out / "report.md").read_text()


def test_plan_rejects_an_unknown_demand_layer(
    layers: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_plan_args(layers, tmp_path / "p", "--sets", "2", "--demand-layer", "most")) == 2
    assert "--demand-layer" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--sets", "0"], "--sets"),
        (["--sets", "2.5"], "--sets"),
        (["--sets", "2", "--phases", "2,2"], "--phases"),
        (["--sets", "2", "--phases", "a,b"], "--phases"),
        (["--sets", "2", "--radius", "-5"], "--radius"),
        (["--sets", "2", "--radius", "nan"], "--radius"),
        (["--sets", "2", "--weight", "nope"], "nope"),
        (["--sets", "2", "--site-id", "nope"], "nope"),
        (["--sets", "2", "--forced", "P-z"], "--forced"),
    ],
)
def test_plan_user_errors_exit_2_with_one_message(
    layers: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    needle: str,
) -> None:
    out = tmp_path / "plan"
    assert main(_plan_args(layers, out, *extra)) == 2
    err = capsys.readouterr().err
    assert needle in err
    assert "Traceback" not in err
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".camplan-")]


def test_missing_file_exits_2_without_traceback(tmp_path: Path) -> None:
    out = tmp_path / "plan"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "maps.cli",
            "plan",
            "--demand",
            str(tmp_path / "nothere.geojson"),
            "--sites",
            str(tmp_path / "nothere.geojson"),
            "--radius",
            "50",
            "--sets",
            "3",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "nothere.geojson" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()


def test_validate_reports_every_bad_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.geojson"
    empty.write_text('{"type": "FeatureCollection", "features": []}')
    broken = tmp_path / "broken.geojson"
    broken.write_text("{not json")
    assert main(["validate", str(empty), str(broken)]) == 2
    err = capsys.readouterr().err
    assert "empty.geojson" in err
    assert "broken.geojson" in err


def test_plan_with_polygon_demand_draws_its_heat(tmp_path: Path) -> None:
    from shapely.geometry import box

    x0, y0 = 412_000.0, 3_697_000.0
    cells = gpd.GeoDataFrame(
        {"people": [5.0, 1.0, 2.0]},
        geometry=[box(x0 + 100 * i, y0, x0 + 100 * i + 100, y0 + 100) for i in range(3)],
        crs=CRS,
    )
    poles = gpd.GeoDataFrame(
        {"pole": ["A", "B"]}, geometry=[Point(x0 + 50, y0 + 50), Point(x0 + 250, y0 + 50)],
        crs=CRS,
    )
    cells.to_file(tmp_path / "cells.gpkg")
    poles.to_file(tmp_path / "poles.gpkg")
    out = tmp_path / "plan"
    args = ["plan", "--demand", str(tmp_path / "cells.gpkg"), "--weight", "people",
            "--sites", str(tmp_path / "poles.gpkg"), "--site-id", "pole", "--radius", "60",
            "--sets", "1", "--out", str(out)]
    assert main(args) == 0
    from maps.webmap.heat import _heat_points

    heat = _heat_points(cells.rename(columns={"people": "weight"}), max_points=100)
    assert heat[:, 2].tolist() == [1.0, 0.2, 0.4]  # one heat point per cell, normalised
    assert np.all(np.isfinite(heat))
    assert (out / "map.html").stat().st_size > 0
    sites = json.loads((out / "sites.geojson").read_text())
    assert [f["properties"]["site_id"] for f in sites["features"]] == ["A"]


def _console(*args: str) -> subprocess.CompletedProcess[str]:
    """``camplan ARGS`` as the console script runs it: ``main()`` without arguments."""
    code = "from maps.cli.main import main; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          check=False, timeout=600)


def test_the_console_script_ends_the_process_with_every_file_and_line_out(
    layers: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "plan"
    done = _console(*_plan_args(layers, out, "--sets", "2"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Planned 2 camera sets")
    assert "Wrote " in done.stdout
    assert json.loads((out / "summary.json").read_text())["n_sets"] == 2
    assert {p.name for p in out.iterdir()} >= {"plan.gpkg", "map.html", "report.md"}


def test_the_console_script_exits_2_with_its_message(
    layers: dict[str, Path], tmp_path: Path
) -> None:
    done = _console(*_plan_args(layers, tmp_path / "p", "--sets", "2", "--weight", "nope"))
    assert done.returncode == 2
    assert "has no weight column 'nope'" in done.stderr
