"""The demand surface: where people are and crime happens, as weighted points.

Crime intensity is a kernel density of incidents; footfall is measured,
areal-weighted or modelled (street betweenness); the two are normalised and
combined, by default as their product (places both high-crime and busy).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Literal

import numpy as np
import shapely

from geodata.errors import OptionError

__all__ = ["combine", "kernel_density", "normalise", "sum_near"]

logger = logging.getLogger(__name__)

Rule = Literal["product", "sum"]


def kernel_density(
    points: np.ndarray,
    incidents: np.ndarray,
    *,
    bandwidth_m: float,
    weights: np.ndarray | None = None,
    cutoff: float = 3.0,
) -> np.ndarray:
    """Gaussian kernel density of ``incidents`` at ``points`` (per square metre).

    Parameters
    ----------
    points, incidents
        Shapely points in a projected CRS (metres).
    bandwidth_m
        Kernel standard deviation, metres.
    weights
        Weight of each incident (a severity), default 1.
    cutoff
        Incidents farther than ``cutoff * bandwidth_m`` are ignored (sparse sum).
    """
    if not np.isfinite(bandwidth_m) or bandwidth_m <= 0:
        raise OptionError("bandwidth", f"must be a positive number of metres, got {bandwidth_m}")
    pxy, ixy = shapely.get_coordinates(points), shapely.get_coordinates(incidents)

    def kernel(p_idx: np.ndarray, i_idx: np.ndarray) -> np.ndarray:
        d2 = np.sum((pxy[p_idx] - ixy[i_idx]) ** 2, axis=1)
        return np.exp(-0.5 * d2 / bandwidth_m**2) / (2 * np.pi * bandwidth_m**2)

    return sum_near(points, incidents, kernel, reach_m=cutoff * bandwidth_m, weights=weights)


def sum_near(
    points: np.ndarray,
    sources: np.ndarray,
    kernel: Callable[[np.ndarray, np.ndarray], np.ndarray],
    *,
    reach_m: float,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """``sum_k w_k * kernel(i, k)`` at every point ``i``, over the sources within ``reach_m``.

    ``kernel`` takes the point and source indices of every pair within reach (one
    STRtree query: a sparse sum, never points x sources).
    """
    n = len(points)
    if n == 0 or len(sources) == 0:
        return np.zeros(n)
    w = np.ones(len(sources)) if weights is None else np.asarray(weights, dtype=np.float64)
    p_idx, s_idx = shapely.STRtree(sources).query(points, predicate="dwithin", distance=reach_m)
    return np.bincount(p_idx, weights=kernel(p_idx, s_idx) * w[s_idx], minlength=n)


def normalise(values: np.ndarray) -> np.ndarray:
    """Scale to [0, 1] by the maximum (all zeros stay zeros)."""
    values = np.asarray(values, dtype=np.float64)
    top = values.max() if values.size else 0.0
    return values / top if top > 0 else np.zeros_like(values)


def combine(
    crime: np.ndarray,
    footfall: np.ndarray,
    *,
    rule: Rule = "product",
    crime_exponent: float = 1.0,
    footfall_exponent: float = 1.0,
    crime_share: float = 0.5,
) -> np.ndarray:
    """Demand weight from crime and footfall, each normalised to [0, 1] first.

    ``product``: ``crime**a * footfall**b`` — high only where both are high.
    ``sum``: ``s * crime**a + (1 - s) * footfall**b``.
    """
    c = normalise(crime) ** crime_exponent
    f = normalise(footfall) ** footfall_exponent
    if rule == "product":
        return c * f
    if rule == "sum":
        if not 0 <= crime_share <= 1:
            raise OptionError("crime_share", f"must lie in [0, 1], got {crime_share}")
        return crime_share * c + (1 - crime_share) * f
    raise OptionError("--rule", f"unknown combination rule {rule!r}: use 'product' or 'sum'")
