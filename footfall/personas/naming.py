"""A persona's name, made from what sets its members apart from all customers.

Each feature column is compared between the persona and everyone: a category counts when
most members hold it and it is commoner among them than overall (by the difference of the
shares), a number when the members' mean lies at least half a spread from everyone's. The
`limit` strongest make the name, read as a phrase: categories before the noun ("mobile
female"), the channel and the country after it ("from google / cpc", "in DE"), numbers last
("high spend", "age ~58"). The noun is "buyers" when most members bought, else "browsers".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from footfall.personas.features import IS, TRAIT
from footfall.personas.model import Share

MAJORITY = 0.5
# A number sets the persona apart from half a spread away (the features' unit).
NUMBER_THRESHOLD = 0.5
# A share difference of 0.5 weighs as a number one spread away.
CATEGORY_WEIGHT = 2.0
WORDLIKE = re.compile(r"[^\W\d_]+(?:[- ][^\W\d_]+)*")
NUMBER_WORDS = {
    "spend": "spend", "purchases": "purchase frequency", "basket": "basket", "visits": "visits",
    "conversion": "conversion", "clv": "lifetime value", "nps": "NPS",
}
AFTER_NOUN = {"channel": "from", "country": "in"}


def distinguishing(columns: Sequence[str], inside: Sequence[float], overall: Sequence[float], limit: int) -> list[tuple[str, float]]:
    """The columns that set the persona apart, strongest first, with the difference of means."""
    scored: list[tuple[float, str, float]] = []
    for column, mine, everyone in zip(columns, inside, overall):
        difference = mine - everyone
        if IS in column:
            if mine > MAJORITY and difference > 0:
                scored.append((CATEGORY_WEIGHT * difference, column, difference))
        elif abs(difference) >= NUMBER_THRESHOLD:
            scored.append((abs(difference), column, difference))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [(column, difference) for _, column, difference in scored[:limit]]


def spoken(name: str) -> str:
    return name.removeprefix(TRAIT).replace("_", " ")


def category_phrase(feature: str, value: str) -> str:
    """A value alone when it reads as words ("mobile", "engineer"), else with its feature
    ("income band 25-50k")."""
    if feature in AFTER_NOUN:
        return f"{AFTER_NOUN[feature]} {value}"
    return value if WORDLIKE.fullmatch(value) else f"{spoken(feature)} {value}"


def number_phrase(feature: str, difference: float, demographics: Mapping[str, tuple[Share, ...] | float]) -> str:
    typical = demographics.get(feature.removeprefix(TRAIT))
    if feature.startswith(TRAIT) and isinstance(typical, float):
        return f"{spoken(feature)} ~{typical:.0f}"
    return f"{'high' if difference > 0 else 'low'} {NUMBER_WORDS.get(feature, spoken(feature))}"


def persona_name(picked: Sequence[tuple[str, float]], buyers: bool,
                 demographics: Mapping[str, tuple[Share, ...] | float]) -> str:
    """The phrase for the distinguishing columns; "all customers" when nothing sets them apart."""
    if not picked:
        return "all customers"
    before, after, numbers = [], [], []
    for column, difference in picked:
        if IS in column:
            feature, _, value = column.partition(IS)
            (after if feature in AFTER_NOUN else before).append(category_phrase(feature, value))
        else:
            numbers.append(number_phrase(column, difference, demographics))
    head = " ".join([*before, "buyers" if buyers else "browsers", *sorted(after)])
    return ", ".join([head, *numbers])
