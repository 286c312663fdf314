"""The architecture holds: the solver has no geometry, imports go geodata <- planner <- maps."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RANK = {"geodata": 0, "planner": 1, "maps": 2}


def test_the_solver_imports_no_geometry_library() -> None:
    code = (
        "import sys, planner.solver.optimise, planner.solver.bounds, planner.solver.localsearch\n"
        "print(sorted(m for m in ('geopandas', 'shapely', 'pyproj', 'pyogrio') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_the_command_line_starts_without_the_heavy_optional_libraries() -> None:
    """Imported only by the runs that use them: street graphs, clusters, LP/MIP, map, charts."""
    code = (
        "import sys, maps.cli.main, planner.api\n"
        "print(sorted(m for m in ('networkx', 'dask', 'distributed', 'scipy.optimize', "
        "'folium', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"

