"""Helpers shared by the benchmarks: reference data, running ``camplan`` as a command, tables.

Every benchmark times ``camplan`` the way a user runs it: the console script as a
whole command (a subprocess), from start-up to the last output file written,
with its default options unless a baseline says otherwise.
"""

from __future__ import annotations

import json
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "DATA_DIR",
    "EXIT_FAILED",
    "EXIT_MISSED",
    "EXIT_NO_DATA",
    "CommandRun",
    "Table",
    "camplan_command",
    "fmt_ratio",
    "fmt_seconds",
    "profile_stages",
    "require_data",
    "run_camplan",
    "run_command",
    "work_dir",
]

#: ``../shared/data`` beside the repository (not part of the project; see its README).
DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"

TIME_BIN = Path("/usr/bin/time")

#: Exit statuses of a benchmark: 0 target met, 1 target missed, 2 a command failed,
#: 3 skipped because the reference data is absent.
EXIT_MISSED, EXIT_FAILED, EXIT_NO_DATA = 1, 2, 3


def require_data(*parts: str) -> Path:
    """The reference data folder ``DATA_DIR / parts``; exit with a clear message when absent."""
    path = DATA_DIR.joinpath(*parts)
    if not path.exists():
        print(
            f"benchmark skipped: reference data {path} is missing. The benchmarks read the "
            f"public reference data kept beside the repository at {DATA_DIR} "
            "(../shared/data); put it there and run again.", file=sys.stderr,
        )
        raise SystemExit(EXIT_NO_DATA)
    return path


def work_dir(name: str) -> Path:
    """A folder for generated inputs that later runs may reuse (outside the repository)."""
    root = Path(os.environ.get("CAMPLAN_BENCH_WORK", Path(tempfile.gettempdir()) / "camplan-bench"))
    path = root / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def camplan_command() -> list[str]:
    """The ``camplan`` console script beside this Python (the venv), else on ``PATH``."""
    beside = Path(sys.executable).parent / "camplan"
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("camplan")
    if found is None:
        sys.exit("benchmark needs the camplan console script: pip install -e . into this venv")
    return [found]


@dataclass
class CommandRun:
    """One whole command: wall seconds, peak resident memory, exit status, output."""

    argv: list[str]
    wall_s: float
    peak_rss_mb: float | None
    cpu_s: float | None
    returncode: int
    stdout: str
    stderr: str
    summary: dict[str, Any] = field(default_factory=dict)

    def check(self) -> CommandRun:
        if self.returncode != 0:
            print(f"command failed with exit status {self.returncode}:\n  {' '.join(self.argv)}\n"
                  f"{self.stdout[-2000:]}{self.stderr[-4000:]}", file=sys.stderr)
            raise SystemExit(EXIT_FAILED)
        return self


def _max_rss_mb(report: str) -> float | None:
    match = re.search(r"Maximum resident set size \(kbytes\):\s*(\d+)", report)
    return int(match.group(1)) / 1024 if match else None


def _cpu_s(report: str) -> float | None:
    """User + system CPU seconds (less sensitive than wall time to a busy machine)."""
    user = re.search(r"User time \(seconds\):\s*([\d.]+)", report)
    system = re.search(r"System time \(seconds\):\s*([\d.]+)", report)
    if not (user and system):
        return None
    return float(user.group(1)) + float(system.group(1))


