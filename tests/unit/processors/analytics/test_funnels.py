"""Funnel matching without Kafka: crafted cases, a reference written from windowFunnel's
definition, and ClickHouse's own windowFunnel (the chDB engine) over the same events."""

from __future__ import annotations

import random

import chdb
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processors.analytics.conditions import Condition, RuleError
from processors.analytics.funnels import Funnel, FunnelProgress, Step, advance, parse_steps

STEP_NAMES = ("s1", "s2", "s3", "s4")

# Events as generated below: (event_id, ts_ms, step numbers the event matches).
Generated = tuple[str, int, frozenset[int]]


def funnel(steps: int, window_ms: int, lateness_ms: int = 10**12) -> Funnel:
    """A funnel whose step k matches events tagged s<k>, so one event can match several."""
    return Funnel(
        "f",
        tuple(Step(rule=Condition("properties.tags", "contains", STEP_NAMES[k])) for k in range(steps)),
        window_ms,
        lateness_ms,
    )


def payload(event_id: str, matched: frozenset[int]) -> dict:
    return {"event_id": event_id, "type": "track", "name": "x", "properties": {"tags": [f"s{k}" for k in sorted(matched)]}}


def stream(f: Funnel, events: list[Generated]) -> tuple[FunnelProgress, list]:
    state, outputs = FunnelProgress(), []
    for event_id, ts, matched in events:
        state, out = advance(f, state, payload(event_id, matched), ts)
        if out is not None:
            outputs.append(out)
    return state, outputs


def reference(events: list[Generated], steps: int, window_ms: int) -> tuple[int, ...]:
    """windowFunnel's definition, checked chain by chain: a chain is entries for steps 1..k
    at non-decreasing times, the last within the window of the first. Returns, per level,
    the earliest time a chain of that length completes."""
    entries = [(ts, k) for _, ts, matched in events for k in matched if k <= steps]
    # chain_starts[(ts, k)]: start times of valid chains 1..k ending at an entry (ts, k).
    chain_starts: dict[tuple[int, int], set[int]] = {}
    for ts, k in sorted(entries):
        if k == 1:
            chain_starts[(ts, k)] = {ts}
        else:
            chain_starts[(ts, k)] = {
                start
                for (prev_ts, prev_k), starts in chain_starts.items()
                if prev_k == k - 1 and prev_ts <= ts
                for start in starts
                if ts - start <= window_ms
            }
    reach = []
    for level in range(1, steps + 1):
        ends = [ts for (ts, k), starts in chain_starts.items() if k == level and starts]
        if not ends:
            break
        reach.append(min(ends))
    return tuple(reach)


def clickhouse_levels(visitors: list[list[Generated]], steps: int, window_ms: int) -> dict[int, int]:
    """windowFunnel in the ClickHouse engine, one row per generated event."""
    columns = ", ".join(f"c{k} UInt8" for k in range(1, steps + 1))
    rows = ", ".join(
        f"({v}, {ts}, {', '.join(str(int(k in matched)) for k in range(1, steps + 1))})"
        for v, events in enumerate(visitors)
        for _, ts, matched in events
    )
    conds = ", ".join(f"c{k} = 1" for k in range(1, steps + 1))
    sql = (
        f"SELECT v, windowFunnel({window_ms})(ts, {conds}) AS level "
        f"FROM values('v UInt32, ts UInt64, {columns}', {rows}) GROUP BY v"
    )
    result = chdb.query(sql, "JSONEachRow").bytes().decode()
    return {row["v"]: row["level"] for row in map(orjson.loads, result.splitlines())}


def visitor_events(
    max_events: int = 10, span_ms: int = 100, tags: int = 3, min_events: int = 0
) -> st.SearchStrategy[list[Generated]]:
    """One visitor's events, each matching up to `tags` of four steps."""
    event = st.tuples(st.integers(0, span_ms), st.frozensets(st.integers(1, 4), max_size=tags))
    return st.lists(event, min_size=min_events, max_size=max_events).map(
        lambda items: [(f"e{i}", ts, matched) for i, (ts, matched) in enumerate(items)]
    )


