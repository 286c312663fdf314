"""A writer that fails part-way leaves no output folder (the folder is written atomically)."""

from __future__ import annotations

from pathlib import Path

import pytest

from geodata.errors import OutputError
from maps.export.folder import write_plan
from planner.plan.result import Plan


def test_a_failing_geopackage_leaves_no_folder(
    small_plan: Plan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(plan: Plan, path: Path) -> None:
        path.write_bytes(b"half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("maps.export.folder.write_geopackage", refuse)
    with pytest.raises(OutputError, match="No space left on device"):
        write_plan(small_plan, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_a_failing_map_leaves_no_folder(small_plan: Plan, tmp_path: Path) -> None:
    def failing_map(plan: Plan, path: Path) -> None:
        path.write_text("half a map", encoding="utf-8")
        raise RuntimeError("the map writer failed")

    with pytest.raises((OutputError, RuntimeError), match="the map writer failed"):
        write_plan(small_plan, tmp_path / "out", map_writer=failing_map)
    assert list(tmp_path.iterdir()) == []
