"""Segments: named rules over a customer profile, evaluated as events arrive and as time
passes. Relative-time fields (`days_since_last_seen`, ...) let a rule change with no event,
and `next_check_ms` says when it next can, so a timer wakes each profile only when due."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, Literal

from processors.analytics import conditions, rfm
from processors.analytics.conditions import ORDERED_OPS, Condition, Node, RuleError
from processors.analytics.parameters import Parameters
from processors.analytics.profiles import CustomerProfile
from processors.analytics.surveys import nps_category
from schemas.names import NAME_PATTERN

UNITS_MS = {"minutes": 60_000, "hours": 3_600_000, "days": 86_400_000}
ANCHORS = ("first_seen", "last_seen", "first_purchase", "last_purchase", "last_cart")
RELATIVE = re.compile(rf"^({'|'.join(UNITS_MS)})_since_({'|'.join(ANCHORS)})$")
# Relative-time comparisons are rewritten to whole milliseconds elapsed since the anchor.
ELAPSED = "elapsed_ms."
# Each relative-time field (as rewritten for matching) and the profile field it counts from.
ELAPSED_FIELDS = tuple((ELAPSED + anchor, f"{anchor}_ms") for anchor in ANCHORS)
SEGMENT_NAME = re.compile(NAME_PATTERN)


@dataclass(frozen=True)
class Segment:
    """A named rule over a customer profile."""

    name: str
    rule: Node
    # The rule as configured, for people: segment changes record which rule moved a customer.
    text: str

    # Resolved once, used for every profile evaluated.
    @cached_property
    def test(self) -> conditions.Predicate:
        return conditions.compile_rule(self.rule)

    @cached_property
    def timed(self) -> tuple[tuple[str, Condition], ...]:
        """The relative-time comparisons, with the profile attribute of each one's anchor."""
        anchors = dict(ELAPSED_FIELDS)
        return tuple(
            (anchors[condition.field], condition)
            for condition in conditions.comparisons(self.rule)
            if condition.field in anchors and condition.op in ORDERED_OPS
        )


@dataclass(frozen=True)
class Change:
    """A customer entering or leaving a segment, and when."""

    segment: str
    change: Literal["entered", "left"]
    at_ms: int


@dataclass(frozen=True)
class Evaluation:
    """A profile's segments at one moment, what changed, and when to look again."""

    members: frozenset[str]
    changes: tuple[Change, ...]
    # When membership can next change with no new event; None if only an event can change it.
    next_check_ms: int | None


def _survey_score(profile: CustomerProfile, survey: str) -> int | None:
    answer = profile.surveys.get(survey)
    return answer.score if answer else None


def profile_fields(profile: CustomerProfile, scores: rfm.Scores | None) -> dict[str, Any]:
    """The profile as rules see it, besides traits and relative times."""
    nps = _survey_score(profile, "nps")
    acquisition = profile.acquisition.value if profile.acquisition else None
    cart_open = profile.last_cart_ms is not None and (
        profile.last_purchase_ms is None or profile.last_purchase_ms < profile.last_cart_ms
    )
    return {
        "customer_id": profile.customer_id,
        "user_id": profile.user_id,
        "anonymous_id": profile.visitor,
        "first_seen_ms": profile.first_seen_ms,
        "last_seen_ms": profile.last_seen_ms,
        "events": profile.events,
        "sessions": profile.sessions,
        "page_views": profile.page_views,
        "engaged_ms": profile.engaged_ms,
        "engaged_s": profile.engaged_ms / 1000,
        "max_scroll_pct": profile.max_scroll_pct,
        "purchases": profile.purchases,
        "revenue": profile.revenue,
        "aov": rfm.aov(profile),
        "first_purchase_ms": profile.first_purchase_ms,
        "last_purchase_ms": profile.last_purchase_ms,
        "cart_adds": profile.cart_adds,
        "last_cart_ms": profile.last_cart_ms,
        "cart_open": cart_open,
        "products": profile.products,
        "traits": profile.traits,
        **{name: profile.value(name) for name in ("device", "browser", "os", "locale", "country", "region", "city")},
        "acquisition_source": acquisition.source if acquisition else None,
        "acquisition_medium": acquisition.medium if acquisition else None,
        "acquisition_campaign": acquisition.campaign if acquisition else None,
        "nps": nps,
        "nps_category": nps_category(nps) if nps is not None else None,
        "csat": _survey_score(profile, "csat"),
        "ces": _survey_score(profile, "ces"),
        "r_score": scores.r if scores else None,
        "f_score": scores.f if scores else None,
        "m_score": scores.m if scores else None,
        "rfm_segment": scores.group if scores else None,
    }