# --- crafted cases -------------------------------------------------------------------


def test_steps_in_order_within_the_window_reach_the_end() -> None:
    state, outputs = stream(funnel(3, 10), [("a", 0, frozenset({1})), ("b", 4, frozenset({2})), ("c", 10, frozenset({3}))])
    assert state.level == 3
    assert state.reached_ms == (0, 4, 10)
    assert [o.level for o in outputs] == [1, 2, 3]
    assert [o.version for o in outputs] == [1, 2, 3]


def test_the_window_is_inclusive_and_counted_from_the_first_step() -> None:
    on_the_edge, _ = stream(funnel(2, 10), [("a", 0, frozenset({1})), ("b", 10, frozenset({2}))])
    past_it, _ = stream(funnel(2, 10), [("a", 0, frozenset({1})), ("b", 11, frozenset({2}))])
    assert (on_the_edge.level, past_it.level) == (2, 1)


def test_a_later_start_gives_later_steps_room() -> None:
    events = [("a", 0, frozenset({1})), ("b", 5, frozenset({1})), ("c", 6, frozenset({2})), ("d", 14, frozenset({3}))]
    state, _ = stream(funnel(3, 10), events)
    assert state.level == 3
    # Step 2 was first reached at 6 (by the chain from 0 or from 5); step 3 only from 5.
    assert state.reached_ms == (0, 6, 14)


def test_without_a_first_step_nothing_counts() -> None:
    state, outputs = stream(funnel(3, 10), [("b", 1, frozenset({2})), ("c", 2, frozenset({3}))])
    assert (state.level, outputs) == (0, [])


def test_equal_times_count_in_step_order_whatever_the_arrival() -> None:
    # Step 2 arrives first, at the same millisecond as step 1: ClickHouse sorts by
    # (time, step), so the chain holds.
    state, _ = stream(funnel(2, 10), [("b", 5, frozenset({2})), ("a", 5, frozenset({1}))])
    assert state.reached_ms == (5, 5)


def test_one_event_matching_two_steps_serves_as_both() -> None:
    state, _ = stream(funnel(3, 10), [("a", 3, frozenset({1, 2})), ("b", 4, frozenset({3}))])
    assert state.reached_ms == (3, 3, 4)


def test_a_late_first_step_completes_a_chain_retroactively() -> None:
    state, outputs = stream(funnel(3, 100), [("c", 50, frozenset({3})), ("b", 30, frozenset({2})), ("a", 10, frozenset({1}))])
    assert state.reached_ms == (10, 30, 50)
    assert [o.level for o in outputs] == [3]


def test_a_replayed_event_changes_nothing() -> None:
    f = funnel(2, 10)
    state, _ = stream(f, [("a", 0, frozenset({1}))])
    again, out = advance(f, state, payload("a", frozenset({1})), 0)
    assert (again, out) == (state, None)


def test_events_matching_no_step_leave_the_state_alone() -> None:
    f = funnel(2, 10)
    state, out = advance(f, FunnelProgress(), payload("x", frozenset()), 5)
    assert (state, out) == (FunnelProgress(), None)


def test_old_entries_are_forgotten_but_their_progress_kept() -> None:
    f = funnel(3, 10, lateness_ms=20)
    state, _ = stream(f, [("a", 0, frozenset({1})), ("b", 5, frozenset({2})), ("z", 1000, frozenset({1}))])
    assert [entry[0] for entry in state.entries] == [1000]
    assert state.reached_ms == (0, 5)


def test_entries_within_the_window_of_the_newest_are_kept_for_chains_still_open() -> None:
    f = funnel(3, 50, lateness_ms=0)
    state, _ = stream(f, [("a", 0, frozenset({1})), ("b", 10, frozenset({2})), ("c", 20, frozenset({3}))])
    assert state.reached_ms == (0, 10, 20)


