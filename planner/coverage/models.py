"""Coverage models: how a camera set's reach is measured.

A coverage model turns demand points and candidate sites (shapely points in
a projected CRS, metres) into the sparse ``n_demand x n_sites`` quality
matrix of :func:`planner.coverage.coverage_matrix`, and draws the footprint
of a set for the map. Three models:

* :class:`DiscModel` — straight-line reach (the default);
* :class:`planner.sightline.SightlineModel` — as the disc, but only where the
  line of sight crosses no building;
* :class:`planner.network.NetworkModel` — walking distance along the street graph.

:func:`planner.api.plan_sites` takes any of them through its ``coverage`` argument.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

import numpy as np
import shapely
from scipy import sparse

from planner.coverage.disc import DecayBands, coverage_matrix

__all__ = ["MODELS", "CoverageModel", "DiscModel", "ModelName"]

ModelName = Literal["disc", "sightline", "network"]
MODELS: tuple[str, ...] = ("disc", "sightline", "network")


@runtime_checkable
class CoverageModel(Protocol):
    """What :func:`planner.api.plan_sites` needs of a coverage model."""

    name: str

    def matrix(
        self, demand: np.ndarray, sites: np.ndarray, radius_m: float, *,
        bands: DecayBands | None = None,
    ) -> sparse.csc_array:
        """``n x m`` coverage qualities in (0, 1] of ``sites`` over ``demand`` (shapely points)."""
        ...

    def footprints(self, sites: np.ndarray, radius_m: float) -> np.ndarray:
        """One polygon per site: the area it watches (for the map)."""
        ...


@dataclass(frozen=True)
class DiscModel:
    """Straight-line reach: a site covers every point within ``radius_m`` metres."""

    name: str = "disc"

    def matrix(
        self, demand: np.ndarray, sites: np.ndarray, radius_m: float, *,
        bands: DecayBands | None = None,
    ) -> sparse.csc_array:
        """Qualities of every site within ``radius_m`` of every demand point."""
        return coverage_matrix(demand, sites, radius_m, bands=bands)

    def footprints(self, sites: np.ndarray, radius_m: float) -> np.ndarray:
        """A disc of ``radius_m`` around each site."""
        return shapely.buffer(np.asarray(sites), radius_m, quad_segs=16)
