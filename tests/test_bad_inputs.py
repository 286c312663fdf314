"""Every bad input a user can cause, through the command line: exit 2, one message, no output.

The corpus lives in ``tests/data/bad/``; each file is fed to ``camplan plan``
in the role it is broken for. The message must name the file, there must be no
traceback, and no output folder (nor a staging folder) may be left behind.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from maps.cli.main import main

DATA = Path(__file__).parent / "data"
BAD = DATA / "bad"
SITES = DATA / "mesa_sites.geojson"  # good candidate sites (site_id), lon/lat
DEMAND = SITES  # the same points carry a good weight column
DISTRICTS = DATA / "districts.geojson"

# file -> (role, what the message must say)
CASES = {
    "broken.geojson": ("sites", "cannot open"),
    "collapsed_polygon.geojson": ("districts", "invalid"),
    "duplicate_ids.geojson": ("sites", "duplicate"),
    "empty.csv": ("demand", "empty"),
    "empty_geometry.geojson": ("districts", "empty geometr"),
    "header_only.csv": ("sites", "no features"),
    "lon_out_of_range.csv": ("sites", "longitude"),
    "missing_coords.csv": ("sites", "row"),
    "missing_weight_column.geojson": ("demand", "weight"),
    "multipoint.geojson": ("sites", "MultiPoint"),
    "nan_weight.geojson": ("demand", "weight"),
    "negative_weight.geojson": ("demand", "negative"),
    "no_coordinate_columns.csv": ("sites", "coordinate"),
    "non_numeric_coords.csv": ("sites", "non-numeric"),
    "non_numeric_weight.geojson": ("demand", "weight"),
    "null_geometry.geojson": ("sites", "geometr"),
    "null_id.geojson": ("sites", "id"),
    "overflow_weight.geojson": ("demand", "overflow"),
    "projected_no_crs.geojson": ("sites", "CRS"),
    "ragged.csv": ("sites", "ragged"),
    "swapped_latlon.csv": ("sites", "swapped"),
    "wrong_type_line.geojson": ("sites", "LineString"),
    "xy_no_crs.csv": ("sites", "--crs"),
    "zero_features.geojson": ("demand", "no features"),
}


def _args(
    out: Path, *, demand: Path = DEMAND, sites: Path = SITES, districts: Path | None = None
) -> list[str]:
    args = [
        "plan",
        "--demand",
        str(demand),
        "--weight",
        "weight",
        "--sites",
        str(sites),
        "--site-id",
        "site_id",
        "--radius",
        "100",
        "--sets",
        "1",
        "--out",
        str(out),
    ]
    if districts is not None:
        args += ["--districts", str(districts), "--district-name", "district"]
    return args


def _assert_refused(tmp_path: Path, out: Path, err: str, needle: str, name: str) -> None:
    assert name in err, err
    assert needle.lower() in err.lower(), err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) <= 12, err  # one message (a problem list at most)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".camplan-")]


def test_every_corpus_file_has_a_case() -> None:
    cased = set(CASES) | {"bowtie.geojson"}
    assert sorted(p.name for p in BAD.iterdir()) == sorted(cased)


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_layer_exits_2_naming_the_file(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    role, needle = CASES[name]
    out = tmp_path / "out"
    path = BAD / name
    args = _args(out, **{role: path}) if role != "districts" else _args(out, districts=path)
    assert main(args) == 2
    _assert_refused(tmp_path, out, capsys.readouterr().err, needle, name)


def test_repairable_polygon_is_repaired_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(_args(out, districts=BAD / "bowtie.geojson")) == 0
    err = capsys.readouterr().err
    assert "bowtie.geojson" in err
    assert "repair" in err.lower()
    assert (out / "districts.csv").exists()


@pytest.mark.parametrize("kind", ["missing", "directory", "not-geodata"])
def test_unreadable_sources_exit_2(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if kind == "missing":
        path = tmp_path / "nothere.geojson"
    elif kind == "directory":
        path = tmp_path / "folder"
        path.mkdir()
    else:
        path = tmp_path / "photo.geojson"
        path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    out = tmp_path / "out"
    assert main(_args(out, sites=path)) == 2
    _assert_refused(tmp_path, out, capsys.readouterr().err, path.name, path.name)


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--radius", "0"], "--radius"),
        (["--radius", "inf"], "--radius"),
        (["--sets", "-1"], "--sets"),
        (["--sets", "1", "--phases", "1,1"], "--phases"),
        (["--min-spacing", "-3"], "--min-spacing"),
        (["--time-limit", "0"], "--time-limit"),
        (["--windows", "-1"], "--windows"),
        (["--window-size", "0"], "--window-size"),
        (["--decay", "50:2"], "--decay"),
    ],
)
def test_impossible_options_exit_2(
    extra: list[str], needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    args = _args(out)
    for i in range(0, len(extra), 2):
        flag, value = extra[i], extra[i + 1]
        if flag in args:
            args[args.index(flag) + 1] = value
        else:
            args += [flag, value]
    assert main(args) == 2
    _assert_refused(tmp_path, out, capsys.readouterr().err, needle, needle)


def test_budget_below_the_cheapest_site_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import geopandas as gpd

    sites = gpd.read_file(SITES).assign(cost=[3.0, 4.0, 5.0])
    priced = tmp_path / "priced.geojson"
    sites.to_file(priced)
    out = tmp_path / "out"
    args = [*_args(out, sites=priced), "--cost-column", "cost", "--budget", "2"]
    args.remove("--sets"), args.remove("1")
    assert main(args) == 2
    err = capsys.readouterr().err
    _assert_refused(tmp_path, out, err, "cheapest", "--budget")


def test_existing_output_is_refused_then_replaced_with_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(_args(out)) == 0
    marker = (out / "summary.json").read_bytes()
    assert main(_args(out)) == 2
    err = capsys.readouterr().err
    assert "--overwrite" in err
    assert str(out) in err
    assert (out / "summary.json").read_bytes() == marker
    assert main([*_args(out), "--overwrite"]) == 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".camplan-")]


def test_killed_run_leaves_previous_output_intact(tmp_path: Path) -> None:
    """A writer that dies half-way (SIGKILL) must not touch the folder it replaces."""
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "out"
    assert main(_args(out)) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    started = tmp_path / "started"
    script = f"""
import sys, time
from pathlib import Path
from maps.export import folder as outputs
from maps.cli.main import main
real = outputs.write_outputs
def slow(plan, folder, **kw):
    real(plan, folder, **kw)
    Path({str(started)!r}).write_text("x")
    time.sleep(60)
outputs.write_outputs = slow
sys.exit(main({[*_args(out), "--overwrite"]!r}))
"""
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 120
        while not started.exists():
            assert proc.poll() is None, "the run ended before it was killed"
            assert time.monotonic() < deadline
            time.sleep(0.1)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before
    shutil.rmtree(out)


@pytest.mark.parametrize(
    "extra",
    [["--no-exact"], ["--no-local-search"], ["--decay", "10:0.5"]],
)
def test_windows_where_they_cannot_run_exit_2(
    extra: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main([*_args(out), "--windows", "5", *extra]) == 2
    _assert_refused(tmp_path, out, capsys.readouterr().err, "--windows", "--windows")