FIELDS = frozenset(profile_fields(CustomerProfile("", ""), None))


def known_field(name: str) -> bool:
    return name in FIELDS or name.startswith("traits.") or RELATIVE.match(name) is not None


def _to_elapsed(condition: Condition, where: str) -> Condition:
    """A relative-time comparison as milliseconds elapsed, checked for a sensible op."""
    found = RELATIVE.match(condition.field)
    if found is None:
        return condition
    unit, anchor = found.groups()
    if condition.op == "exists":
        return replace(condition, field=ELAPSED + anchor)
    value = condition.value
    if condition.op not in ORDERED_OPS or isinstance(value, (bool, str)):
        raise RuleError(
            f"{where}: field {condition.field!r} is a time that keeps moving; compare it with "
            f"gt, gte, lt or lte and a number (got op {condition.op!r}, value {value!r})"
        )
    return Condition(ELAPSED + anchor, condition.op, value * UNITS_MS[unit])


def parse_rule(raw: Mapping[str, Any], where: str) -> Node:
    node = conditions.parse(raw, known_field, where)
    return conditions.rewrite(node, lambda condition: _to_elapsed(condition, where))


def new_segment(name: str, rule: Mapping[str, Any], where: str) -> Segment:
    return Segment(name, parse_rule(rule, where), conditions.describe(rule))


def parse_segment(raw: Mapping[str, Any], where: str) -> Segment:
    """A segment from its config table: a `name` and a rule (field/op/value, all or any)."""
    if not isinstance(raw, Mapping):
        raise RuleError(f"{where}: expected a table with a name and a rule, got {raw!r}")
    name = raw.get("name")
    if not isinstance(name, str) or not SEGMENT_NAME.match(name):
        raise RuleError(f"{where}: name must be 1-64 letters, digits, '_', '.' or '-', got {name!r}")
    rule = {key: value for key, value in raw.items() if key not in ("name", "description")}
    return new_segment(name, rule, f"{where} ({name})")


def _gte(field: str, value: Any) -> dict[str, Any]:
    return {"field": field, "op": "gte", "value": value}


def builtin_rules(parameters: Parameters) -> dict[str, dict[str, Any]]:
    """The built-in segments, written in the rule language itself.

    - new / returning: one session so far / more than one.
    - engaged: at least `engaged_seconds` of engaged time in all.
    - deep_scrollers: scrolled at least `deep_scroll_pct` percent of some page.
    - cart_abandoners: added to cart or started checkout, and no purchase since, for at
      least `cart_abandonment_hours`.
    - purchasers / repeat_buyers: one purchase / two or more.
    - high_value: revenue of at least `high_value_revenue`.
    - at_risk / churned: was active (bought, or came back for a second session), then
      unseen for `at_risk_days` (up to `churn_days`) / for `churn_days` or more.
    - rfm_<group>: the customer's RFM group (see processors.analytics.rfm), once the site's RFM
      boundaries are known.
    """
    active = {"any": [_gte("purchases", 1), _gte("sessions", 2)]}
    return {
        "new": {"field": "sessions", "op": "lte", "value": 1},
        "returning": _gte("sessions", 2),
        "engaged": _gte("engaged_s", parameters.engaged_seconds),
        "deep_scrollers": _gte("max_scroll_pct", parameters.deep_scroll_pct),
        "cart_abandoners": {
            "all": [{"field": "cart_open", "op": "eq", "value": True}, _gte("hours_since_last_cart", parameters.cart_abandonment_hours)]
        },
        "purchasers": _gte("purchases", 1),
        "repeat_buyers": _gte("purchases", 2),
        "high_value": _gte("revenue", parameters.high_value_revenue),
        "at_risk": {
            "all": [
                active,
                _gte("days_since_last_seen", parameters.at_risk_days),
                {"field": "days_since_last_seen", "op": "lt", "value": parameters.churn_days},
            ]
        },
        "churned": {"all": [active, _gte("days_since_last_seen", parameters.churn_days)]},
        **{f"rfm_{group}": {"field": "rfm_segment", "op": "eq", "value": group} for group in rfm.GROUP_NAMES},
    }


