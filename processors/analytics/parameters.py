"""A site's analytics parameters (`[sites.analytics]`): the knobs of the built-in segments,
of lifetime value and of funnel lateness. Apart from the site configuration so that the
segments that use them and the configuration that holds them both depend on this alone."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from processors.analytics.clv.value import Horizon


class Parameters(BaseModel):
    """The knobs of the built-in segments, lifetime value and funnel lateness."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    builtin_segments: bool = True
    # A cart (Product Added, Checkout Started) with no purchase after it for this long is
    # abandoned; 4 hours is a common first reminder delay.
    cart_abandonment_hours: float = Field(default=4.0, gt=0)
    at_risk_days: float = Field(default=30.0, gt=0)
    churn_days: float = Field(default=90.0, gt=0)
    high_value_revenue: float = Field(default=500.0, ge=0)
    engaged_seconds: float = Field(default=120.0, ge=0)
    deep_scroll_pct: float = Field(default=75.0, ge=0, le=100)
    # Predicted lifetime value: the purchases of this many months ahead, each month's
    # value discounted at this rate (1 % a month is about 12.7 % a year).
    clv_horizon_months: int = Field(default=12, ge=1, le=120)
    clv_monthly_discount: float = Field(default=0.01, ge=0, le=1)
    # How late (behind the visitor's newest event) an event may be and still be placed
    # exactly in the visitor's funnels; see processors.analytics.funnels.
    funnel_lateness_hours: float = Field(default=7 * 24.0, ge=0)

    @model_validator(mode="after")
    def _churn_after_risk(self) -> Parameters:
        if self.churn_days <= self.at_risk_days:
            raise ValueError(f"churn_days ({self.churn_days}) must be greater than at_risk_days ({self.at_risk_days})")
        return self

    @property
    def clv_horizon(self) -> Horizon:
        return Horizon(months=self.clv_horizon_months, monthly_discount=self.clv_monthly_discount)
