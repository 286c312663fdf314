"""Coverage quality of every demand point after each rank of a plan, from the run's own matrix.

A plan of the first ``k`` sets of a longer plan (a sweep over sizes) needs the
quality each demand point reaches with those ``k`` sets. That comes from the
coverage matrix the run optimised (disc, sightline or network alike), kept in
:class:`RankQuality`, never from a recomputation with another model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

__all__ = ["RankQuality", "rank_quality"]


@dataclass(frozen=True)
class RankQuality:
    """Per demand point, the quality the existing cameras give it and each rise after it.

    Attributes
    ----------
    base
        Quality from the existing cameras alone, per demand point (the plan's
        demand row order).
    rises
        ``n_demand x n_sets`` sparse matrix, columns in rank order: entry
        ``(i, r)`` is the quality point ``i`` reaches when set ``r + 1`` is
        added, stored only where it rises above what the earlier sets and the
        existing cameras gave. The quality after ``k`` sets is the largest
        entry of the first ``k`` columns, or ``base`` when that is larger.
    """

    base: np.ndarray
    rises: sparse.csc_array

    @property
    def n_sets(self) -> int:
        """Number of sets (columns)."""
        return int(self.rises.shape[1])

    def after(self, sets: int) -> np.ndarray:
        """Quality of every demand point after the first ``sets`` sets (0..n_sets).

        Parameters
        ----------
        sets
            Number of leading sets, in rank order.

        Returns
        -------
        numpy.ndarray
            A new float64 array, one value per demand point.
        """
        if not 0 <= sets <= self.n_sets:
            raise ValueError(f"sets must be in 0..{self.n_sets}, got {sets}")
        best = np.array(self.base, dtype=np.float64)
        end = self.rises.indptr[sets]
        # Within a point's rises quality only grows with rank: the maximum is the last one.
        np.maximum.at(best, self.rises.indices[:end], self.rises.data[:end])
        return best


def rank_quality(
    matrix: sparse.csc_array, baseline: np.ndarray, order: np.ndarray, rows: np.ndarray
) -> RankQuality:
    """The :class:`RankQuality` of the sites ``order`` on a run's coverage matrix.

    Parameters
    ----------
    matrix
        The run's ``n_demand x n_sites`` quality matrix (CSC), rows in the
        solver's order.
    baseline
        Quality from the existing cameras per solver row.
    order
        Chosen site indices (columns of ``matrix``) in rank order.
    rows
        ``rows[i]`` is the plan's demand row of solver row ``i`` (a permutation).

    Returns
    -------
    RankQuality
        In the plan's demand row order; ``after(len(order))`` equals the
        quality the run reports for the whole plan.
    """
    best = np.asarray(baseline, dtype=np.float64).copy()
    indices, data, indptr = [], [], [0]
    for j in np.asarray(order, dtype=np.int64).tolist():
        lo, hi = matrix.indptr[j], matrix.indptr[j + 1]
        points, quality = matrix.indices[lo:hi], matrix.data[lo:hi]
        up = quality > best[points]
        points, quality = points[up], quality[up]
        best[points] = quality
        indices.append(rows[points])
        data.append(quality)
        indptr.append(indptr[-1] + len(points))
    n = len(best)
    base = np.empty(n, dtype=np.float64)
    base[rows] = baseline
    rises = sparse.csc_array(
        (
            np.concatenate(data) if data else np.empty(0),
            np.concatenate(indices) if indices else np.empty(0, dtype=np.int64),
            np.asarray(indptr, dtype=np.int64),
        ),
        shape=(n, len(indptr) - 1),
    )
    return RankQuality(base=base, rises=rises)
