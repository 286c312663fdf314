"""Compare plans side by side: coverage, marginal returns, shared sites, districts.

A comparison reads plan folders (``summary.json``, ``sites.geojson``,
``curve.csv`` and ``districts.csv`` when present), so plans written at any
time compare alike; a scenario file is first planned into a sub-folder of the
comparison's output (``plans/<name>``) and then read back the same way: one
code path. :func:`compare_plans` turns the plans into a frozen
:class:`Comparison`; :mod:`maps.compare.page` renders it
and :mod:`maps.compare.run` writes the folder.

The marginal return of a plan is the covered weight (and share) it gains per
1,000 extra sets: along its own curve between consecutive thousands, and
between the sizes of consecutive plans in the order given.
"""

from __future__ import annotations

import csv
import itertools
import json
import logging
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from geodata.errors import LayerError, OptionError
from maps.export.values import from_spreadsheet_cell

__all__ = [
    "MARKER",
    "Comparison",
    "DistrictRow",
    "MarginalStep",
    "PairDiff",
    "PlanRecord",
    "SiteGroup",
    "compare_plans",
    "default_unit",
    "load_plan",
    "too_few_plans",
]

logger = logging.getLogger(__name__)

MARKER = "comparison.json"
"""A folder holding this file is an earlier comparison (``--overwrite`` may replace it)."""
STEP = 1000
"""Marginal returns are given per this many extra sets (fewer for plans under 2,000 sets)."""


# --------------------------------------------------------------------------- one plan


@dataclass(frozen=True)
class DistrictRow:
    """One row of a plan's ``districts.csv`` (NaN where the plan has no value)."""

    district: str
    sets: float
    covered_share: float
    population: float
    sets_per_1000: float


@dataclass(frozen=True, eq=False)
class PlanRecord:
    """What a comparison needs of one plan, as read from its folder.

    Attributes
    ----------
    label
        Short name shown in table headers and legends (the folder's name by default).
    source
        Where the plan came from (the folder or scenario path, as given).
    curve
        ``curve[k]``: weight covered by the existing cameras and the first ``k`` sets.
    site_ids
        Site ids in rank order, as text.
    lonlat
        ``(n_sets, 2)`` EPSG:4326 coordinates of the sites, in rank order.
    districts
        Rows of ``districts.csv`` or ``None`` when the plan has no districts.
    """

    label: str
    source: str
    title: str
    n_sets: int
    radius_m: float
    covered_weight: float
    total_weight: float
    coverage_share: float
    existing_weight: float
    upper_bound: float
    gap: float
    proven_optimal: bool
    owners: Mapping[str, float]
    phase_sizes: tuple[int, ...]
    curve: np.ndarray
    site_ids: tuple[str, ...]
    lonlat: np.ndarray
    districts: tuple[DistrictRow, ...] | None = None

    def share(self, weight: float) -> float:
        """``weight`` as a share of this plan's total demand weight (NaN if there is none)."""
        return weight / self.total_weight if self.total_weight > 0 else math.nan


def _not_a_plan(folder: Path, problem: str) -> LayerError:
    return LayerError(str(folder), f"{problem}; pass a folder written by `camplan plan`, "
                                   "`camplan demo` or `camplan sweep`, or a scenario .toml file")


def _read_json(path: Path, folder: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _not_a_plan(folder, f"is not a camplan plan folder (no {path.name})") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise LayerError(str(path), f"cannot be read as JSON ({err}); write the plan again"
                         ) from err


def _float(value: Any) -> float:
    """A number from JSON or CSV text; NaN when missing or not a number."""
    if value is None or value == "":
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _read_csv(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV camplan wrote, each cell as it was before :func:`spreadsheet_cell`."""
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            return [{from_spreadsheet_cell(k): from_spreadsheet_cell(v) for k, v in row.items()}
                    for row in csv.DictReader(fh)]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise LayerError(str(path), f"cannot be read as CSV ({err}); write the plan again"
                         ) from err


def _curve(folder: Path, summary: Mapping[str, Any], cumulative: Sequence[float]) -> np.ndarray:
    """``curve.csv`` when present, else the existing weight and the sites' cumulative weights."""
    path = folder / "curve.csv"
    if path.is_file():
        rows = _read_csv(path)
        curve = np.array([_float(r.get("covered_weight")) for r in rows], dtype=float)
        if len(curve) == len(cumulative) + 1 and np.isfinite(curve).all():
            return curve
        raise LayerError(str(path), f"holds {len(curve)} rows, expected {len(cumulative) + 1} "
                                    "(one per number of sets, from 0); write the plan again")
    return np.array([_float(summary.get("existing_weight")) or 0.0, *cumulative], dtype=float)


def _districts(folder: Path) -> tuple[DistrictRow, ...] | None:
    """The rows of the plan's ``districts.csv``, or ``None`` when it has none."""
    if not (folder / "districts.csv").is_file():
        return None
    return tuple(
        DistrictRow(
            district=str(r.get("district", "")),
            sets=_float(r.get("sets")),
            covered_share=_float(r.get("covered_share")),
            population=_float(r.get("population")),
            sets_per_1000=_float(r.get("sets_per_1000")),
        )
        for r in _read_csv(folder / "districts.csv")
    )


def load_plan(folder: str | os.PathLike[str], *, label: str | None = None) -> PlanRecord:
    """Read a plan folder for comparison.

    Parameters
    ----------
    folder
        A folder written by :func:`maps.export.folder.write_plan`.
    label
        The name shown for the plan; default the folder's name.

    Raises
    ------
    LayerError
        When the folder is missing, has no ``summary.json`` or ``sites.geojson``,
        or a file cannot be read.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise _not_a_plan(folder, "is neither a plan folder nor a scenario .toml file"
                          if not folder.exists() else "is not a folder")
    summary = _read_json(folder / "summary.json", folder)
    sites = _read_json(folder / "sites.geojson", folder)
    try:
        features = sorted(sites["features"], key=lambda f: f["properties"]["rank"])
        ids = tuple(str(f["properties"]["site_id"]) for f in features)
        cumulative = [_float(f["properties"].get("cumulative_weight")) for f in features]
        lonlat = np.array([f["geometry"]["coordinates"][:2] if f.get("geometry") else
                           [math.nan, math.nan] for f in features], dtype=float).reshape(-1, 2)
        n_sets = int(summary["n_sets"])
        total = float(summary["total_weight"])
        covered = float(summary["covered_weight"])
    except (KeyError, TypeError, ValueError) as err:
        raise _not_a_plan(folder, f"holds a summary.json or sites.geojson without {err}") from err
    phases = summary.get("phases") or []
    return PlanRecord(
        label=label or folder.name or str(folder),
        source=str(folder),
        title=str(summary.get("title", "")),
        n_sets=n_sets,
        radius_m=_float(summary.get("radius_m")),
        covered_weight=covered,
        total_weight=total,
        coverage_share=_float(summary.get("coverage_share")),
        existing_weight=_float(summary.get("existing_weight")),
        upper_bound=_float(summary.get("upper_bound")),
        gap=_float(summary.get("gap")),
        proven_optimal=bool(summary.get("proven_optimal", False)),
        owners={str(k): _float(v) for k, v in (summary.get("owners") or {}).items()},
        phase_sizes=tuple(int(p.get("n_sets", 0)) for p in phases),
        curve=_curve(folder, summary, cumulative),
        site_ids=ids,
        lonlat=lonlat,
        districts=_districts(folder),
    )


# --------------------------------------------------------------------------- the comparison


@dataclass(frozen=True)
class MarginalStep:
    """What one plan gains from set ``start`` to set ``end`` along its own curve."""

    label: str
    start: int
    end: int
    weight: float
    share: float
    unit: int = STEP

    @property
    def per_unit_weight(self) -> float:
        """Weight gained per ``unit`` (1,000) sets over this step."""
        return self.weight / (self.end - self.start) * self.unit

    @property
    def per_unit_share(self) -> float:
        """Share (0..1) gained per ``unit`` (1,000) sets over this step."""
        return self.share / (self.end - self.start) * self.unit


@dataclass(frozen=True)
class PairDiff:
    """Plan ``b`` against plan ``a``: extra sets, what they buy, and the sites they share.

    ``per_unit_*`` (per 1,000 extra sets) are NaN when both plans have the same
    number of sets.
    ``same_demand`` is false when the plans' total weights differ (another
    demand surface): their weights are then not comparable, only their shares.
    """

    a: str
    b: str
    extra_sets: int
    extra_weight: float
    extra_share: float
    common: int
    only_a: int
    only_b: int
    same_demand: bool
    unit: int = STEP

    @property
    def per_unit_weight(self) -> float:
        """Weight gained per :attr:`unit` extra sets (NaN without extra sets)."""
        return self.extra_weight / self.extra_sets * self.unit if self.extra_sets else math.nan

    @property
    def per_unit_share(self) -> float:
        """Share gained per :attr:`unit` extra sets (NaN without extra sets)."""
        return self.extra_share / self.extra_sets * self.unit if self.extra_sets else math.nan


@dataclass(frozen=True, eq=False)
class SiteGroup:
    """The sites held by exactly the plans marked in ``members``."""

    members: tuple[bool, ...]
    site_ids: tuple[str, ...]
    lonlat: np.ndarray

    def name(self, labels: Sequence[str]) -> str:
        """``common to both``, ``in all N plans``, ``only in A`` or ``in A and B``."""
        held = [lab for lab, m in zip(labels, self.members, strict=True) if m]
        if len(held) == len(labels):
            return "common to both" if len(labels) == 2 else f"in all {len(labels)} plans"
        if len(held) == 1:
            return f"only in {held[0]}"
        return "in " + ", ".join(held[:-1]) + " and " + held[-1]


@dataclass(frozen=True, eq=False)
class Comparison:
    """Two or more plans compared.

    Attributes
    ----------
    plans
        The plans, in the order given.
    steps
        Each plan's marginal return between consecutive thousands of sets.
    pairs
        Each plan against the one before it.
    groups
        Sites by the set of plans that hold them (common first).
    districts
        Every district name of any plan, in first-seen order.
    unit
        Returns are per this many sets: 1,000, or fewer when every plan is small.
    """

    plans: tuple[PlanRecord, ...]
    steps: tuple[MarginalStep, ...]
    pairs: tuple[PairDiff, ...]
    groups: tuple[SiteGroup, ...]
    districts: tuple[str, ...]
    unit: int = STEP

    @property
    def labels(self) -> tuple[str, ...]:
        """The plans' labels, in order."""
        return tuple(p.label for p in self.plans)

    def district(self, plan: PlanRecord, name: str) -> DistrictRow | None:
        """The row of district ``name`` in ``plan``, or ``None``."""
        for row in plan.districts or ():
            if row.district == name:
                return row
        return None


def too_few_plans(n: int) -> OptionError:
    """The error for a comparison of ``n`` < 2 plans."""
    return OptionError("compare", f"needs at least two plans, got {n}: "
                                  "pass two or more plan folders or scenario files")


def default_unit(max_sets: int) -> int:
    """1,000 sets, or for small plans the 1-2-5 step that cuts them in at most 10 steps."""
    if max_sets >= 2 * STEP:
        return STEP
    return next(u for u in (1, 2, 5, 10, 20, 50, 100, 200, 500, STEP) if max_sets <= 10 * u)


def _steps(plan: PlanRecord, unit: int) -> list[MarginalStep]:
    ends = sorted({*range(0, plan.n_sets, unit), plan.n_sets})
    return [
        MarginalStep(plan.label, a, b, float(plan.curve[b] - plan.curve[a]),
                     plan.share(float(plan.curve[b] - plan.curve[a])), unit)
        for a, b in itertools.pairwise(ends)
    ]


def _pair(a: PlanRecord, b: PlanRecord, unit: int) -> PairDiff:
    ids_a, ids_b = set(a.site_ids), set(b.site_ids)
    return PairDiff(
        a=a.label, b=b.label, extra_sets=b.n_sets - a.n_sets,
        extra_weight=b.covered_weight - a.covered_weight,
        extra_share=b.coverage_share - a.coverage_share,
        common=len(ids_a & ids_b), only_a=len(ids_a - ids_b), only_b=len(ids_b - ids_a),
        same_demand=math.isclose(a.total_weight, b.total_weight, rel_tol=1e-9), unit=unit,
    )


def _groups(plans: Sequence[PlanRecord]) -> list[SiteGroup]:
    where: dict[str, tuple[float, float]] = {}
    for plan in plans:
        for sid, xy in zip(plan.site_ids, plan.lonlat, strict=True):
            where.setdefault(sid, (float(xy[0]), float(xy[1])))
    held = [set(p.site_ids) for p in plans]
    by_members: dict[tuple[bool, ...], list[str]] = {}
    for sid in where:  # first-seen order: rank order of the first plan that holds it
        by_members.setdefault(tuple(sid in h for h in held), []).append(sid)
    order = sorted(by_members, key=lambda m: (-sum(m), [not x for x in m]))
    return [
        SiteGroup(m, tuple(by_members[m]),
                  np.array([where[s] for s in by_members[m]], dtype=float).reshape(-1, 2))
        for m in order
    ]


def compare_plans(plans: Sequence[PlanRecord], *, unit: int | None = None) -> Comparison:
    """Compare two or more plans.

    Parameters
    ----------
    plans
        Plans read with :func:`load_plan`, in the order to show them; each is
        compared with the one before it.
    unit
        Returns are given per this many sets, and each plan's curve is cut in
        steps of this width; default 1,000 (:func:`default_unit` for plans
        under 2,000 sets, where 1,000 would be an extrapolation).

    Raises
    ------
    OptionError
        With fewer than two plans, or two plans of the same label.
    """
    if len(plans) < 2:
        raise too_few_plans(len(plans))
    labels = [p.label for p in plans]
    if len(set(labels)) != len(labels):
        raise OptionError("compare", f"two plans have the same name {labels}: give them "
                                     "folders of different names")
    unit = default_unit(max(p.n_sets for p in plans)) if unit is None else unit
    if unit <= 0:
        raise OptionError("unit", f"must be a positive number of sets, got {unit}")
    names: dict[str, None] = {}
    for plan in plans:
        names.update(dict.fromkeys(r.district for r in plan.districts or ()))
    return Comparison(
        plans=tuple(plans),
        steps=tuple(s for p in plans for s in _steps(p, unit)),
        pairs=tuple(_pair(a, b, unit) for a, b in itertools.pairwise(plans)),
        groups=tuple(_groups(plans)),
        districts=tuple(names),
        unit=unit,
    )
