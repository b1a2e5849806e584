"""A persona's portrait from its members: size and shares, who they are, where they are,
how they come and buy, what they are worth and how they feel. Pure: customers in, figures out."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence

from footfall.personas.features import finite, money
from footfall.personas.model import CustomerFacts, PersonaSettings, Portrait, Problem, Share
from schemas.surveys import PASSIVE_MIN, PROMOTER_MIN


def revenue_of(facts: CustomerFacts) -> float:
    """Spend as shares count it: a refund-heavy or absurd negative total counts as nothing."""
    return facts.revenue if money(facts.revenue) > 0 else 0.0


def commonest(values: Iterable[str | None], members: int, limit: int) -> tuple[Share, ...]:
    """The values most members hold, each with the share of members holding it."""
    held = Counter(value for value in values if value)
    ranked = sorted(held.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return tuple(Share(value, count / members) for value, count in ranked)


def net_promoter(scores: Sequence[int]) -> float | None:
    if not scores:
        return None
    promoters = sum(1 for score in scores if score >= PROMOTER_MIN)
    detractors = sum(1 for score in scores if score < PASSIVE_MIN)
    return 100 * (promoters - detractors) / len(scores)


def demographics(members: Sequence[CustomerFacts], limit: int) -> dict[str, tuple[Share, ...] | float]:
    """Each trait the members sent: the median of a numeric one, the commonest values of
    another with their shares among the members who sent it."""
    found: dict[str, tuple[Share, ...] | float] = {}
    for name in sorted({name for facts in members for name in facts.traits}):
        values = [facts.traits[name] for facts in members if name in facts.traits]
        numbers = [number for number in (finite(value) for value in values) if number is not None]
        if len(numbers) == len(values):
            found[name] = float(statistics.median(numbers))
        else:
            found[name] = commonest((str(value) for value in values), len(values), limit)
    return found


def portrait(members: Sequence[CustomerFacts], customers: int, revenue: float, settings: PersonaSettings,
             problems: tuple[Problem, ...] = ()) -> Portrait:
    """The members' portrait among `customers` customers who spent `revenue` in all."""
    size = len(members)
    spent = sum(revenue_of(facts) for facts in members)
    purchases = sum(max(facts.purchases, 0) for facts in members)
    sessions = sum(max(facts.sessions, 0) for facts in members)
    predicted = [facts.clv_predicted for facts in members if finite(facts.clv_predicted) is not None]
    scores = [facts.nps for facts in members if facts.nps is not None]
    shown = settings.shown_values
    return Portrait(
        customers=size,
        customer_share=size / customers if customers else 0.0,
        revenue_share=spent / revenue if revenue > 0 else 0.0,
        conversion=sum(max(facts.converting_sessions, 0) for facts in members) / sessions if sessions else None,
        aov=spent / purchases if purchases else None,
        purchase_frequency=purchases / size if size else 0.0,
        clv_historical=sum(max(finite(facts.clv_historical) or 0.0, 0.0) for facts in members) / size if size else 0.0,
        clv_predicted=sum(predicted) / len(predicted) if predicted else None,  # type: ignore[arg-type]
        nps=net_promoter(scores),
        nps_answers=len(scores),
        demographics=demographics(members, shown),
        countries=commonest((facts.country for facts in members), size, shown),
        devices=commonest((facts.device for facts in members), size, shown),
        channels=commonest((facts.channel for facts in members), size, shown),
        top_pages=commonest((page for facts in members for page in set(facts.pages)), size, settings.top_pages),
        problems=problems,
    )
