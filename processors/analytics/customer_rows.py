"""A customer's current row (purchases, RFM, lifetime value, latest survey answers), keyed by
customer id and rewritten whenever the profile, the site's RFM boundaries or its lifetime
value models change."""

from __future__ import annotations

from dataclasses import dataclass

from processors.analytics import rfm
from processors.analytics.clv import summary
from processors.analytics.clv.value import Fitted, Horizon, Prediction, predict
from processors.analytics.profiles import CustomerProfile
from processors.analytics.surveys import Answer, nps_category


@dataclass(frozen=True)
class CustomerRow:
    """One customer's figures, as the `customers` table stores them."""

    site_id: str
    customer_id: str
    anonymous_id: str
    user_id: str
    purchases: int
    revenue: float
    aov: float | None
    first_purchase_ms: int | None
    last_purchase_ms: int | None
    recency_days: float | None
    r_score: int | None
    f_score: int | None
    m_score: int | None
    rfm_segment: str | None
    clv_historical: float
    # From the site's latest fit (processors.analytics.clv); None before its first fit, for
    # a visitor who never bought, and where the model gives no finite figure.
    clv_predicted: float | None
    p_alive: float | None
    expected_purchases_90d: float | None
    expected_purchases_365d: float | None
    nps: int | None
    nps_category: str | None
    csat: int | None
    ces: int | None
    # When the latest answer of each survey was given.
    nps_ms: int | None
    csat_ms: int | None
    ces_ms: int | None
    updated_ms: int


def _score(answer: Answer | None) -> int | None:
    return answer.score if answer else None


def _answered_ms(answer: Answer | None) -> int | None:
    return answer.ts_ms if answer else None


NO_PREDICTION = Prediction(None, None, None, None)


def prediction(profile: CustomerProfile, now_ms: int, fitted: Fitted | None, horizon: Horizon) -> Prediction:
    """The customer's figures with their calibration ending today (by the evaluation clock)."""
    if fitted is None:
        return NO_PREDICTION
    calibrated = summary.from_daily(profile.purchase_days, summary.day_of_ms(now_ms))
    return NO_PREDICTION if calibrated is None else predict(fitted, calibrated, horizon)


def customer_row(
    profile: CustomerProfile, bounds: rfm.Boundaries | None, now_ms: int, fitted: Fitted | None, horizon: Horizon
) -> CustomerRow:
    scores = rfm.scores(profile, bounds)
    predicted = prediction(profile, now_ms, fitted, horizon)
    nps, csat, ces = (profile.surveys.get(name) for name in ("nps", "csat", "ces"))
    return CustomerRow(
        site_id=profile.site_id,
        customer_id=profile.customer_id,
        anonymous_id=profile.visitor,
        user_id=profile.user_id or "",
        purchases=profile.purchases,
        revenue=profile.revenue,
        aov=rfm.aov(profile),
        first_purchase_ms=profile.first_purchase_ms,
        last_purchase_ms=profile.last_purchase_ms,
        recency_days=rfm.recency_days(profile, now_ms),
        r_score=scores.r if scores else None,
        f_score=scores.f if scores else None,
        m_score=scores.m if scores else None,
        rfm_segment=scores.group if scores else None,
        clv_historical=profile.revenue,
        clv_predicted=predicted.clv,
        p_alive=predicted.p_alive,
        expected_purchases_90d=predicted.expected_purchases_90d,
        expected_purchases_365d=predicted.expected_purchases_365d,
        nps=_score(nps),
        nps_category=nps_category(nps.score) if nps else None,
        csat=_score(csat),
        ces=_score(ces),
        nps_ms=_answered_ms(nps),
        csat_ms=_answered_ms(csat),
        ces_ms=_answered_ms(ces),
        updated_ms=now_ms,
    )
