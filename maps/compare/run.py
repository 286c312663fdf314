"""``camplan compare``: run scenario files, read plan folders and write the comparison folder.

Imports both :mod:`maps.compare.plans` (the numbers) and :mod:`maps.compare.page`
(the documents), which import neither this module nor each other's writer.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from maps.compare.page import write_comparison
from maps.compare.plans import MARKER, PlanRecord, compare_plans, load_plan, too_few_plans
from maps.export.folder import MapWriter, write_folder, write_outputs

__all__ = ["PLANS_DIR", "ComparisonOutput", "compare_paths", "write_comparison_folder"]

logger = logging.getLogger(__name__)

PLANS_DIR = "plans"
"""Sub-folder of a comparison that holds the plans it ran itself (scenarios, sweeps)."""


@dataclass(frozen=True)
class ComparisonOutput:
    """How a comparison folder is written.

    Attributes
    ----------
    overwrite
        Replace an earlier comparison folder.
    map_writer
        Writes each new plan's ``map.html`` (e.g. :func:`maps.webmap.save_map`).
    interactive_map
        Also write ``compare_map.html`` (the sites on an offline folium map).
    """

    overwrite: bool = False
    map_writer: MapWriter | None = None
    interactive_map: bool = True


def _unique(names: Sequence[str]) -> list[str]:
    """Names made unique by a ``-2``, ``-3``... suffix."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}-{seen[name]}")
    return out


def write_comparison_folder(
    out_dir: str | os.PathLike[str],
    plans: Sequence[tuple[str, Callable[[], Any]] | PlanRecord],
    *,
    overwrite: bool = False,
    map_writer: MapWriter | None = None,
    unit: int | None = None,
    interactive_map: bool = True,
) -> Path:
    """Write a comparison folder atomically: plans to run first, then the page.

    Parameters
    ----------
    out_dir
        The comparison folder.
    plans
        Either plans already read (:class:`PlanRecord`), or ``(label, make)``
        pairs where ``make()`` returns a :class:`~planner.plan.Plan`; such a
        plan is written to ``plans/<label>`` and read back from there.
    overwrite
        Replace an earlier comparison folder.
    map_writer
        Writes each new plan's ``map.html`` (e.g. :func:`maps.webmap.save_map`).
    unit
        See :func:`compare_plans`.
    interactive_map
        Also write ``compare_map.html`` (the sites on an offline folium map).
    """
    if len(plans) < 2:
        raise too_few_plans(len(plans))

    def fill(folder: Path) -> None:
        records: list[PlanRecord] = []
        for item in plans:
            if isinstance(item, PlanRecord):
                records.append(item)
                continue
            label, make = item
            sub = folder / PLANS_DIR / label
            sub.mkdir(parents=True)
            write_outputs(make(), sub, map_writer=map_writer)
            record = load_plan(sub, label=label)
            records.append(_relocated(record, f"{PLANS_DIR}/{label}"))
        write_comparison(compare_plans(records, unit=unit), folder,
                         interactive_map=interactive_map)

    return write_folder(out_dir, fill, overwrite=overwrite, marker=MARKER)


def _relocated(record: PlanRecord, source: str) -> PlanRecord:
    return replace(record, source=source)


def compare_paths(
    paths: Sequence[Path],
    out_dir: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    data_dir: Path | None = None,
    map_writer: MapWriter | None = None,
    progress: Any = None,
) -> Path:
    """``camplan compare``: plan folders and scenario files compared in one folder.

    Plan folders are read first (so that a wrong folder fails before any
    scenario runs); scenario files are planned into ``plans/<file stem>``.
    """
    if len(paths) < 2:
        raise too_few_plans(len(paths))
    labels = _unique([p.stem if _is_scenario(p) else (p.name or str(p)) for p in paths])
    items: list[tuple[str, Callable[[], Any]] | PlanRecord] = []
    for path, label in zip(paths, labels, strict=True):
        if _is_scenario(path):
            items.append((label, _scenario_runner(path, data_dir, progress)))
        else:
            items.append(load_plan(path, label=label))
    return write_comparison_folder(out_dir, items, overwrite=overwrite, map_writer=map_writer)


def _is_scenario(path: Path) -> bool:
    return path.suffix.lower() == ".toml"


def _scenario_runner(path: Path, data_dir: Path | None, progress: Any) -> Callable[[], Any]:
    from planner.scenario import load_scenario, run_scenario

    scenario = load_scenario(path, data_dir=data_dir)  # a malformed file fails before any run
    return lambda: run_scenario(scenario, progress=progress)
