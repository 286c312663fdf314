"""Writing the whole output folder, atomically."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest

from geodata.errors import OutputError
from maps.export.folder import write_plan
from planner.plan.result import Plan

FILES = {
    "sites.geojson",
    "footprints.geojson",
    "sites.qml",
    "footprints.qml",
    "summary.json",
    "plan.gpkg",
    "sites.csv",
    "curve.csv",
    "districts.csv",
    "report.md",
    "report.html",
    "coverage.png",
    "map.html",
}


def fake_map(plan: Plan, path: Path) -> None:
    """Stands in for the folium map writer."""
    path.write_text(f"<html>{len(plan.sites)} sets</html>\n", encoding="utf-8")


def failing_map(plan: Plan, path: Path) -> None:
    path.write_text("half a map", encoding="utf-8")
    raise RuntimeError("the map writer failed")


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _leftovers(parent: Path) -> list[str]:
    return [p.name for p in parent.iterdir() if p.name.startswith(".camplan-")]


def test_writes_every_file(small_plan: Plan, tmp_path: Path) -> None:
    out = write_plan(small_plan, tmp_path / "out", map_writer=fake_map)
    assert out == tmp_path / "out"
    assert {p.name for p in out.iterdir()} == FILES
    assert (out / "map.html").read_text("utf-8") == "<html>5 sets</html>\n"
    assert _leftovers(tmp_path) == []


def test_optional_files_are_left_out(small_plan: Plan, tmp_path: Path) -> None:
    plan = dataclasses.replace(small_plan, districts=None)
    out = write_plan(plan, tmp_path / "out")
    assert {p.name for p in out.iterdir()} == FILES - {"districts.csv", "map.html"}


def test_map_writer_gets_a_path_in_a_temporary_folder_beside_the_target(
    small_plan: Plan, tmp_path: Path
) -> None:
    seen: list[Path] = []

    def spy(plan: Plan, path: Path) -> None:
        seen.append(path)
        assert path.parent.is_dir()
        assert not (tmp_path / "out").exists()  # nothing in place before the end

    write_plan(small_plan, tmp_path / "out", map_writer=spy)
    (path,) = seen
    assert path.name == "map.html"
    assert path.parent.parent.parent == tmp_path
    assert path.parent.parent.name.startswith(".camplan-")


def test_a_failure_leaves_no_folder_behind(small_plan: Plan, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="map writer failed"):
        write_plan(small_plan, tmp_path / "out", map_writer=failing_map)
    assert list(tmp_path.iterdir()) == []


def test_a_failure_leaves_the_earlier_output_intact(small_plan: Plan, tmp_path: Path) -> None:
    out = write_plan(small_plan, tmp_path / "out", map_writer=fake_map)
    before = _snapshot(out)
    other = dataclasses.replace(small_plan, title="another plan")
    with pytest.raises(RuntimeError, match="map writer failed"):
        write_plan(other, out, overwrite=True, map_writer=failing_map)
    assert _snapshot(out) == before
    assert _leftovers(tmp_path) == []


def test_an_existing_folder_needs_overwrite(small_plan: Plan, tmp_path: Path) -> None:
    out = write_plan(small_plan, tmp_path / "out")
    before = _snapshot(out)
    with pytest.raises(OutputError, match="exists; pass --overwrite to replace it"):
        write_plan(small_plan, out)
    assert _snapshot(out) == before
    assert _leftovers(tmp_path) == []


def test_overwrite_replaces_the_folder(small_plan: Plan, tmp_path: Path) -> None:
    out = write_plan(small_plan, tmp_path / "out", map_writer=fake_map)
    (out / "stale.txt").write_text("from an earlier run", encoding="utf-8")
    write_plan(dataclasses.replace(small_plan, title="second"), out, overwrite=True)
    assert {p.name for p in out.iterdir()} == FILES - {"map.html"}
    assert json.loads((out / "summary.json").read_text("utf-8"))["title"] == "second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_overwrite_refuses_a_folder_that_is_not_an_output(small_plan: Plan, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "thesis.tex").write_text("years of work", encoding="utf-8")
    with pytest.raises(OutputError, match="does not look like a camplan output"):
        write_plan(small_plan, home, overwrite=True)
    assert (home / "thesis.tex").read_text("utf-8") == "years of work"


def test_overwrite_accepts_an_empty_folder(small_plan: Plan, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    out = write_plan(small_plan, tmp_path / "out", overwrite=True)
    assert (out / "summary.json").is_file()


def test_a_file_in_the_way_is_an_output_error(small_plan: Plan, tmp_path: Path) -> None:
    (tmp_path / "out").write_text("a file", encoding="utf-8")
    with pytest.raises(OutputError, match="not a folder"):
        write_plan(small_plan, tmp_path / "out", overwrite=True)


def test_the_parent_is_created(small_plan: Plan, tmp_path: Path) -> None:
    out = write_plan(small_plan, tmp_path / "a" / "b" / "out")
    assert (out / "summary.json").is_file()


def test_an_impossible_parent_is_an_output_error(small_plan: Plan, tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file where a folder should be", encoding="utf-8")
    with pytest.raises(OutputError, match="cannot create the output folder"):
        write_plan(small_plan, tmp_path / "blocker" / "out")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs POSIX, not root")
def test_an_unwritable_parent_is_an_output_error(small_plan: Plan, tmp_path: Path) -> None:
    parent = tmp_path / "locked"
    parent.mkdir(mode=0o500)
    try:
        with pytest.raises(OutputError, match="choose a writable --out"):
            write_plan(small_plan, parent / "out")
    finally:
        parent.chmod(0o700)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_the_folder_gets_ordinary_permissions(small_plan: Plan, tmp_path: Path) -> None:
    out = write_plan(small_plan, tmp_path / "out")
    (tmp_path / "plain").mkdir()
    assert out.stat().st_mode == (tmp_path / "plain").stat().st_mode


def test_two_writes_differ_only_in_timings(small_plan: Plan, tmp_path: Path) -> None:
    a = write_plan(small_plan, tmp_path / "a", map_writer=fake_map)
    later = dataclasses.replace(small_plan, timings={"coverage": 3.5, "greedy": 9.25})
    b = write_plan(later, tmp_path / "b", map_writer=fake_map)
    files_a, files_b = _snapshot(a), _snapshot(b)
    assert files_a.keys() == files_b.keys() == FILES
    for name in sorted(FILES - {"summary.json"}):
        assert files_a[name] == files_b[name], name
    text_a = files_a["summary.json"].decode("utf-8")
    text_b = files_b["summary.json"].decode("utf-8")
    assert text_a != text_b
    assert text_a.split('"timings"')[0] == text_b.split('"timings"')[0]
    summary_a, summary_b = json.loads(text_a), json.loads(text_b)
    timings = summary_b.pop("timings")
    assert timings.keys() == {"coverage", "greedy", "write"}
    assert (timings["coverage"], timings["greedy"]) == (3.5, 9.25)
    assert timings["write"] > 0  # writing the other files, measured, summary last
    assert list(summary_a.pop("timings")) == [*small_plan.timings, "write"]
    assert summary_a == summary_b


def test_a_permission_error_is_an_output_error(
    small_plan: Plan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(**kwargs: object) -> str:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("maps.export.folder.tempfile.mkdtemp", refuse)
    with pytest.raises(OutputError, match="Permission denied"):
        write_plan(small_plan, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []
