"""The plan: an immutable result of one optimisation run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np

from planner.plan.ranks import RankQuality
from planner.solver.presolve import PresolveReport

__all__ = ["Certificate", "PhaseResult", "Plan"]


@dataclass(frozen=True)
class Certificate:
    """A proof of how good a plan is.

    Attributes
    ----------
    upper_bound
        No plan with the same budget (and the same fixed sites) covers more weight.
    gap
        ``(upper_bound - covered_weight) / upper_bound``; 0 when the plan is optimal.
    method
        How the bound was obtained: ``"online-submodular"`` (Nemhauser-Wolsey-Fisher
        online bound from the greedy run), ``"lp-relaxation"`` (HiGHS), or ``"mip"``
        (HiGHS branch and bound, its dual bound).
    proven_optimal
        True only when the gap is zero within the solver tolerance.
    """

    upper_bound: float
    gap: float
    method: str
    proven_optimal: bool


@dataclass(frozen=True)
class PhaseResult:
    """Coverage after one phase of the roll-out (cumulative over earlier phases)."""

    phase: int
    n_sets: int
    cumulative_sets: int
    covered_weight: float
    coverage_share: float
    greedy_weight: float
    """What plain greedy (no local search) covers with the same cumulative number of sets."""
    upper_bound: float
    """An upper bound on any plan with ``cumulative_sets`` new sets."""
    bound_method: str = "online-submodular"
    """How :attr:`upper_bound` was obtained (see :attr:`Certificate.method`)."""


@dataclass(frozen=True)
class Plan:
    """An immutable camera placement plan.

    All geometry is in the working metric CRS (:attr:`crs`); :mod:`maps`
    reprojects to EPSG:4326 at the output boundary only.

    Attributes
    ----------
    sites
        The chosen camera sets in rank order. Columns: ``site_id``, ``rank``
        (1-based), ``phase`` (1-based), ``marginal_weight``, ``cumulative_weight``,
        ``cumulative_share``, then the site's own attributes, then ``geometry``.
    demand
        Demand points: ``weight``, ``covered`` (coverage quality 0..1 reached by
        the plan together with existing cameras), ``geometry``; plus any input
        attributes (``crime``, ``footfall`` when modelled).
    footprints
        One polygon per chosen set: the area it watches (``site_id``, ``rank``,
        ``phase``, ``geometry``).
    existing
        Existing camera sets (``owner``, ``geometry``) or ``None``.
    districts
        Per-district coverage (``district``, ``sets``, ``covered_weight``,
        ``total_weight``, ``covered_share``, ``population``,
        ``sets_per_1000``, ``geometry``) or ``None`` when no districts were given.
    exclusions
        Privacy exclusion zones or ``None``.
    total_weight
        Sum of all demand weights.
    covered_weight
        Weight covered by the chosen and existing sets together, computed exactly.
    existing_weight
        Weight covered by the existing sets alone.
    owners
        Weight covered by each owner's existing sets alone, by owner.
    curve
        ``curve[k]`` is the weight covered after the first ``k`` new sets
        (``curve[0] == existing_weight``).
    phases
        Coverage after each phase.
    certificate
        The upper bound and gap for the whole plan.
    radius_m
        The reach of one camera set, in metres.
    parameters
        Every parameter of the run, JSON-serialisable.
    inputs
        Fingerprints (``sha256:...``) of every input file, by role.
    timings
        Seconds spent in each stage; the only part of a plan that differs between runs.
    presolve
        How much presolve shrank the instance before the solver ran (``None``: it did not run).
    crs
        The working CRS (projected, metres), as ``"EPSG:xxxx"`` or WKT.
    rank_quality
        Each demand point's coverage quality after each rank, from the run's
        own coverage matrix (any coverage model): what a plan of the first
        phases of this one covers (:func:`maps.compare.sweep.plan_prefix`).
        ``None`` when the plan was not built by the optimiser.
    """

    sites: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    footprints: gpd.GeoDataFrame
    total_weight: float
    covered_weight: float
    curve: np.ndarray
    phases: tuple[PhaseResult, ...]
    certificate: Certificate
    radius_m: float
    crs: str
    existing: gpd.GeoDataFrame | None = None
    districts: gpd.GeoDataFrame | None = None
    exclusions: gpd.GeoDataFrame | None = None
    existing_weight: float = 0.0
    owners: Mapping[str, float] = field(default_factory=dict)
    parameters: Mapping[str, Any] = field(default_factory=dict)
    inputs: Mapping[str, str] = field(default_factory=dict)
    timings: Mapping[str, float] = field(default_factory=dict)
    title: str = "camplan plan"
    rank_quality: RankQuality | None = field(default=None, compare=False, repr=False)
    presolve: PresolveReport | None = None

    @property
    def n_sets(self) -> int:
        """Number of new camera sets in the plan."""
        return len(self.sites)

    @property
    def coverage_share(self) -> float:
        """Covered weight as a share of the total weight (0..1)."""
        return self.covered_weight / self.total_weight if self.total_weight > 0 else 0.0
