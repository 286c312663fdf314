"""LP relaxations with HiGHS's interior-point method, bounded by iteration counts.

Every bound camplan proves from an LP (the certificate's, the exact stage's, the camera-set
model's) is solved here, so that one budget holds for all of them: ``LP_IPM_ITERATIONS``
interior-point iterations and ``LP_SIMPLEX_ITERATIONS`` simplex iterations after crossover
(which gives the vertex, the reduced costs and the duals). A count, not a clock, decides
whether a bound is found, so that it does not depend on the machine's load; ``time_limit``
stays a safety net, and an LP it stops bounds nothing.

The interior-point method, not dual simplex, because its work grows far more slowly with
these LPs' degeneracy (measured: BDS1000's 10,000 customers, p = 25, 8,315 x 958 after
presolve: 29 iterations and 5.4 s against 32,291 dual-simplex iterations and 30.9 s; the
Hong Kong scenario's 4,000 sets, 38,178 x 30,401: 63 and 6.8 s against 64,745 and 9.1 s).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import sparse

__all__ = ["LP_IPM_ITERATIONS", "LP_SIMPLEX_ITERATIONS", "LPSolution", "lp_support", "solve_lp"]

logger = logging.getLogger(__name__)

#: Interior-point iterations an LP may take (the instances measured need 11 to 63).
LP_IPM_ITERATIONS = 400
#: Simplex iterations HiGHS may spend cleaning up after crossover.
LP_SIMPLEX_ITERATIONS = 200_000


@dataclass(frozen=True)
class LPSolution:
    """An LP optimum: objective, values, and reduced costs at the lower and upper bounds."""

    fun: float
    x: np.ndarray
    low: np.ndarray  # >= 0
    up: np.ndarray  # <= 0


def solve_lp(
    objective: np.ndarray,
    a_ub: sparse.csr_array,
    b_ub: np.ndarray,
    bounds: tuple[np.ndarray | float, np.ndarray | float],
    time_limit: float,
) -> tuple[LPSolution | None, str]:
    """Minimise ``objective @ x`` with ``a_ub @ x <= b_ub`` and ``bounds`` on ``x``.

    Returns the optimum (``None`` when HiGHS did not prove one within the iteration
    counts or the safety net) and HiGHS's message.
    """
    from scipy import optimize

    n = len(objective)
    lower = np.broadcast_to(np.asarray(bounds[0], dtype=np.float64), (n,))
    upper = np.broadcast_to(np.asarray(bounds[1], dtype=np.float64), (n,))
    options = {
        "time_limit": float(time_limit),
        "disp": False,
        "ipm_iteration_limit": LP_IPM_ITERATIONS,
        "simplex_iteration_limit": LP_SIMPLEX_ITERATIONS,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optimize.OptimizeWarning)  # "passed to HiGHS verbatim"
        res = optimize.linprog(
            objective,
            A_ub=a_ub,
            b_ub=b_ub,
            bounds=np.column_stack([lower, upper]),
            method="highs-ipm",
            options=options,
        )
    message = str(res.message)
    if res.status != 0 or res.x is None:
        if "time limit" in message.lower():
            logger.warning("HiGHS's LP stopped by time_limit (%g s) before its iteration "
                           "count: it bounds nothing; raise time_limit", time_limit)  # fmt: skip
        else:
            logger.info("HiGHS's LP stopped: %s", message)
        return None, message
    low = np.asarray(res.lower.marginals, dtype=np.float64)
    up = np.asarray(res.upper.marginals, dtype=np.float64)
    return LPSolution(float(res.fun), np.asarray(res.x, dtype=np.float64), low, up), message


def lp_support(x: np.ndarray, columns: np.ndarray, eps: float) -> tuple[int, ...]:
    """``columns`` whose LP value ``x`` is above ``eps``, largest first (ties: lower index)."""
    positive = np.flatnonzero(x > eps)
    ranked = positive[np.lexsort((positive, -x[positive]))]
    return tuple(columns[ranked].tolist())
