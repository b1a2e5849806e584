"""RFM scores and groups and average order value. Scores are 1-5 by
quintiles over the site's purchasers (`boundaries`, recomputed periodically), each
customer scored against them (`scores`); percentiles match ClickHouse's
quantileExactInclusive so the figures can be checked in SQL."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

DAY_MS = 86_400_000
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
    """What RFM needs of a customer (a CustomerProfile has it)."""

    purchases: int
    revenue: float
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
    """A customer's recency, frequency and monetary scores, 1 to 5 each."""

    r: int
    f: int
    m: int

    @property
    def group(self) -> str:
        return GROUPS[(self.r, self.f)]


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
