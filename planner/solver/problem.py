"""A weighted maximal-coverage instance on a sparse quality matrix: what the solver works on.

The solver (this package) sees only matrices and arrays: no geometry, no geopandas.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from geodata.errors import OptionError

__all__ = ["CoverageProblem"]


@dataclass(frozen=True)
class CoverageProblem:
    """A weighted maximal-coverage instance on a sparse quality matrix.

    Attributes
    ----------
    csc
        ``n x m`` coverage qualities by site (column) — for greedy gains.
    csr
        The same matrix by demand point (row) — for local search.
    weights
        Demand weights ``w_i >= 0``.
    baseline
        Quality each demand point already has from existing cameras (0..1).
    """

    csc: sparse.csc_array
    csr: sparse.csr_array
    weights: np.ndarray
    baseline: np.ndarray

    @classmethod
    def from_matrix(
        cls,
        matrix: sparse.sparray | sparse.spmatrix | np.ndarray,
        weights: np.ndarray,
        *,
        baseline: np.ndarray | None = None,
    ) -> CoverageProblem:
        """Build a problem from any ``n x m`` matrix of qualities in [0, 1]."""
        csc = sparse.csc_array(matrix, dtype=np.float64)
        csc.eliminate_zeros()
        csc.sum_duplicates()
        csc.sort_indices()
        n, _ = csc.shape
        w = np.ascontiguousarray(weights, dtype=np.float64)
        if w.shape != (n,):
            raise OptionError("weights", f"expected {n} weights, got {w.shape[0]}")
        if csc.nnz and (csc.data.max() > 1.0 or csc.data.min() < 0.0):
            raise OptionError("coverage", "coverage qualities must lie in [0, 1]")
        base = np.zeros(n) if baseline is None else np.asarray(baseline, dtype=np.float64)
        if base.shape != (n,):
            raise OptionError("baseline", f"expected {n} qualities, got shape {base.shape}")
        csr = sparse.csr_array(csc)
        csr.sort_indices()
        return cls(csc=csc, csr=csr, weights=w, baseline=base)

    @functools.cached_property
    def entry_columns(self) -> np.ndarray:
        """Column (site) of every stored entry of :attr:`csc`, in storage order."""
        return np.repeat(np.arange(self.csc.shape[1]), np.diff(self.csc.indptr))

    @functools.cached_property
    def by_site(self) -> sparse.csr_array:
        """The transpose (sites x demand), for column sums as one sparse product."""
        return sparse.csr_array(self.csc.T)

    @property
    def n_demand(self) -> int:
        """Number of demand points (rows)."""
        return int(self.csc.shape[0])

    @property
    def n_sites(self) -> int:
        """Number of candidate sites (columns)."""
        return int(self.csc.shape[1])

    @functools.cached_property
    def binary(self) -> bool:
        """True when every quality is 1 (plain coverage, no distance decay)."""
        return bool(np.all(self.csc.data == 1.0)) and bool(
            np.all((self.baseline == 0.0) | (self.baseline == 1.0))
        )

    def value(self, best: np.ndarray) -> float:
        """Covered weight ``sum_i w_i * best_i`` for per-point qualities ``best``."""
        # A pairwise sum, not BLAS: deterministic and free of thread start-up costs.
        return float(np.sum(self.weights * best))

    def best_quality(self, chosen: np.ndarray) -> np.ndarray:
        """Per-point quality reached by the baseline and the ``chosen`` columns."""
        best = self.baseline.copy()
        for j in np.asarray(chosen, dtype=np.int64):
            lo, hi = self.csc.indptr[j], self.csc.indptr[j + 1]
            rows = self.csc.indices[lo:hi]
            np.maximum.at(best, rows, self.csc.data[lo:hi])
        return best