def builtin_segments(parameters: Parameters) -> tuple[Segment, ...]:
    return tuple(new_segment(name, rule, f"built-in segment {name}") for name, rule in builtin_rules(parameters).items())


class _Fields(dict[str, Any]):
    """A profile's fields as rules see them. A trait is looked up by its dotted path only
    when a rule asks for it; every other field is a plain entry, so most lookups cost one
    dictionary access."""

    def __missing__(self, name: str) -> Any:
        return conditions.dotted(self["traits"], name[len("traits."):])


def _lookup(profile: CustomerProfile, now_ms: int, scores: rfm.Scores | None) -> conditions.Lookup:
    fields = _Fields(profile_fields(profile, scores))
    for elapsed, anchor in ELAPSED_FIELDS:
        anchor_ms = fields[anchor]
        fields[elapsed] = None if anchor_ms is None else now_ms - anchor_ms
    return fields.__getitem__


def evaluate(
    segments: Iterable[Segment], profile: CustomerProfile, now_ms: int, bounds: rfm.Boundaries | None = None
) -> frozenset[str]:
    """The names of the segments the profile belongs to at `now_ms`."""
    lookup = _lookup(profile, now_ms, rfm.scores(profile, bounds))
    return frozenset(segment.name for segment in segments if segment.test(lookup))


def membership_changes(before: Iterable[str], after: Iterable[str], now_ms: int) -> tuple[Change, ...]:
    before, after = set(before), set(after)
    left = (Change(name, "left", now_ms) for name in sorted(before - after))
    entered = (Change(name, "entered", now_ms) for name in sorted(after - before))
    return (*left, *entered)


def _flip_ms(anchor_ms: int, condition: Condition) -> int:
    """The first millisecond at which `elapsed op threshold` takes its later value."""
    threshold = condition.value
    if condition.op in ("gte", "lt"):
        return anchor_ms + math.ceil(threshold)
    return anchor_ms + math.floor(threshold) + 1


def next_check_ms(segments: Iterable[Segment], profile: CustomerProfile, now_ms: int) -> int | None:
    """The earliest moment after `now_ms` at which time alone can change any membership.

    Without a new event only relative-time comparisons change their answer, each at one
    known instant; membership depends on nothing else, so it cannot change before the
    earliest of those instants still to come.
    """
    moments = []
    for segment in segments:
        for attribute, condition in segment.timed:
            anchor = getattr(profile, attribute)
            if anchor is not None:
                moments.append(_flip_ms(anchor, condition))
    return min((moment for moment in moments if moment > now_ms), default=None)


def reevaluate(
    segments: tuple[Segment, ...],
    profile: CustomerProfile,
    before: Iterable[str],
    now_ms: int,
    bounds: rfm.Boundaries | None = None,
) -> Evaluation:
    """Membership at `now_ms`, what changed since `before`, and when to look again.

    The same call serves after an event (with the updated profile) and from a timer (with
    the profile unchanged); a timer that fires at the `next_check_ms` it was given
    records changes at the moment they happened.
    """
    members = evaluate(segments, profile, now_ms, bounds)
    return Evaluation(members, membership_changes(before, members, now_ms), next_check_ms(segments, profile, now_ms))
