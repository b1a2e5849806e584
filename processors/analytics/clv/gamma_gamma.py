"""The Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"; Fader & Hardie's
note "The Gamma-Gamma Model of Monetary Value"): a transaction's value is Gamma(p, ν) with
ν ~ Gamma(q, γ) across customers, independent of how often they buy. Fitted on the repeat
buyers' mean repeat spend; gives each customer's expected spend per transaction."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

from processors.analytics.clv.fitting import FitError, maximise

MIN_REPEAT_BUYERS = 10


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    v: float


def log_likelihood(params: GammaGamma, x: np.ndarray, monetary: np.ndarray) -> float:
    """Sum over repeat buyers of the log density of their mean spend m_x given x."""
    p, q, v = params.p, params.q, params.v
    px = p * x
    each = (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v)
            + (px - 1) * np.log(monetary) + px * np.log(x) - (px + q) * np.log(v + x * monetary))
    return float(np.sum(each))


def fit(x: np.ndarray, monetary: np.ndarray) -> tuple[GammaGamma, float]:
    """The maximum-likelihood (p, q, v) over repeat buyers with a positive, finite mean."""
    usable = (x > 0) & np.isfinite(monetary) & (monetary > 0)
    x, monetary = x[usable], monetary[usable]
    if x.size < MIN_REPEAT_BUYERS:
        raise FitError(f"Gamma-Gamma needs at least {MIN_REPEAT_BUYERS} repeat buyers with a positive spend, there are {x.size}")
    start = np.log([1.0, 1.0, max(float(np.mean(monetary)), 1e-6)])
    best = maximise(lambda params: log_likelihood(GammaGamma(*params), x, monetary), start, "Gamma-Gamma")
    fitted = GammaGamma(*best.params)
    if fitted.q <= 1:
        raise FitError(f"Gamma-Gamma gives q = {fitted.q:.3f} ≤ 1: the expected spend has no finite mean")
    return fitted, best.log_likelihood


def expected_spend(params: GammaGamma, x: np.ndarray, monetary: np.ndarray) -> np.ndarray:
    """E[M | x, m_x] = p (ν + x m_x) / (p x + q - 1): the population mean p ν / (q - 1) for a
    customer without a usable repeat spend, moving toward their own mean as x grows."""
    p, q, v = params.p, params.q, params.v
    known = (x > 0) & np.isfinite(monetary) & (monetary > 0)
    x = np.where(known, x, 0.0)
    m = np.where(known, monetary, 0.0)
    return p * (v + x * m) / (p * x + q - 1)
