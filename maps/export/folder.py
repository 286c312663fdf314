"""Write a plan's whole output folder, atomically.

Everything is written into a temporary folder beside the target and moved
into place only when complete, so a failure never leaves a half-written
output folder and never damages an earlier one.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from geodata.errors import OutputError
from maps.export.features import footprints_geojson_text, plan_geojson_text, write_geojson
from maps.export.gpkg import write_geopackage
from maps.export.installation import installation_to_csv, is_directional
from maps.export.parquet import write_geoparquet
from maps.export.styles import write_qml_files
from maps.export.summary import write_summary
from maps.export.tables import curve_to_csv, districts_to_csv, sites_to_csv
from planner.plan.result import Plan

__all__ = ["MapWriter", "write_folder", "write_plan"]

logger = logging.getLogger(__name__)

MapWriter = Callable[[Plan, Path], object]
"""Writes the interactive map of a plan to the given ``.html`` path."""

TEMP_PREFIX = ".camplan-"
MARKER = "summary.json"
"""A folder holding this file is taken to be an earlier camplan output."""


def write_outputs(plan: Plan, folder: Path, *, map_writer: MapWriter | None = None) -> None:
    """Write every output file of ``plan`` into the existing ``folder``.

    Parameters
    ----------
    plan
        The plan to write.
    folder
        An existing, empty folder.
    map_writer
        Called as ``map_writer(plan, folder / "map.html")`` when given.
    """
    t0 = time.perf_counter()
    write_geopackage(plan, folder / "plan.gpkg")
    _write_the_rest(plan, folder)
    if map_writer is not None:
        map_writer(plan, folder / "map.html")
    # The summary comes last so that it can say how long writing the rest took.
    timings = {**plan.timings, "write": time.perf_counter() - t0}
    write_summary(dataclasses.replace(plan, timings=timings), folder / "summary.json")


def _write_the_rest(plan: Plan, folder: Path) -> None:
    """Every output file but ``plan.gpkg``, ``map.html`` and ``summary.json``."""
    write_geojson(plan_geojson_text(plan), folder / "sites.geojson")
    write_geojson(footprints_geojson_text(plan), folder / "footprints.geojson")
    write_qml_files(plan, folder)
    if "engine" in plan.parameters:  # a plan from a cluster: GeoParquet too
        write_geoparquet(plan, folder)
    sites_to_csv(plan, folder / "sites.csv")
    curve_to_csv(plan, folder / "curve.csv")
    if is_directional(plan):
        installation_to_csv(plan, folder / "installation.csv")
    if plan.districts is not None:
        districts_to_csv(plan, folder / "districts.csv")
    from maps.report import report  # matplotlib: imported only when a report is drawn

    report.write_report(plan, folder)


def _check_target(target: Path, *, overwrite: bool, marker: str = MARKER) -> None:
    """Refuse a target that exists (unless ``overwrite``) or is not a camplan output."""
    if not target.exists() and not target.is_symlink():
        return
    if not overwrite:
        raise OutputError(
            f"{target}: the output folder exists; pass --overwrite to replace it, "
            "or choose another --out"
        )
    if target.is_symlink() or not target.is_dir():
        raise OutputError(f"{target}: exists and is not a folder; choose another --out")
    if any(target.iterdir()) and not (target / marker).is_file():
        raise OutputError(
            f"{target}: exists and does not look like a camplan output (no {marker}); "
            "camplan will not delete it; choose another --out"
        )


def _make_staging(parent: Path) -> Path:
    """Create the parent when missing and a private temporary folder inside it."""
    try:
        parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=parent))
    except OSError as err:
        raise OutputError(
            f"{parent}: cannot create the output folder here ({err.strerror or err}); "
            "choose a writable --out"
        ) from err


def _move_into_place(staged: Path, target: Path, holder: Path) -> None:
    """Rename ``staged`` to ``target``, first moving an earlier ``target`` into ``holder``.

    When the final rename fails, the earlier output is moved back; when even
    that fails, an :class:`OutputError` says where it is (and it is kept).
    """
    old = holder / "previous"
    had_old = target.exists()
    if had_old:
        os.rename(target, old)
    try:
        os.rename(staged, target)
    except OSError as err:
        if had_old:
            _restore(old, target, err)
        raise


def _restore(old: Path, target: Path, cause: OSError) -> None:
    """Move the earlier output back to ``target`` after a failed replacement."""
    try:
        os.rename(old, target)
    except OSError as err:
        raise _KeepStagingError(
            f"{target}: could not replace the output folder ({cause}) nor put the "
            f"earlier one back ({err}); it is kept at {old}"
        ) from err


class _KeepStagingError(OutputError):
    """An error after which the temporary folder holds the user's earlier output."""


