"""What a fit says of one customer: P(alive), the purchases expected over the next 90 and
365 days, and the discounted value of the next months' purchases.

The lifetime value is the expected spend per transaction (Gamma-Gamma) times the purchases
expected in each month (BG/NBD, the increase of E[Y(t)] over the month), each month's value
discounted at the monthly rate: Σ_m E[M] · (E[Y(m·L)] − E[Y((m−1)·L)]) / (1 + d)^m, with L a
twelfth of a year in days.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from processors.analytics.clv.bgnbd import BgNbd, expected_purchases, p_alive
from processors.analytics.clv.gamma_gamma import GammaGamma, expected_spend
from processors.analytics.clv.summary import Customer

MONTH_DAYS = 365.25 / 12
SHORT_DAYS, YEAR_DAYS = 90.0, 365.0


@dataclass(frozen=True)
class Horizon:
    """How far ahead the value looks, and how it is discounted."""

    months: int = 12
    monthly_discount: float = 0.01


@dataclass(frozen=True)
class Fitted:
    """One site's fitted models."""

    purchases: BgNbd
    spend: GammaGamma


@dataclass(frozen=True)
class Prediction:
    """A figure is None where the model cannot evaluate it for this customer."""

    p_alive: float | None
    expected_purchases_90d: float | None
    expected_purchases_365d: float | None
    clv: float | None


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


# A buyer's row is rewritten with every batch that touches them, while their figures change
# only with a purchase day, a new calibration day, a new fit or horizon: all four are the
# (frozen, hashable) arguments, so a batch's repeat asks cost a lookup, not an evaluation.
@functools.lru_cache(maxsize=65_536)
def predict(fitted: Fitted, customer: Customer, horizon: Horizon) -> Prediction:
    """One customer's figures, every horizon in one evaluation."""
    x, t_x, T = (np.array([float(value)]) for value in (customer.x, customer.t_x, customer.T))
    months = np.arange(1, horizon.months + 1) * MONTH_DAYS
    expected = expected_purchases(fitted.purchases, np.concatenate([[SHORT_DAYS, YEAR_DAYS], months]), x, t_x, T)
    per_month = np.diff(expected[2:], prepend=0.0)
    monetary = np.array([np.nan if customer.monetary is None else customer.monetary])
    spend = float(expected_spend(fitted.spend, x, monetary)[0])
    discount = (1.0 + horizon.monthly_discount) ** np.arange(1, horizon.months + 1)
    alive = float(p_alive(fitted.purchases, x, t_x, T)[0])
    return Prediction(_finite(alive), _finite(float(expected[0])), _finite(float(expected[1])), _finite(float(np.sum(spend * per_month / discount))))
