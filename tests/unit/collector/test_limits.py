"""The collector's bounds: each message measured once, refused alone with a reason naming
the bound; the request's whole output counted before anything is built."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
from hypothesis import given
from hypothesis import strategies as st

from collector.limits import measure, measured_size, time_refusal
from infra.config import RequestLimits

LIMITS = RequestLimits(max_message_bytes=2048, max_string_chars=100, max_depth=5, max_output_bytes=64 * 1024)
RECEIVED = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def nested(depth: int) -> dict:
    """A message whose properties make it `depth` containers deep, counting the message."""
    value: dict = {}
    for _ in range(depth - 2):
        value = {"x": value}
    return {"type": "track", "event": "E", "properties": value}


def test_a_small_message_is_measured_as_its_json() -> None:
    message = {"type": "track", "event": "E", "anonymousId": "a"}
    assert measured_size(message, LIMITS) == len(orjson.dumps(message))


def test_depth_at_the_bound_passes_and_one_deeper_is_refused() -> None:
    assert measured_size(nested(5), LIMITS) > 0
    refused = measure([nested(6)], {}, LIMITS)
    assert refused.sizes == [None] and "nested deeper than 5 levels" in refused.reasons[0]


def test_nesting_past_what_json_can_write_is_refused_not_raised() -> None:
    deep: list = []
    for _ in range(2000):
        deep = [deep]
    refused = measure([{"type": "track", "event": "E", "properties": {"x": deep}}], {}, RequestLimits())
    assert "nested deeper than" in refused.reasons[0]


def test_many_brackets_inside_strings_do_not_refuse_a_flat_message() -> None:
    message = {"type": "track", "event": "E", "properties": {"s": "{[" * 40}}
    assert measured_size(message, LIMITS) > 0


def test_a_long_string_is_refused_with_its_path() -> None:
    refused = measure([{"type": "track", "event": "E", "properties": {"items": [{"name": "n" * 101}]}}], {}, LIMITS)
    assert refused.reasons[0].startswith("properties.items[0].name: a string of 101 characters")


def test_a_long_key_is_refused() -> None:
    refused = measure([{"type": "track", "event": "E", "properties": {"k" * 101: 1}}], {}, LIMITS)
    assert "a key of 101 characters" in refused.reasons[0]


def test_the_shared_context_counts_against_every_message() -> None:
    message = {"type": "track", "event": "E", "anonymousId": "a"}
    context = {"page": {"title": "t" * 90, "path": "p" * 90}, "extra": ["x" * 90] * 10}
    alone = measure([message], {}, LIMITS)
    shared = measure([message, message], context, LIMITS)
    assert shared.output_bytes == 2 * (alone.output_bytes + len(orjson.dumps(context)))
    big_context = {"blob": ["y" * 90] * 25}
    refused = measure([message], big_context, LIMITS)
    assert refused.sizes == [None] and "with the batch's context" in refused.reasons[0]


def test_a_batch_context_too_deep_or_too_long_refuses_every_message_it_would_join() -> None:
    messages = [{"type": "page", "anonymousId": "a"}] * 3
    deep: dict = {}
    for _ in range(300):  # past what JSON can be written at, too
        deep = {"a": deep}
    for context in (deep, {"page": {"path": "p" * 101}}, nested(5)):
        refused = measure(messages, context, LIMITS)
        assert refused.sizes == [None] * 3 and refused.output_bytes == 0
        assert all(reason.startswith("context: ") for reason in refused.reasons.values())
    assert measure(messages, nested(4), LIMITS).sizes[0] is not None


def test_a_message_over_the_byte_limit_is_refused_before_its_strings_are_walked() -> None:
    refused = measure([{"type": "track", "event": "E", "properties": {"a": ["x" * 50] * 60}}], {}, LIMITS)
    assert "over the limit of 2048 bytes a message" in refused.reasons[0]


@given(st.lists(st.one_of(st.just(nested(3)), st.just(nested(9)), st.just({"type": "page", "name": "n" * 200})), max_size=30))
def test_every_message_is_sized_or_refused_and_the_output_adds_up(messages: list) -> None:
    measured = measure(messages, {}, LIMITS)
    assert len(measured.sizes) == len(messages)
    for index, size in enumerate(measured.sizes):
        assert (size is None) == (index in measured.reasons)
    assert measured.output_bytes == sum(len(orjson.dumps(m)) for i, m in enumerate(messages) if i not in measured.reasons)


def test_event_times_outside_the_horizon_or_too_far_ahead_are_refused() -> None:
    limits = RequestLimits(horizon_days=30, max_future_s=3600)
    assert time_refusal(RECEIVED - timedelta(days=29), RECEIVED, limits) is None
    assert time_refusal(RECEIVED + timedelta(minutes=59), RECEIVED, limits) is None
    assert "older than the horizon of 30 days" in time_refusal(RECEIVED - timedelta(days=31), RECEIVED, limits)
    assert "ahead of the server's clock" in time_refusal(RECEIVED + timedelta(hours=2), RECEIVED, limits)
    assert time_refusal(datetime(1, 1, 1, tzinfo=UTC), RECEIVED, limits) is not None