def write_plan(
    plan: Plan,
    out_dir: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    map_writer: MapWriter | None = None,
) -> Path:
    """Write the whole output folder of a plan, atomically.

    Files: ``sites.geojson``, ``footprints.geojson`` with their QGIS styles
    ``sites.qml`` and ``footprints.qml``, ``summary.json``, ``plan.gpkg`` (styled),
    ``sites.csv``, ``curve.csv``, ``districts.csv`` (when the plan has
    districts), ``report.md``, ``report.html``, ``coverage.png`` and
    ``map.html`` (when ``map_writer`` is given). They are written into a
    temporary folder beside ``out_dir`` (named ``.camplan-*``), which is then
    renamed to ``out_dir``. On any error the temporary folder is removed and
    an earlier ``out_dir`` is left as it was.

    Parameters
    ----------
    plan
        The plan to write.
    out_dir
        The output folder; its parent is created when missing.
    overwrite
        Replace an existing ``out_dir``. Only a folder that is empty or holds
        a ``summary.json`` (an earlier camplan output) is replaced.
    map_writer
        Writes the interactive map: called as ``map_writer(plan, path)``.

    Returns
    -------
    Path
        ``out_dir``.

    Raises
    ------
    OutputError
        When ``out_dir`` exists and ``overwrite`` is false, when it cannot be
        replaced, or when its parent is not writable.
    """
    folder = write_folder(
        out_dir, lambda staged: write_outputs(plan, staged, map_writer=map_writer),
        overwrite=overwrite,
    )
    logger.info("wrote %s", folder)
    return folder


def write_folder(
    out_dir: str | os.PathLike[str],
    fill: Callable[[Path], object],
    *,
    overwrite: bool = False,
    marker: str = MARKER,
) -> Path:
    """Write a whole output folder atomically: ``fill`` writes into a staged folder.

    The staged folder (inside a ``.camplan-*`` temporary folder beside
    ``out_dir``) is renamed to ``out_dir`` only when ``fill`` returns; on any
    error it is removed and an earlier ``out_dir`` is left as it was.

    Parameters
    ----------
    out_dir
        The output folder; its parent is created when missing.
    fill
        Called with the empty staged folder; writes every file into it.
    overwrite
        Replace an existing ``out_dir`` that is empty or holds ``marker``.
    marker
        The file that marks a folder as an earlier output of the same kind.

    Returns
    -------
    Path
        ``out_dir``, absolute.

    Raises
    ------
    OutputError
        As :func:`write_plan`.
    """
    target = Path(out_dir).absolute()
    _check_target(target, overwrite=overwrite, marker=marker)
    holder = _make_staging(target.parent)
    staged = holder / target.name
    try:
        staged.mkdir()  # not mkdtemp's mode 0o700: plain mkdir follows the user's umask
        fill(staged)
        _move_into_place(staged, target, holder)
    except _KeepStagingError:
        raise
    except OSError as err:
        _remove(holder)
        raise OutputError(
            f"{target}: could not write the output folder ({err}); nothing was changed"
        ) from err
    except BaseException:
        _remove(holder)
        raise
    _remove(holder)
    return target


def _remove(folder: Path) -> None:
    """Delete a temporary folder; a failure is logged, not raised."""
    shutil.rmtree(folder, ignore_errors=True)
    if folder.exists():
        logger.warning("could not remove the temporary folder %s", folder)