def test_an_event_later_than_the_lateness_is_flagged() -> None:
    f = funnel(2, 10, lateness_ms=20)
    state, _ = stream(f, [("a", 1000, frozenset({1}))])
    _, out = advance(f, state, payload("b", frozenset({1})), 100)
    assert out is not None and out.late and out.reached_ms == (100,)


def test_step_filters_use_event_fields_and_properties() -> None:
    steps = parse_steps(
        [
            {"type": "page_view", "field": "path", "op": "eq", "value": "/pricing"},
            {"event": "Signed Up", "any": [{"field": "properties.plan", "op": "in", "value": ["pro", "team"]}]},
        ],
        "steps",
    )
    assert steps[0].matches({"type": "page_view", "path": "/pricing"})
    assert not steps[0].matches({"type": "page_view", "path": "/"})
    assert steps[1].matches({"type": "track", "name": "Signed Up", "properties": {"plan": "team"}})
    assert not steps[1].matches({"type": "track", "name": "Signed Up", "properties": {"plan": "free"}})
    assert not steps[1].matches({"type": "track", "name": "Signed Up"})


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([], "1 to 32 steps"),
        ([{"type": "pageview"}], "unknown type 'pageview'"),
        ([{}], "needs a type, an event name or conditions"),
        ([{"event": "X", "field": "propertys.plan", "op": "eq", "value": 1}], "unknown field 'propertys.plan'"),
        ([{"event": "X"}, {"event": ""}], r"steps\[1\]: event must be an event name"),
    ],
)
def test_bad_steps_are_named(steps: list, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        parse_steps(steps, "steps")


# --- properties ----------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(events=visitor_events(), steps=st.integers(1, 4), window=st.integers(0, 60), seed=st.randoms())
def test_stream_equals_the_reference_in_any_arrival_order(
    events: list[Generated], steps: int, window: int, seed: random.Random
) -> None:
    arrival = list(events)
    seed.shuffle(arrival)
    state, outputs = stream(funnel(steps, window), arrival)
    expected = reference(events, steps, window)
    assert state.reached_ms == expected
    assert (outputs[-1].reached_ms if outputs else ()) == expected
    assert not any(o.late for o in outputs)


@settings(max_examples=200, deadline=None)
@given(
    events=visitor_events(min_events=10, max_events=30, span_ms=400, tags=1),
    window=st.integers(0, 60),
    lateness=st.integers(0, 60),
    seed=st.randoms(),
)
def test_bounded_state_stays_exact_for_events_within_the_lateness(
    events: list[Generated], window: int, lateness: int, seed: random.Random
) -> None:
    # Each event is delayed by less than the lateness, so none arrives later than allowed.
    arrival = sorted(events, key=lambda e: e[1] + seed.randrange(lateness + 1) if lateness else e[1])
    f = funnel(3, window, lateness)
    state, outputs = stream(f, arrival)
    assert state.reached_ms == reference(events, 3, window)
    assert not any(o.late for o in outputs)
    assert all(ts >= state.watermark_ms - lateness - window for ts, _, _ in state.entries)


@settings(max_examples=40, deadline=None)
@given(
    visitors=st.lists(visitor_events(max_events=8), min_size=1, max_size=15).filter(lambda vs: any(vs)),
    steps=st.integers(2, 4),
    window=st.integers(0, 60),
    seed=st.randoms(),
)
def test_stream_equals_clickhouse_window_funnel(
    visitors: list[list[Generated]], steps: int, window: int, seed: random.Random
) -> None:
    levels = clickhouse_levels(visitors, steps, window)
    for v, events in enumerate(visitors):
        arrival = list(events)
        seed.shuffle(arrival)
        state, _ = stream(funnel(steps, window), arrival)
        assert state.level == levels.get(v, 0), (v, events)
