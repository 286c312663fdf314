"""The architecture holds: the solver has no geometry, imports go geodata <- planner <- maps."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RANK = {"geodata": 0, "planner": 1, "maps": 2}


def _loaded_after(imports: str, names: tuple[str, ...]) -> list[str]:
    """Which of ``names`` a fresh interpreter has loaded after ``import {imports}``."""
    code = f"import sys, {imports}\nprint(sorted(m for m in {names!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    return ast.literal_eval(out.stdout.strip())


def test_the_solver_imports_no_geometry_library() -> None:
    solver = "planner.solver.optimise, planner.solver.bounds, planner.solver.localsearch"
    assert _loaded_after(solver, ("geopandas", "shapely", "pyproj", "pyogrio")) == []


def test_the_command_line_starts_without_the_heavy_optional_libraries() -> None:
    """Imported only by the runs that use them: street graphs, clusters, LP/MIP, map, charts."""
    heavy = ("networkx", "dask", "distributed", "scipy.optimize", "folium", "matplotlib")
    assert _loaded_after("maps.cli.main, planner.api", heavy) == []


@pytest.mark.parametrize("package", sorted(RANK))
def test_imports_run_one_way(package: str) -> None:
    against = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top in RANK and RANK[top] > RANK[package]:
                    against.append(f"{path.relative_to(ROOT)} imports {name}")
    assert against == []


@pytest.mark.parametrize("package", sorted(RANK))
def test_every_module_says_what_it_is_for(package: str) -> None:
    missing = [str(p.relative_to(ROOT)) for p in sorted((ROOT / package).rglob("*.py"))
               if p.name != "__main__.py" and not ast.get_docstring(ast.parse(p.read_text()))]
    assert missing == []
