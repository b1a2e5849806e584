"""RFM scores and groups, average order value and customer lifetime value.

Scoring method: quintiles over the site's purchasers. Each of recency, frequency and
monetary is scored 1-5 by where a customer falls among the site's customers who bought at
least once: the 20th, 40th, 60th and 80th percentiles are the cut points, and a score is
1 plus the number of cut points the customer's value is above. Quintiles rather than
fixed thresholds because they need no tuning per site and mean the same everywhere
("top fifth"), which is what the named groups assume; fixed thresholds would have every
site guess its own order sizes and cadence. The price is that scores are relative: the cut
points are computed from the whole population (`boundaries`, a periodic job over the
customers), and each customer is then scored against them (`scores`, per event).

- Recency is measured by the time of the last purchase, not by "days since", so the cut
  points do not move as the clock does: ranking by last purchase time is ranking by days
  since it at any moment. A more recent purchase scores higher.
- Frequency is the number of purchases; monetary the total revenue.
- Percentiles are linear interpolations between the two nearest ranks (Excel's
  PERCENTILE.INC, ClickHouse's quantileExactInclusive), so the figures can be checked in SQL.
- Customers without a purchase have no RFM scores and no group.

Named groups: the widely used 5x5 grid over R and F (M is reported, not grouped on), with
"lost" split off from the bottom corner of "hibernating"; see GROUPS.

Lifetime value:
- clv_historical: the revenue the customer has brought so far.
- clv_predicted: the classic AOV x purchase frequency x customer lifespan. Frequency is
  purchases per year since the first purchase, observed over at least `min_tenure_days`
  (so a customer who bought once yesterday is not extrapolated to 365 orders a year), and
  the lifespan is `lifetime_years`. It assumes the customer keeps buying at their
  observed rate for that long; it has no churn probability (the at_risk and churned
  segments say who has stopped).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

DAY_MS = 86_400_000
YEAR_DAYS = 365.25
QUINTILES = (0.2, 0.4, 0.6, 0.8)

# Rows are R scores 5 (most recent) down to 1, columns F scores 1 to 5.
_GRID = (
    ("new_customers", "potential_loyalists", "potential_loyalists", "champions", "champions"),
    ("promising", "potential_loyalists", "potential_loyalists", "loyal", "loyal"),
    ("about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"),
    ("hibernating", "hibernating", "at_risk", "at_risk", "cant_lose_them"),
    ("lost", "hibernating", "at_risk", "at_risk", "cant_lose_them"),
)
GROUPS: dict[tuple[int, int], str] = {(5 - row, f + 1): name for row, names in enumerate(_GRID) for f, name in enumerate(names)}
GROUP_NAMES = tuple(dict.fromkeys(GROUPS.values()))


class Purchaser(Protocol):
    """What RFM and lifetime value need of a customer (a CustomerProfile has it)."""

    purchases: int
    revenue: float
    first_purchase_ms: int | None
    last_purchase_ms: int | None


Cuts = tuple[float, float, float, float]


@dataclass(frozen=True)
class Boundaries:
    """A site's quintile cut points for each dimension."""

    recency: Cuts  # over the time of the last purchase, in ms
    frequency: Cuts
    monetary: Cuts


@dataclass(frozen=True)
class Scores:
    r: int
    f: int
    m: int

    @property
    def group(self) -> str:
        return GROUPS[(self.r, self.f)]


@dataclass(frozen=True)
class ClvModel:
    lifetime_years: float = 3.0
    min_tenure_days: float = 365.0


def quantile(ordered: Sequence[float], level: float) -> float:
    """The inclusive, linearly interpolated percentile of sorted values."""
    position = level * (len(ordered) - 1)
    below = math.floor(position)
    if below + 1 >= len(ordered):
        return ordered[-1]
    return ordered[below] + (position - below) * (ordered[below + 1] - ordered[below])


def quintile_cuts(values: Iterable[float]) -> Cuts:
    ordered = sorted(values)
    return tuple(quantile(ordered, level) for level in QUINTILES)  # type: ignore[return-value]


def boundaries(customers: Iterable[Purchaser]) -> Boundaries | None:
    """The cut points over a site's purchasers; None while nobody has bought."""
    buyers = [c for c in customers if c.purchases > 0 and c.last_purchase_ms is not None]
    if not buyers:
        return None
    return Boundaries(
        recency=quintile_cuts(c.last_purchase_ms for c in buyers),
        frequency=quintile_cuts(c.purchases for c in buyers),
        monetary=quintile_cuts(c.revenue for c in buyers),
    )


def score(value: float, cuts: Cuts) -> int:
    """1 plus the number of cut points the value is above: 1 (bottom fifth) to 5 (top)."""
    return 1 + sum(1 for cut in cuts if value > cut)


def scores(customer: Purchaser, bounds: Boundaries | None) -> Scores | None:
    if bounds is None or customer.purchases <= 0 or customer.last_purchase_ms is None:
        return None
    return Scores(
        r=score(customer.last_purchase_ms, bounds.recency),
        f=score(customer.purchases, bounds.frequency),
        m=score(customer.revenue, bounds.monetary),
    )


def aov(customer: Purchaser) -> float | None:
    """Average order value; None before the first purchase."""
    return customer.revenue / customer.purchases if customer.purchases > 0 else None


def recency_days(customer: Purchaser, now_ms: int) -> float | None:
    if customer.last_purchase_ms is None:
        return None
    return max(0, now_ms - customer.last_purchase_ms) / DAY_MS


def clv_predicted(customer: Purchaser, now_ms: int, model: ClvModel) -> float:
    average = aov(customer)
    if average is None or customer.first_purchase_ms is None:
        return 0.0
    tenure_days = max((now_ms - customer.first_purchase_ms) / DAY_MS, model.min_tenure_days)
    per_year = customer.purchases * YEAR_DAYS / tenure_days
    return average * per_year * model.lifetime_years
