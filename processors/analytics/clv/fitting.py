"""Maximum likelihood on log-parameters, shared by both models: every parameter is positive,
so the optimiser searches their logarithms within bounds that keep the likelihoods finite,
with L-BFGS-B first and Nelder-Mead from its answer when L-BFGS-B stops short of a minimum."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

# exp(±15): from 3e-7 to 3.3 million, far beyond any published fit in days.
LOG_BOUND = 15.0


class FitError(ValueError):
    """The data cannot be fitted: too few customers, or no finite maximum of the likelihood."""


@dataclass(frozen=True)
class Maximum:
    params: tuple[float, ...]
    log_likelihood: float


def maximise(log_likelihood: Callable[[np.ndarray], float], start: np.ndarray, what: str) -> Maximum:
    """The parameters (not their logs) that maximise `log_likelihood(params)`."""

    def objective(logs: np.ndarray) -> float:
        value = log_likelihood(np.exp(logs))
        return -value if np.isfinite(value) else np.inf

    bounds = [(-LOG_BOUND, LOG_BOUND)] * start.size
    best = minimize(objective, start, method="L-BFGS-B", bounds=bounds)
    if not best.success or not np.isfinite(best.fun):
        polished = minimize(objective, best.x if np.isfinite(best.fun) else start, method="Nelder-Mead",
                            bounds=bounds, options={"maxiter": 20_000, "xatol": 1e-8, "fatol": 1e-10})
        if np.isfinite(polished.fun) and polished.fun <= best.fun:
            best = polished
    if not np.isfinite(best.fun):
        raise FitError(f"the {what} likelihood has no finite maximum on these customers")
    return Maximum(tuple(float(v) for v in np.exp(best.x)), float(-best.fun))
