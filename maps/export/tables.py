"""CSV tables of a plan: the chosen sets, the districts and the coverage curve."""

from __future__ import annotations

import csv
import logging
import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from maps.export.features import COORD_DECIMALS, SITE_COLUMNS, ordered_columns
from maps.export.lonlat import WGS84
from maps.export.values import cell_texts, format_cell, ratio, spreadsheet_cell
from planner.plan.result import Plan

__all__ = [
    "CURVE_COLUMNS",
    "DISTRICT_COLUMNS",
    "curve_to_csv",
    "districts_to_csv",
    "sites_to_csv",
]

logger = logging.getLogger(__name__)

METRIC_DECIMALS = 3
"""Decimals kept in metric x/y in CSV: millimetres."""
DISTRICT_COLUMNS = (
    "district",
    "sets",
    "covered_share",
    "population",
    "sets_per_1000",
    "covered_weight",
    "total_weight",
)
CURVE_COLUMNS = ("sets", "covered_weight", "covered_share", "phase")


def _fixed(values: Iterable[float], decimals: int) -> list[str]:
    """Numbers with a fixed number of decimals; empty for NaN."""
    return ["" if not math.isfinite(v) else f"{v:.{decimals}f}" for v in values]


def _write_csv(path: Path, header: list[str], rows: Iterable[Iterable[str]]) -> Path:
    """Write UTF-8 CSV with Unix line endings, every cell safe in a spreadsheet.

    A cell a spreadsheet would run as a formula gets a leading ``'``
    (:func:`~maps.export.values.spreadsheet_cell`); negative numbers stay numbers.
    """
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow([spreadsheet_cell(h) for h in header])
        writer.writerows([spreadsheet_cell(c) for c in row] for row in rows)
    logger.debug("wrote %s", path)
    return path


def sites_to_csv(plan: Plan, path: str | Path) -> Path:
    """Write the chosen sets as CSV, one row per set in rank order.

    Columns: ``site_id``, ``rank``, ``phase``, ``lon``, ``lat``, ``x``, ``y``,
    the weights and shares, then the site's own attributes.

    ``lon``/``lat`` are EPSG:4326 with 7 decimals; ``x``/``y`` are in the
    plan's metric CRS in metres with 3 decimals; other floats use the
    shortest text that reads back to the same number.

    Parameters
    ----------
    plan
        The plan to export.
    path
        The file to write (replaced when it exists).

    Returns
    -------
    Path
        ``path``.
    """
    sites = plan.sites
    columns = ordered_columns(sites, SITE_COLUMNS)
    lonlat = sites.geometry.to_crs(WGS84)
    coords = [
        _fixed(lonlat.x, COORD_DECIMALS),
        _fixed(lonlat.y, COORD_DECIMALS),
        _fixed(sites.geometry.x, METRIC_DECIMALS),
        _fixed(sites.geometry.y, METRIC_DECIMALS),
    ]
    head = [c for c in columns if c in SITE_COLUMNS[:3]]
    tail = [c for c in columns if c not in head]
    header = [*head, "lon", "lat", "x", "y", *tail]
    cells = {c: cell_texts(sites[c]) for c in columns}
    rows = zip(*(cells[c] for c in head), *coords, *(cells[c] for c in tail), strict=True)
    return _write_csv(Path(path), [str(h) for h in header], rows)


def districts_to_csv(plan: Plan, path: str | Path) -> Path:
    """Write per-district coverage as CSV.

    Columns: ``district``, ``sets``, ``covered_share``, ``population``,
    ``sets_per_1000``, ``covered_weight``, ``total_weight``.

    Parameters
    ----------
    plan
        A plan with districts.
    path
        The file to write (replaced when it exists).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ValueError
        When the plan has no districts.
    """
    if plan.districts is None:
        raise ValueError("the plan has no districts; pass districts to the planner")
    frame = plan.districts
    columns = [c for c in DISTRICT_COLUMNS if c in frame.columns]
    rows = ([format_cell(v) for v in row] for row in frame[columns].itertuples(index=False))
    return _write_csv(Path(path), columns, rows)


def curve_to_csv(plan: Plan, path: str | Path) -> Path:
    """Write the coverage curve as CSV: one row per number of new sets, from 0.

    Columns: ``sets``, ``covered_weight``, ``covered_share``, ``phase``. Row
    ``k`` holds the weight covered by the existing cameras and the first ``k``
    new sets (``plan.curve[k]``); ``phase`` is the phase of the ``k``-th set
    (0 in the first row: existing cameras only).

    Parameters
    ----------
    plan
        The plan to export.
    path
        The file to write (replaced when it exists).

    Returns
    -------
    Path
        ``path``.
    """
    curve = np.asarray(plan.curve, dtype=float)
    phases = plan.sites.sort_values("rank")["phase"].to_numpy() if plan.n_sets else []
    phase_of = [0, *(int(p) for p in phases)]
    total = plan.total_weight
    rows = (
        [str(k), format_cell(float(w)), format_cell(ratio(float(w), total)),
         str(phase_of[k]) if k < len(phase_of) else ""]
        for k, w in enumerate(curve)
    )
    return _write_csv(Path(path), list(CURVE_COLUMNS), rows)
