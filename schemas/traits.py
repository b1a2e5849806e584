"""The demographic traits footfall.events stores with an identify call, defined once.

Traits live in the processors' profiles; personas read them in ClickHouse, where only the
names a site lists are stored (age, gender, occupation, income band by default), each a
string of bounded length or a finite number, so an identify call cannot park arbitrary
personal data or megabytes of text in the warehouse.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import Any

DEFAULT_DEMOGRAPHIC_TRAITS = ("age", "gender", "occupation", "income_band")
# The most trait names a site may list, and the characters a stored text value keeps.
MAX_DEMOGRAPHIC_TRAITS = 32
TRAIT_TEXT_MAX_CHARS = 64


def demographic_value(value: Any) -> str | float | None:
    """A trait's value as stored: text cut to its bound, a finite number, else nothing
    (objects, lists, booleans and NaN say nothing a persona can group on)."""
    if isinstance(value, str):
        text = value.strip()[:TRAIT_TEXT_MAX_CHARS]
        return text or None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an integer past any float: JSON parsers here stop at 64 bits, others may not
            return None
        return number if math.isfinite(number) else None
    return None


def demographic_traits(traits: Mapping[str, Any] | None, names: Collection[str]) -> dict[str, str | float]:
    """The listed traits of an identify call, bounded; the rest left out."""
    kept: dict[str, str | float] = {}
    for name in names:
        value = demographic_value((traits or {}).get(name))
        if value is not None:
            kept[name] = value
    return kept
