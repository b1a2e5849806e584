"""Calibration summaries, as the BG/NBD and Gamma-Gamma papers define them, in whole days.

Purchases on the same day are one transaction; a customer is born on their first purchase
day, so x counts the later days with a purchase (repeat transactions), t_x is the day of the
last one and T the calibration's end, both counted from the birth. The monetary value is
the mean spend of the repeat transactions, each the day's total: the first day's spend says
how a customer was acquired, not how they repeat (Fader & Hardie's Gamma-Gamma note).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np

from processors.analytics.rfm import DAY_MS



@dataclass(frozen=True)
class Customer:
    """One customer's calibration figures; monetary is None without repeat transactions or
    when their repeat spend is not a positive, finite mean (Gamma-Gamma needs one)."""

    x: int
    t_x: int
    T: int
    monetary: float | None


@dataclass(frozen=True)
class Calibration:
    """A site's customers as arrays, for the likelihoods."""

    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    # Repeat buyers with a usable monetary value only.
    repeat_x: np.ndarray
    repeat_monetary: np.ndarray

    @property
    def customers(self) -> int:
        return int(self.x.size)


def _positive_mean(total: float, count: int) -> float | None:
    if count <= 0 or not math.isfinite(total) or total <= 0:
        return None
    return total / count


def customer(first_day: int, last_day: int, days: int, repeat_spend: float, end_day: int) -> Customer | None:
    """From a customer's first and last purchase day, the number of days they bought on and
    the spend of all days but the first; None for a customer born after the end or whose
    figures cannot be (a last day before the first, fewer days than two distinct ones need)."""
    if first_day > end_day or last_day < first_day or last_day > end_day or days < 1:
        return None
    x = days - 1
    if x > last_day - first_day or (x == 0) != (last_day == first_day):
        return None
    return Customer(x, last_day - first_day, end_day - first_day, _positive_mean(repeat_spend, x))


def from_daily(spend_by_day: Mapping[int, float], end_day: int) -> Customer | None:
    """A customer from their spend per purchase day (days since the epoch), the days after
    `end_day` left out."""
    days = sorted(day for day in spend_by_day if day <= end_day)
    if not days:
        return None
    repeat = sum(spend_by_day[day] for day in days[1:])
    return customer(days[0], days[-1], len(days), repeat, end_day)


def calibration(customers: Iterable[Customer]) -> Calibration:
    rows = list(customers)
    repeat = [c for c in rows if c.x > 0 and c.monetary is not None]
    return Calibration(
        x=np.array([c.x for c in rows], dtype=float),
        t_x=np.array([c.t_x for c in rows], dtype=float),
        T=np.array([c.T for c in rows], dtype=float),
        repeat_x=np.array([c.x for c in repeat], dtype=float),
        repeat_monetary=np.array([c.monetary for c in repeat], dtype=float),
    )


def day_number(day: date) -> int:
    """Days since 1970-01-01, the numbering both ClickHouse (toRelativeDayNum) and
    day_of_ms give."""
    return (day - date(1970, 1, 1)).days


def day_of_ms(milliseconds: int) -> int:
    """The day number (day_number) of a moment in epoch milliseconds, in UTC."""
    return milliseconds // DAY_MS
