"""Segment rules without Kafka: the language, the built-in segments, membership changes
and when time alone can change them."""

from __future__ import annotations

import operator
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processors.analytics.parameters import Parameters
from processors.analytics.conditions import Condition, RuleError, comparer
from processors.analytics.profiles import CustomerProfile, Stamped
from processors.analytics.rfm import Boundaries
from processors.analytics.segments import (
    Change,
    Segment,
    builtin_segments,
    evaluate,
    membership_changes,
    next_check_ms,
    parse_segment,
    reevaluate,
)

HOUR, DAY = 3_600_000, 86_400_000
T0 = 1_800_000_000_000
BUILTINS = builtin_segments(Parameters())


def segment(**raw):
    return parse_segment({"name": "s", **raw}, "segments[0]")


def member(profile: CustomerProfile, now_ms: int = T0, **raw) -> bool:
    return "s" in evaluate([segment(**raw)], profile, now_ms)


def profile(**fields) -> CustomerProfile:
    return replace(CustomerProfile("demo", "anon-1", first_seen_ms=T0, last_seen_ms=T0), **fields)


# --- the language ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"field": "revenu", "op": "gte", "value": 1}, "unknown field 'revenu'"),
        ({"field": "revenue", "op": "greater", "value": 1}, "field 'revenue' has unknown op 'greater'"),
        ({"field": "revenue", "op": "gte"}, "field 'revenue' op 'gte' needs a value"),
        ({"field": "revenue", "op": "gte", "value": [1]}, "compares with a number or a string"),
        ({"field": "country", "op": "in", "value": "FR"}, "op 'in' takes a list"),
        ({"field": "country", "op": "exists", "value": "yes"}, "takes true or false"),
        ({"all": []}, r"segments\[0\] \(s\)\.all: expected a non-empty list"),
        ({"all": [{"field": "revenue", "op": "gte", "value": 1}], "field": "revenue"}, "not several"),
        ({"any": [{"all": [{"field": "x", "op": "eq", "value": 1}]}]}, r"any\[0\]\.all\[0\]: unknown field 'x'"),
        ({"field": "days_since_last_seen", "op": "eq", "value": 3}, "a time that keeps moving"),
        ({"field": "revenue", "op": "gte", "value": 1, "values": 2}, "unknown key values"),
    ],
)
def test_mistakes_are_named(raw: dict, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        segment(**raw)


@pytest.mark.parametrize("name", ["", "has space", "x" * 65, None])
def test_segment_names_are_checked(name) -> None:
    with pytest.raises(RuleError, match="name must be"):
        parse_segment({"name": name, "field": "revenue", "op": "gte", "value": 1}, "segments[0]")


def test_traits_geography_and_nesting_in_one_rule() -> None:
    rule = {
        "all": [
            {"field": "traits.gender", "op": "eq", "value": "f"},
            {"field": "traits.address.city", "op": "in", "value": ["Lyon", "Paris"]},
            {"any": [{"field": "revenue", "op": "gte", "value": 500}, {"field": "country", "op": "eq", "value": "FR"}]},
        ]
    }
    traits = {
        "traits.gender": Stamped("f", T0, "i"),
        "traits.address": Stamped({"city": "Paris"}, T0, "i"),
    }
    french = profile(latest={**traits, "country": Stamped("FR", T0, "e")})
    assert member(french, **rule)
    assert not member(profile(latest=traits), **rule)
    assert member(profile(latest=traits, revenue=600.0), **rule)


def test_a_segment_keeps_its_rule_as_written_for_people() -> None:
    rule = {"all": [
        {"field": "country", "op": "in", "value": ["DE", "AT"]},
        {"any": [{"field": "days_since_last_seen", "op": "gte", "value": 30}, {"field": "traits.vip", "op": "exists", "value": False}]},
        {"all": [{"field": "traits.plan", "op": "ne", "value": "free"}]},
    ]}
    segment = parse_segment({"name": "lapsed_dach", **rule}, "segments[0]")
    assert segment.text == 'country in ["DE","AT"] and (days_since_last_seen >= 30 or traits.vip does not exist) and traits.plan != "free"'
    assert {s.name: s.text for s in BUILTINS}["cart_abandoners"] == "cart_open = true and hours_since_last_cart >= 4.0"


@pytest.mark.parametrize(
    ("actual", "op", "value", "expected"),
    [
        ("abc", "contains", "b", True),
        (["a", "b"], "contains", "b", True),
        ({"p1": 1}, "contains", "p1", True),
        (5, "contains", "5", False),
        (True, "eq", 1, False),
        (1, "eq", 1.0, True),
        ("b", "gt", "a", True),
        ("b", "gt", 1, False),
        (None, "ne", "x", False),
        (None, "exists", False, True),
        (0, "exists", True, True),
        ("FR", "in", ("FR", "DE"), True),
    ],
)
def test_op_semantics(actual, op: str, value, expected: bool) -> None:
    assert comparer(Condition("f", op, value))(actual) is expected


NUMBERS = st.one_of(st.integers(-5, 5), st.floats(-5, 5, allow_nan=False))


@settings(max_examples=200, deadline=None)
@given(actual=st.one_of(st.none(), NUMBERS), value=NUMBERS, op=st.sampled_from(["eq", "ne", "gt", "gte", "lt", "lte"]))
def test_number_comparisons_equal_pythons_and_missing_satisfies_none(actual, value, op: str) -> None:
    python = {"eq": operator.eq, "ne": operator.ne, "gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}
    expected = actual is not None and python[op](actual, value)
    assert comparer(Condition("f", op, value))(actual) is expected


# --- built-in segments ------------------------------------------------------------------


def members(p: CustomerProfile, now_ms: int = T0, bounds: Boundaries | None = None) -> frozenset[str]:
    return evaluate(BUILTINS, p, now_ms, bounds)


def test_behavioural_builtins() -> None:
    visitor = profile(sessions=1, page_views=3, engaged_ms=130_000, max_scroll_pct=80.0)
    assert members(visitor) == {"new", "engaged", "deep_scrollers"}
    buyer = profile(sessions=3, purchases=2, revenue=700.0, last_purchase_ms=T0, first_purchase_ms=T0 - DAY)
    assert members(buyer) == {"returning", "purchasers", "repeat_buyers", "high_value"}


def test_cart_abandonment_waits_for_the_delay_and_a_later_purchase_clears_it() -> None:
    cart = profile(sessions=1, last_cart_ms=T0)
    assert "cart_abandoners" not in members(cart, T0 + 4 * HOUR - 1)
    assert "cart_abandoners" in members(cart, T0 + 4 * HOUR)
    bought = replace(cart, purchases=1, last_purchase_ms=T0 + HOUR)
    assert "cart_abandoners" not in members(bought, T0 + 5 * HOUR)


def test_at_risk_then_churned_only_after_being_active() -> None:
    active = profile(sessions=2)
    assert "at_risk" not in members(active, T0 + 30 * DAY - 1)
    assert {"at_risk"} <= members(active, T0 + 30 * DAY)
    assert "churned" not in members(active, T0 + 90 * DAY - 1)
    assert {"churned"} <= members(active, T0 + 90 * DAY) and "at_risk" not in members(active, T0 + 90 * DAY)
    assert not {"at_risk", "churned"} & members(profile(sessions=1), T0 + 200 * DAY)


def test_rfm_groups_need_the_sites_boundaries() -> None:
    buyer = profile(purchases=9, revenue=900.0, first_purchase_ms=T0, last_purchase_ms=T0)
    bounds = Boundaries(recency=(1.0, 2.0, 3.0, 4.0), frequency=(1.0, 2.0, 3.0, 4.0), monetary=(1.0, 2.0, 3.0, 4.0))
    assert "rfm_champions" in members(buyer, T0, bounds)
    assert not any(name.startswith("rfm_") for name in members(buyer, T0))


def test_parameters_move_the_builtins() -> None:
    strict = builtin_segments(Parameters(high_value_revenue=1000, churn_days=10, at_risk_days=5))
    rich = profile(sessions=2, revenue=900.0)
    assert "high_value" not in evaluate(strict, rich, T0)
    assert "churned" in evaluate(strict, rich, T0 + 10 * DAY)


# --- changes and timers ---------------------------------------------------------------


def test_membership_changes_say_what_and_when() -> None:
    assert membership_changes({"a", "b"}, {"b", "c"}, 7) == (Change("a", "left", 7), Change("c", "entered", 7))
    assert membership_changes({"a"}, {"a"}, 7) == ()


def test_a_timer_finds_the_cart_abandoned_at_the_moment_it_was_due() -> None:
    cart = profile(sessions=1, last_cart_ms=T0)
    first = reevaluate(BUILTINS, cart, frozenset(), T0)
    assert first.next_check_ms == T0 + 4 * HOUR
    due = reevaluate(BUILTINS, cart, first.members, first.next_check_ms)
    assert due.changes == (Change("cart_abandoners", "entered", T0 + 4 * HOUR),)


def test_nothing_to_wait_for_without_a_relative_time() -> None:
    rules = [segment(field="revenue", op="gte", value=1)]
    assert next_check_ms(rules, profile(), T0) is None


ANCHOR_FIELDS = ("first_seen_ms", "last_seen_ms", "first_purchase_ms", "last_purchase_ms", "last_cart_ms")
RELATIVE_FIELDS = [f"{unit}_since_{anchor[:-3]}" for unit in ("minutes", "hours", "days") for anchor in ANCHOR_FIELDS]


@st.composite
def relative_rules(draw):
    def comparison():
        return {
            "field": draw(st.sampled_from(RELATIVE_FIELDS)),
            "op": draw(st.sampled_from(["gt", "gte", "lt", "lte"])),
            "value": draw(st.one_of(st.integers(0, 72), st.floats(0, 72, allow_nan=False))),
        }

    return [
        parse_segment({"name": f"s{i}", draw(st.sampled_from(["all", "any"])): [comparison() for _ in range(draw(st.integers(1, 3)))]}, "s")
        for i in range(draw(st.integers(1, 4)))
    ]


@settings(max_examples=200, deadline=None)
@given(
    rules=relative_rules(),
    anchors=st.tuples(*[st.one_of(st.none(), st.integers(-3 * DAY, 0)) for _ in ANCHOR_FIELDS]),
    probe=st.floats(0, 1),
)
def test_membership_holds_until_next_check_and_can_change_there(rules, anchors, probe: float) -> None:
    p = profile(**{name: T0 + offset if offset is not None else None for name, offset in zip(ANCHOR_FIELDS, anchors)})
    now = T0
    due = next_check_ms(rules, p, now)
    if due is None:
        assert evaluate(rules, p, now) == evaluate(rules, p, now + 100 * DAY)
        return
    assert due > now
    between = now + int(probe * (due - 1 - now))
    assert evaluate(rules, p, between) == evaluate(rules, p, due - 1) == evaluate(rules, p, now)
    # At `due` some comparison flips: segments of one comparison each show it.
    single = [Segment(f"c{i}", c, text="") for s in rules for i, c in enumerate(s.rule.parts)]
    assert any(evaluate([c], p, due - 1) != evaluate([c], p, due) for c in single)
