"""Records of the events topic that hold no Event are recognised, with a reason naming
what is wrong; every Event the collector writes is taken as it is."""

from datetime import UTC, datetime

import orjson
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from schemas.event import Event, EventType
from schemas.event_record import FIELD_TYPES, decoded_event

EVENT = Event(
    event_id="e1", site_id="shop", type=EventType.PAGE_VIEW, name="Page Viewed", ts=datetime(2027, 1, 1, tzinfo=UTC),
    received_at=datetime(2027, 1, 1, tzinfo=UTC), anonymous_id="v", referrer="https://r.test/", revenue=None,
    x=3.5, screen_width=800, properties={"plan": "pro"}, traits={},
)
VALUE = EVENT.model_dump_json().encode()


def test_an_event_as_the_collector_writes_it_is_taken_whole() -> None:
    event, reason = decoded_event(EVENT.kafka_key, VALUE)
    assert reason is None and event == orjson.loads(VALUE)


WRONG = st.one_of(st.lists(st.integers(0, 9), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(0, 9), max_size=2),
                  st.booleans(), st.text(max_size=5), st.floats(allow_nan=False, allow_infinity=False), st.integers(-(2**63), 2**63 - 1))


@given(name=st.sampled_from(sorted(FIELD_TYPES)), value=WRONG)
def test_a_field_of_the_wrong_type_is_named(name: str, value: object) -> None:
    fits = type(value) in FIELD_TYPES[name]
    # Text in a time or in the site id fits its type, and is checked further (below).
    assume(not (fits and name in ("ts", "received_at", "client_ts", "sent_at", "site_id")))
    event, reason = decoded_event(EVENT.kafka_key, orjson.dumps({**orjson.loads(VALUE), name: value}))
    if fits:
        assert reason is None and event is not None and event[name] == value
    else:
        assert event is None and reason is not None and reason.startswith(f"{name} of a record")


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        (b"shop:v", b"{not json", "a record of the events topic is not JSON"),
        (b"shop:v", None, "a record of the events topic is not JSON"),
        (b"shop:v", b"[1, 2]", "a record of the events topic must be a JSON object, not an array"),
        (b"shop:v", b'{"site_id": "shop"}', "a record of the events topic lacks event_id, type, name, ts, received_at"),
        (b"shop:v", orjson.dumps({**orjson.loads(VALUE), "ts": "yesterday"}), "ts of a record of the events topic is not an ISO 8601 time"),
        (b"other:v", VALUE, "a record of the events topic is not keyed by its site and visitor"),
        (None, VALUE, "a record of the events topic is not keyed by its site and visitor"),
        (b"shop:\xff", VALUE, "a record of the events topic has a key that is not UTF-8"),
        (b"shop:v", orjson.dumps({**orjson.loads(VALUE), "x": True}), "x of a record of the events topic is a boolean, not an integer or a number or null"),
    ],
)
def test_records_that_hold_no_event_are_refused_with_the_reason(key: bytes | None, value: bytes | None, reason: str) -> None:
    assert decoded_event(key, value) == (None, reason)
