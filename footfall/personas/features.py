"""Customers as rows of numbers the grouping can compare, and the names of the columns.

Numbers (spend, purchases, basket, visits, conversion, lifetime value, NPS, numeric traits
such as age) are cleaned (not finite or negative money is 0), put on a log scale where they
are money or counts, then centred on the median and scaled by the spread of the middle half (never less than
the column's floor: where nearly everyone is alike, a difference of a few cents or one
session more is no reason to tell customers apart), and clipped to ±CLIP: an age of 10^9 or
a single whale sits at the edge instead of forming a persona of its own. A value a customer
lacks is the median. Categories (device, country,
channel, categorical traits) are one column per value held by at least MIN_CATEGORY_SHARE
of the customers, 1 for its holders; a missing value is no column at all.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from footfall.personas.model import CustomerFacts

CLIP = 4.0
# The interquartile range of a normal distribution, in standard deviations.
IQR_PER_SD = 1.349
MIN_CATEGORY_SHARE = 0.05
# Category columns of one feature kept at most, the commonest first.
MAX_CATEGORY_VALUES = 12
# Separates a categorical column's feature from its value: "device=mobile".
IS = "="
TRAIT = "trait:"


def money(value: float | None) -> float:
    """Money as a count of magnitude: log(1 + x), 0 for what is not a finite amount ≥ 0."""
    if value is None or not math.isfinite(value) or value <= 0:
        return 0.0
    return math.log1p(value)


def conversion(facts: CustomerFacts) -> float | None:
    return facts.converting_sessions / facts.sessions if facts.sessions > 0 else None


def aov(facts: CustomerFacts) -> float | None:
    return facts.revenue / facts.purchases if facts.purchases > 0 else None


# The smallest spread of a column on the log scale (a factor of 1.65), of conversion (ten
# points), of an NPS score (one point), and of a numeric trait (a share of its median).
LOG_FLOOR = 0.5
CONVERSION_FLOOR = 0.1
NPS_FLOOR = 1.0
TRAIT_FLOOR_SHARE = 0.05


@dataclass(frozen=True)
class Number:
    """A numeric column: how it is read from a customer, and its smallest spread."""

    read: Callable[[CustomerFacts], float | None]
    floor: float


# The numeric behaviour, value and satisfaction columns.
NUMBERS: dict[str, Number] = {
    "spend": Number(lambda facts: money(facts.revenue), LOG_FLOOR),
    "purchases": Number(lambda facts: money(facts.purchases), LOG_FLOOR),
    "basket": Number(lambda facts: money(aov(facts)), LOG_FLOOR),
    "visits": Number(lambda facts: money(facts.sessions), LOG_FLOOR),
    "conversion": Number(conversion, CONVERSION_FLOOR),
    "clv": Number(lambda facts: money(facts.clv_predicted if facts.clv_predicted is not None else facts.clv_historical), LOG_FLOOR),
    "nps": Number(lambda facts: None if facts.nps is None else float(facts.nps), NPS_FLOOR),
}
CATEGORIES: dict[str, Callable[[CustomerFacts], str | None]] = {
    "device": lambda facts: facts.device,
    "country": lambda facts: facts.country,
    "channel": lambda facts: facts.channel,
}


def finite(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def robust_scaled(column: Sequence[float | None], floor: float | None = None) -> np.ndarray | None:
    """A numeric column centred, scaled and clipped; None when no customer has a value or
    all have the same (a column that tells no one apart). Without a floor, a share of the
    median's size is the floor."""
    known = np.array([value for value in column if value is not None], dtype=float)
    if known.size == 0 or np.all(known == known[0]):
        return None
    median = float(np.median(known))
    filled = np.array([median if value is None else value for value in column], dtype=float)
    low, high = np.percentile(known, [25, 75])
    least = TRAIT_FLOOR_SHARE * abs(median) if floor is None else floor
    spread = max((high - low) / IQR_PER_SD, least) or float(np.std(known))
    return np.clip((filled - median) / spread, -CLIP, CLIP)


def one_hot(name: str, values: Sequence[str | None]) -> list[tuple[str, np.ndarray]]:
    """A column per common value of a categorical feature."""
    held = Counter(value for value in values if value)
    least = MIN_CATEGORY_SHARE * len(values)
    common = [value for value, count in held.most_common(MAX_CATEGORY_VALUES) if count >= least]
    if len(common) == 1 and held[common[0]] == len(values):
        return []  # every customer holds it: it tells no one apart
    return [(f"{name}{IS}{value}", np.array([float(v == value) for v in values])) for value in common]


def trait_names(customers: Sequence[CustomerFacts]) -> list[str]:
    return sorted({name for facts in customers for name in facts.traits})


def is_numeric_trait(customers: Sequence[CustomerFacts], name: str) -> bool:
    """A trait is numeric when every value sent is a number (an age), else categorical."""
    values = [facts.traits[name] for facts in customers if name in facts.traits]
    return bool(values) and all(finite(value) is not None for value in values)


@dataclass(frozen=True)
class Matrix:
    """Customers' rows, in the customers' order, and the column names."""

    rows: np.ndarray
    columns: tuple[str, ...]


def matrix(customers: Sequence[CustomerFacts]) -> Matrix:
    """The customers' standardised features; columns that tell no one apart are left out."""
    columns: list[tuple[str, np.ndarray]] = []
    numbers: dict[str, tuple[list[float | None], float | None]] = {
        name: ([number.read(facts) for facts in customers], number.floor) for name, number in NUMBERS.items()}
    categories = {name: [read(facts) for facts in customers] for name, read in CATEGORIES.items()}
    for name in trait_names(customers):
        if is_numeric_trait(customers, name):
            numbers[f"{TRAIT}{name}"] = ([finite(facts.traits.get(name)) for facts in customers], None)
        else:
            categories[f"{TRAIT}{name}"] = [str(facts.traits[name]) if name in facts.traits else None for facts in customers]
    for name, (values, floor) in numbers.items():
        scaled = robust_scaled(values, floor)
        if scaled is not None:
            columns.append((name, scaled))
    for name, labels in categories.items():
        columns.extend(one_hot(name, labels))
    if not columns:
        return Matrix(np.zeros((len(customers), 0)), ())
    return Matrix(np.column_stack([values for _, values in columns]), tuple(name for name, _ in columns))
