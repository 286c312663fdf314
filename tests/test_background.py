"""Writing plan.gpkg in a forked process while the rest of the folder is written."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from geodata.errors import OutputError
from maps.export import background
from maps.export.folder import write_plan
from planner.plan.result import Plan

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork: Linux only")


def _write_pid(path: Path) -> None:
    path.write_text(str(os.getpid()), encoding="utf-8")


@linux_only
def test_the_file_is_written_by_another_process(tmp_path: Path) -> None:
    target = tmp_path / "pid.txt"
    background.start(lambda: _write_pid(target), "pid.txt").wait()
    assert int(target.read_text(encoding="utf-8")) != os.getpid()


def test_without_fork_the_file_is_written_here_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(background, "_can_fork", lambda: False)
    target = tmp_path / "pid.txt"
    pending = background.start(lambda: _write_pid(target), "pid.txt")
    assert int(target.read_text(encoding="utf-8")) == os.getpid()
    pending.wait()


@pytest.mark.parametrize("fork", [True, False])
def test_a_failing_writer_raises_with_its_message(
    fork: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if fork and not background._can_fork():
        pytest.skip("fork: Linux only")
    monkeypatch.setattr(background, "_can_fork", lambda: fork)

    def fail() -> None:
        raise ValueError("disk on fire")

    with pytest.raises((OutputError, ValueError), match="disk on fire"):
        background.start(fail, "plan.gpkg").wait()


@linux_only
def test_abandon_stops_the_writer(tmp_path: Path) -> None:
    done = tmp_path / "done"
    pending = background.start(lambda: (time.sleep(60), done.touch()), "slow")
    t0 = time.perf_counter()
    pending.abandon()
    assert time.perf_counter() - t0 < 30
    assert not done.exists()
    pending.wait()  # nothing left to wait for


def test_the_geopackage_is_the_same_written_here_or_in_a_child(
    small_plan: Plan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = write_plan(small_plan, tmp_path / "a")
    monkeypatch.setattr(background, "_can_fork", lambda: False)
    b = write_plan(small_plan, tmp_path / "b")
    assert (a / "plan.gpkg").read_bytes() == (b / "plan.gpkg").read_bytes()


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


@linux_only
def test_a_failure_here_stops_the_writers_in_other_processes(
    small_plan: Plan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[background.Pending] = []
    start = background.start

    def record(write: object, what: str) -> background.Pending:
        job = start(write, what)  # type: ignore[arg-type]
        started.append(job)
        return job

    def slow_geopackage(plan: Plan, path: Path) -> None:
        time.sleep(60)

    def failing_map(plan: Plan, path: Path) -> None:
        raise RuntimeError("the map writer failed")

    monkeypatch.setattr(background, "start", record)
    monkeypatch.setattr("maps.export.folder.write_geopackage", slow_geopackage)
    t0 = time.perf_counter()
    with pytest.raises(RuntimeError, match="the map writer failed"):
        write_plan(small_plan, tmp_path / "out", map_writer=failing_map)
    assert time.perf_counter() - t0 < 30  # the slow writer was stopped, not waited for
    assert [job._pid for job in started] == [0, 0]  # every child reaped
    assert list(tmp_path.iterdir()) == []
