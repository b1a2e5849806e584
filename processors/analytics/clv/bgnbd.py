"""The BG/NBD model of Fader, Hardie & Lee (2005), "Counting your customers the easy way":
while alive a customer buys as a Poisson process of rate λ ~ Gamma(r, α); after each purchase
they drop out with probability p ~ Beta(a, b). Its likelihood (their equation 6), P(alive)
(eq. 12) and the expected purchases of the next t days (eq. 10), with time in days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln, hyp2f1

from processors.analytics.clv.fitting import FitError, maximise

MIN_CUSTOMERS = 10


@dataclass(frozen=True)
class BgNbd:
    r: float
    alpha: float  # in days
    a: float
    b: float


def log_likelihood_each(params: BgNbd, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Each customer's log-likelihood; the second term of equation 6 only for x > 0."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    common = (gammaln(r + x) - gammaln(r) + r * np.log(alpha)
              + gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x))
    still = -(r + x) * np.log(alpha + T)
    repeat = x > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        dropped = np.where(repeat, np.log(a) - np.log(np.where(repeat, b + x - 1, 1.0)) - (r + x) * np.log(alpha + t_x), -np.inf)
    return common + np.logaddexp(still, dropped)


def log_likelihood(params: BgNbd, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, weights: np.ndarray | None = None) -> float:
    each = log_likelihood_each(params, x, t_x, T)
    return float(np.sum(each if weights is None else each * weights))


def fit(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> tuple[BgNbd, float]:
    """The maximum-likelihood parameters and the log-likelihood there. Customers with the
    same (x, t_x, T) count once with a weight: whole days repeat a lot."""
    if x.size < MIN_CUSTOMERS:
        raise FitError(f"BG/NBD needs at least {MIN_CUSTOMERS} customers, there are {x.size}")
    if not np.any(x > 0):
        raise FitError("BG/NBD needs repeat purchases, and no customer bought on a second day")
    if np.all(T == 0):
        raise FitError("every customer was born on the calibration's last day: nothing to learn from")
    rows, weights = np.unique(np.column_stack([x, t_x, T]), axis=0, return_counts=True)
    ux, ut, uT = rows.T
    start = np.log([1.0, max(float(np.mean(T)), 1.0) / 4, 1.0, 1.0])
    best = maximise(lambda p: log_likelihood(BgNbd(*p), ux, ut, uT, weights), start, "BG/NBD")
    return BgNbd(*best.params), best.log_likelihood


def p_alive(params: BgNbd, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """P(alive | x, t_x, T): 1 for a customer with no repeat purchase (in this model one
    drops out only at a purchase)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_ratio = np.log(a) - np.log(b + x - 1) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        alive = np.where(x > 0, 1.0 / (1.0 + np.exp(np.where(x > 0, log_ratio, 0.0))), 1.0)
    return alive


def expected_purchases(params: BgNbd, t: float | np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """E[Y(t) | x, t_x, T]: the purchases expected in the t days after the calibration
    (equation 10), t broadcast against the customers; 0 for t ≤ 0, NaN where the
    hypergeometric function cannot be evaluated."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    t = np.maximum(np.asarray(t, dtype=float), 0.0)
    with np.errstate(all="ignore"):
        z = t / (alpha + T + t)
        hyp = hyp2f1(r + x, b + x, a + b + x - 1, z)
        grown = 1.0 - np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t))) * hyp
        expected = (a + b + x - 1) / (a - 1) * grown * p_alive(params, x, t_x, T)
    return np.where(np.isfinite(expected), np.maximum(expected, 0.0), np.nan)
