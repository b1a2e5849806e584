"""A fit of a site's customer lifetime value models, as footfall.clv_models carries it: what
`footfall clv fit` and the refit timer publish, the sink stores as a row and the workers
apply. Every parameter must be a positive, finite number, so a record that is not one is
refused where it is read, and never reaches a customer's figures."""

from __future__ import annotations

import math
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator

from schemas.names import NAME_PATTERN

PARAMETERS = ("r", "alpha", "a", "b", "p", "q", "v")
# 2299-12-31, the last day ClickHouse's DateTime64 stores: a fit "from the future" beyond
# it would be kept by every worker as the latest for ever.
LATEST_MS = 10_413_791_999_999


class ClvFit(BaseModel):
    """BG/NBD (r, alpha in days, a, b) and Gamma-Gamma (p, q, v) for one site, fitted at
    `fitted_at_ms` on the purchases up to and including `calibration_end`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    site_id: str = Field(pattern=NAME_PATTERN)
    fitted_at_ms: int = Field(ge=0, le=LATEST_MS)
    calibration_end: date
    customers: int = Field(ge=1, le=2**32 - 1)
    r: float = Field(gt=0)
    alpha: float = Field(gt=0)
    a: float = Field(gt=0)
    b: float = Field(gt=0)
    p: float = Field(gt=0)
    q: float = Field(gt=1)  # the expected spend has a finite mean only for q > 1
    v: float = Field(gt=0)
    log_likelihood: float = Field(le=0)

    @field_validator(*PARAMETERS, "log_likelihood")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    @property
    def key(self) -> bytes:
        """One record kept per site by compaction: its latest fit."""
        return self.site_id.encode()
