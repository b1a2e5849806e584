"""One visitor's state holds a bounded number of events: past it, the visitor's new events
are stored without a session, so no sender can grow a state past what Kafka takes in one
changelog record (and make the worker fail on it at every replay)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson

from processors.sessionisation.sessionise import sessionise_batch
from processors.sessionisation.sessions import MAX_STATE_BYTES, Rules, state_bytes

START = datetime(2027, 1, 1, tzinfo=UTC)
RULES = Rules(max_visitor_events=100)


def record(n: int, visitor: str = "flood") -> tuple[bytes, bytes]:
    moment = (START + timedelta(seconds=n)).isoformat()
    event = {"event_id": f"{visitor}-{n}", "site_id": "shop", "type": "page_view", "name": "Page Viewed", "ts": moment,
             "received_at": moment, "anonymous_id": visitor, "path": "/"}
    return f"shop:{visitor}".encode(), orjson.dumps(event)


def test_events_past_the_visitors_limit_are_stored_without_a_session() -> None:
    result = sessionise_batch([record(n) for n in range(250)], {}.get, lambda site: RULES)
    state = result.states[b"shop:flood"]
    assert len(state.placed) == 100 and sum(len(s.hits) for s in state.sessions) == 100
    assert result.over_limit == {"shop": 150}
    published = [orjson.loads(value)["event"] for _, value in result.sessionised]
    assert len(published) == 250  # every event still reaches footfall.events
    assert [("session_id" in event) for event in published] == [True] * 100 + [False] * 150
    assert [event["event_id"] for event in published[:100]] == [f"flood-{n}" for n in range(100)]


def test_the_limit_is_per_visitor_and_a_copy_of_a_placed_event_is_still_recognised() -> None:
    first = sessionise_batch([record(n) for n in range(100)], {}.get, lambda site: RULES)
    stored = first.states.get
    again = sessionise_batch([record(5), record(0, "other"), record(100)], stored, lambda site: RULES)
    assert again.over_limit == {"shop": 1}  # only flood-100, the new one
    assert again.duplicates == {"shop": 1}  # flood-5 is known, so neither refused nor published again
    assert [event["event_id"] for _, event, _ in again.placed] == ["other-0"]
    published = [orjson.loads(value)["event"]["event_id"] for _, value in again.sessionised]
    assert published == ["other-0", "flood-100"]


def test_the_decision_depends_on_the_stored_state_alone_so_a_replay_gives_the_same_records() -> None:
    batch = [record(n) for n in range(150)]
    assert sessionise_batch(batch, {}.get, lambda site: RULES).sessionised == sessionise_batch(batch, {}.get, lambda site: RULES).sessionised


def long_record(n: int) -> tuple[bytes, bytes]:
    key, value = record(n)
    return key, orjson.dumps({**orjson.loads(value), "path": "/" + "p" * 8000})


def test_a_state_is_bounded_in_bytes_too_whatever_its_events_carry() -> None:
    long = [long_record(n) for n in range(200)]
    result = sessionise_batch(long, {}.get, lambda site: Rules())
    state = result.states[b"shop:flood"]
    assert 0 < state_bytes(state) <= MAX_STATE_BYTES
    assert len(state.placed) < 70 and result.over_limit["shop"] == 200 - len(state.placed)
    # Weighed from the stored state in the next batch, the limit holds the same; copies of
    # events the state holds add nothing to it, so a small new event still fits.
    more = sessionise_batch(long[:5] + [long_record(500), record(501)], result.states.get, lambda site: Rules())
    assert more.over_limit == {"shop": 1} and more.duplicates == {"shop": 5}
    assert [event["event_id"] for _, event, _ in more.placed] == ["flood-501"]
    assert state_bytes(more.states[b"shop:flood"]) <= MAX_STATE_BYTES


def test_a_record_that_holds_no_event_is_set_aside_and_the_events_around_it_are_placed() -> None:
    """Found by fuzzing: a page's referrer sent as a list once stopped the worker."""
    key, value = record(1)
    broken = orjson.dumps({**orjson.loads(value), "event_id": "broken", "referrer": ["https://a.test/"]})
    result = sessionise_batch([record(0), (key, broken), (None, value), record(2)], {}.get, lambda site: RULES)
    assert [event["event_id"] for _, event, _ in result.placed] == ["flood-0", "flood-2"]
    assert result.malformed == [
        ((key, broken), "referrer of a record of the events topic is an array, not text or null"),
        ((None, value), "a record of the events topic is not keyed by its site and visitor"),
    ]
