"""Marginal gains on a :class:`~planner.coverage.CoverageProblem`, vectorised.

The gain of site ``j`` given per-point qualities ``best`` is
``sum_i w_i * max(0, q_ij - best_i)`` over the points ``i`` that ``j`` sees.
"""

from __future__ import annotations

import numpy as np

from planner.solver.problem import CoverageProblem

__all__ = ["all_gains", "column_gain", "gather", "segment_sums"]


def column_gain(problem: CoverageProblem, j: int, best: np.ndarray) -> float:
    """Exact marginal gain of one site (fixed summation order: deterministic)."""
    csc = problem.csc
    lo, hi = csc.indptr[j], csc.indptr[j + 1]
    rows = csc.indices[lo:hi]
    lift = csc.data[lo:hi] - best[rows]
    np.maximum(lift, 0.0, out=lift)
    return float(np.dot(problem.weights[rows], lift))


def all_gains(problem: CoverageProblem, best: np.ndarray) -> np.ndarray:
    """Marginal gains of every site at once: one pass over the non-zeros."""
    if problem.binary:
        # Qualities are 1 and best is 0 or 1: the gain is the weight left uncovered.
        gains: np.ndarray = problem.by_site @ (problem.weights * (1.0 - best))
        return gains
    csc = problem.csc
    rows = csc.indices
    contrib = problem.weights[rows] * np.maximum(csc.data - best[rows], 0.0)
    return np.bincount(problem.entry_columns, weights=contrib, minlength=csc.shape[1])


def gather(indptr: np.ndarray, which: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the stored entries of the slices ``which`` of a compressed matrix.

    Returns
    -------
    positions
        Index into ``indices``/``data`` of every entry, slice after slice.
    owner
        For every entry, the position in ``which`` of the slice it belongs to.
    """
    which = np.asarray(which, dtype=np.int64)
    starts = indptr[which].astype(np.int64)
    lengths = indptr[which + 1].astype(np.int64) - starts
    total = int(lengths.sum())
    owner = np.repeat(np.arange(len(which)), lengths)
    offsets = np.cumsum(lengths) - lengths
    positions = np.arange(total, dtype=np.int64) - np.repeat(offsets, lengths)
    positions += np.repeat(starts, lengths)
    return positions, owner


def segment_sums(values: np.ndarray, owner: np.ndarray, n_segments: int) -> np.ndarray:
    """Sum ``values`` per segment ``owner`` (0..n_segments-1)."""
    return np.bincount(owner, weights=values, minlength=n_segments)