def run_command(argv: Sequence[str], *, measure_memory: bool = True) -> CommandRun:
    """Run ``argv`` to completion; wall time around the whole process, peak RSS via time -v."""
    argv = [str(a) for a in argv]
    with tempfile.NamedTemporaryFile("r", suffix=".time", delete=False) as tf:
        time_file = Path(tf.name)
    full = argv
    if measure_memory and TIME_BIN.is_file():
        full = [str(TIME_BIN), "-v", "-o", str(time_file), *argv]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    t0 = time.perf_counter()
    proc = subprocess.run(full, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - t0
    report = time_file.read_text() if time_file.exists() else ""
    time_file.unlink(missing_ok=True)
    return CommandRun(argv, wall, _max_rss_mb(report), _cpu_s(report), proc.returncode,
                      proc.stdout, proc.stderr)


def run_camplan(args: Sequence[str], out: Path, *, measure_memory: bool = True) -> CommandRun:
    """``camplan plan ARGS --out OUT --overwrite`` as a whole command; reads summary.json."""
    argv = [*camplan_command(), "plan", *args, "--out", str(out), "--overwrite"]
    run = run_command(argv, measure_memory=measure_memory).check()
    run.summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return run


#: Functions whose cumulative time makes up the stages of ``camplan plan``.
PROFILE_STAGES = (
    ("imports (every module, cumulative)", "<frozen importlib._bootstrap>", "_find_and_load"),
    ("read layers", "planner/scenario/read.py", "read_layers"),
    ("  read_layer", "geodata/io.py", "read_layer"),
    ("  validate layers", "geodata/validate.py", "validate_layer"),
    ("  fingerprint inputs", "geodata/fingerprint.py", "fingerprint"),
    ("build inputs", "planner/scenario/layers.py", "build_inputs"),
    ("plan_sites (all)", "planner/api.py", "plan_sites"),
    ("  coverage matrix", "planner/coverage/disc.py", "coverage_matrix"),
    ("  optimise", "planner/solver/optimise.py", "optimise"),
    ("    presolve", "planner/solver/presolve.py", "presolve"),
    ("    greedy (lazy_greedy)", "planner/solver/greedy.py", "lazy_greedy"),
    ("    phases (local search, exact)", "planner/solver/phases.py", "improve_with_fallback"),
    ("    bound (plan_certificate)", "planner/solver/certificate.py", "plan_certificate"),
    ("  assemble plan", "planner/plan/assemble.py", "assemble_plan"),
    ("write outputs (all)", "maps/export/folder.py", "write_plan"),
    ("  sites.geojson text", "maps/export/features.py", "plan_geojson_text"),
    ("  footprints.geojson text", "maps/export/features.py", "footprints_geojson_text"),
    ("  write_geojson (both)", "maps/export/features.py", "write_geojson"),
    ("  plan.gpkg", "maps/export/gpkg.py", "write_geopackage"),
    ("  sites.csv", "maps/export/tables.py", "sites_to_csv"),
    ("  summary.json", "maps/export/summary.py", "write_summary"),
    ("  report + plots", "maps/report/report.py", "write_report"),
    ("  map.html", "maps/webmap/map.py", "save_map"),
)


def profile_stages(stats_file: Path) -> list[tuple[str, float]]:
    """Cumulative seconds of each function in :data:`PROFILE_STAGES` found in a cProfile dump."""
    stats = pstats.Stats(str(stats_file))
    found: list[tuple[str, float]] = []
    table = stats.stats  # type: ignore[attr-defined]
    for label, file_end, func in PROFILE_STAGES:
        total = 0.0
        seen = False
        for (filename, _line, name), (_cc, _nc, _tt, ct, _callers) in table.items():
            if name == func and filename.replace(os.sep, "/").endswith(file_end):
                total += ct
                seen = True
        if seen:
            found.append((label, total))
    return found


def profile_camplan(args: Sequence[str], out: Path, stats_file: Path) -> CommandRun:
    """``camplan plan`` under cProfile (``python -m cProfile -m maps.cli``)."""
    argv = [sys.executable, "-m", "cProfile", "-o", str(stats_file), "-m", "maps.cli", "plan",
            *args, "--out", str(out), "--overwrite"]
    return run_command(argv, measure_memory=False).check()


# --------------------------------------------------------------------------- formatting


def fmt_seconds(s: float | None) -> str:
    if s is None:
        return "-"
    return f"{s:.2f} s" if s < 100 else f"{s:.0f} s"


def fmt_ratio(x: float | None, digits: int = 4) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


class Table:
    """A plain-text table printed with aligned columns (numbers to the right)."""

    def __init__(self, columns: Sequence[str]) -> None:
        self.columns = list(columns)
        self.rows: list[list[str]] = []

    def add(self, *cells: Any) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"expected {len(self.columns)} cells, got {len(cells)}")
        self.rows.append([_cell(c) for c in cells])

    def render(self) -> str:
        widths = [max(len(h), *(len(r[i]) for r in self.rows)) if self.rows else len(h)
                  for i, h in enumerate(self.columns)]
        numeric = [all(_looks_numeric(r[i]) for r in self.rows) and bool(self.rows)
                   for i in range(len(self.columns))]

        def line(cells: Iterable[str]) -> str:
            parts = [c.rjust(w) if num else c.ljust(w)
                     for c, w, num in zip(cells, widths, numeric, strict=True)]
            return "  ".join(parts).rstrip()

        rule = "  ".join("-" * w for w in widths)
        return "\n".join([line(self.columns), rule, *(line(r) for r in self.rows)])

    def print(self) -> None:
        print(self.render(), flush=True)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 1000 else f"{value:.4g}"
    return str(value)


def _looks_numeric(text: str) -> bool:
    return bool(re.fullmatch(r"[-+]?[\d,.]+(\s*(s|x|%|MB|GB))?|-", text))
