"""The sink's request builder: Kafka record values, as the stages publish them, to the rows
each ClickHouse table stores, grouped into the batch one write stores."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import chdb
import orjson
import pytest
from pydantic import ValidationError

from schemas.migrations import MIGRATIONS
from schemas.tables import DATABASE, EVENTS_DDL
from schemas.surveys import COMMENT_MAX_CHARS
from schemas.topics import CLV_MODELS, CUSTOMERS, DEAD_LETTER, EVENTS, FUNNEL_PROGRESS, SEGMENT_CHANGES, SESSIONISED, SESSIONS
from schemas.traits import TRAIT_TEXT_MAX_CHARS
from sinks.rejections import TOPIC_TABLES, UNREADABLE
from sinks.rows import (
    ImpossibleTime,
    RowBatch,
    clickhouse_text,
    clickhouse_time,
    clv_model_row,
    customers_table_row,
    event_row,
    funnel_row,
    invalid_row,
    moment_of,
    move_statement,
    quote,
    segment_rows,
    session_row,
)

AT_MS = 1_795_600_800_250  # 2026-11-25 10:00:00.250 UTC

# An event as the sessioniser publishes it: the collector's whole normalised event, with its session.
EVENT: dict[str, Any] = {
    "event_id": "e1", "site_id": "shop", "type": "click", "name": "Element Clicked",
    "ts": "2026-11-25T10:00:00.250000Z", "received_at": "2026-11-25T10:00:01.500000Z",
    "client_ts": "2026-11-25T09:59:58.000000Z", "sent_at": None,
    "anonymous_id": "a1", "user_id": None, "session_id": "s1",
    "url": "https://shop.example/pricing?x=1", "path": "/pricing", "referrer": None, "title": "Prices & plans",
    "selector": "button.buy", "tag": "button", "text": "Buy «now»", "x": 120.0, "y": 40.5,
    "page_width": 1200.0, "page_height": 3000.0, "viewport_width": 1200.0, "viewport_height": 800.0,
    "scroll_pct": None, "revenue": None, "currency": None, "order_id": None,
    "browser": "Chrome", "browser_version": "131", "os": "Linux", "os_version": None, "device": "desktop",
    "ip": "203.0.113.0", "country": "DE", "region": None, "city": None, "locale": "de-DE",
    "screen_width": 1920, "screen_height": 1080,
    "utm_source": "news", "utm_medium": "email", "utm_campaign": "winter", "utm_term": None, "utm_content": None,
    "library_name": "footfall.js", "library_version": "1.0.0",
    "properties": {"plan": "pro", "note": "ünï \"code\""}, "traits": {"email": "kept out"},
}
EVENT_ROW: dict[str, Any] = {
    "event_id": "e1", "site_id": "shop", "type": "click", "name": "Element Clicked",
    "anonymous_id": "a1", "user_id": "", "session_id": "s1",
    "url": "https://shop.example/pricing?x=1", "path": "/pricing", "referrer": "", "title": "Prices & plans",
    "selector": "button.buy", "text": "Buy «now»", "currency": "", "order_id": "",
    "browser": "Chrome", "os": "Linux", "device": "desktop",
    "utm_source": "news", "utm_medium": "email", "utm_campaign": "winter",
    "country": "DE", "region": "", "city": "",
    "x": 120.0, "y": 40.5, "page_width": 1200.0, "page_height": 3000.0, "scroll_pct": None, "revenue": None,
    "ts": "2026-11-25 10:00:00.250", "received_at": "2026-11-25 10:00:01.500",
    "comment": "", "properties": '{"plan":"pro","note":"ünï \\"code\\""}', "traits": "", "bot": 0, "version": 1,
}
SESSION = {
    "site_id": "shop", "session_id": "s1", "anonymous_id": "a1", "user_id": "", "started_at_ms": AT_MS,
    "ended_at_ms": AT_MS + 90_000, "duration_s": 90.0, "events": 3, "pageviews": 2, "clicks": 1,
    "max_scroll_pct": 75.0, "purchases": 0, "revenue": 0.0, "entry_path": "/", "exit_path": "/pricing",
    "is_bounce": False, "utm_source": "news", "utm_medium": "email", "utm_campaign": "winter",
    "referrer_host": "", "version": 4, "is_deleted": True,
}
DEAD = {
    "site_id": "shop", "received_at": "2026-11-25T10:00:01.500000Z", "endpoint": "batch",
    "reason": "batch[0].type: unknown type 'boom'", "raw": '{"type": "boom", "\\u0000": "\'"}',
}
CHANGE = {
    "site_id": "shop", "anonymous_id": "a1", "customer_id": "c1", "segment": "loyal",
    "change": "entered", "rule": "purchases >= 2", "at_ms": AT_MS, "version": 7,
}
CUSTOMER = {
    "site_id": "shop", "customer_id": "c1", "anonymous_id": "a1", "user_id": "u1", "purchases": 2, "revenue": 60.0,
    "aov": 30.0, "first_purchase_ms": AT_MS - 86_400_000, "last_purchase_ms": AT_MS, "recency_days": 0.0,
    "r_score": 5, "f_score": 3, "m_score": 4, "rfm_segment": "loyal", "clv_historical": 60.0, "clv_predicted": 95.5,
    "nps": 9, "nps_category": "promoter", "csat": None, "ces": None,
    "nps_ms": AT_MS + 1_000, "csat_ms": None, "ces_ms": None, "updated_ms": AT_MS + 2_000,
    "version": 7, "is_deleted": 0,
}
FIT = {
    "site_id": "shop", "fitted_at_ms": AT_MS, "calibration_end": "2026-11-24", "customers": 2357,
    "r": 0.243, "alpha": 30.9, "a": 0.793, "b": 2.426, "p": 6.25, "q": 3.74, "v": 15.44, "log_likelihood": -14363.5,
}
FUNNEL = {
    "site_id": "shop", "anonymous_id": "a1", "customer_id": "c1", "funnel": "checkout",
    "reached_ms": [AT_MS, AT_MS + 60_000], "version": 2, "late": True,
}


def value(record: dict[str, Any]) -> bytes:
    return orjson.dumps(record)


def sessionised(event: dict[str, Any]) -> bytes:
    return value({"kind": "event", "event": event})


def moved(event_ids: list[str], session_id: str, site_id: str = "shop") -> bytes:
    return value({"kind": "moved", "site_id": site_id, "event_ids": event_ids, "session_id": session_id})


def events_columns() -> set[str]:
    """The events table's columns as the migrations make them: created, then added."""
    created = re.findall(r"^\s{4}(\w+)\s", EVENTS_DDL, re.MULTILINE)
    statements = [statement for migration in MIGRATIONS for statement in migration.statements]
    added = [re.findall(rf"^ALTER TABLE {DATABASE}\.events ADD COLUMN IF NOT EXISTS (\w+)", statement) for statement in statements]
    return {*created, *(column for found in added for column in found)}


def engine(sql: str) -> list[dict[str, Any]]:
    """The modern engine's answer, to check text meant for it."""
    return [orjson.loads(line) for line in chdb.query(sql, "JSONEachRow").bytes().splitlines()]


# Moments and their text.

def test_moments_are_epoch_milliseconds_or_iso_text_in_any_offset() -> None:
    expected = datetime(2026, 11, 25, 10, 0, 0, 250_000, UTC)
    assert moment_of(AT_MS) == expected
    assert moment_of("2026-11-25T10:00:00.250000Z") == expected
    assert moment_of("2026-11-25T12:00:00.250+02:00") == expected
    assert moment_of("2026-11-25T04:30:00.250-05:30") == expected
    assert moment_of(AT_MS).tzinfo == UTC and moment_of("2026-11-25T12:00:00.250+02:00").tzinfo == UTC


def test_clickhouse_text_has_milliseconds_cut_not_rounded() -> None:
    assert clickhouse_text(datetime(2026, 1, 2, 3, 4, 5, 999_999, UTC)) == "2026-01-02 03:04:05.999"
    assert clickhouse_text(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02 03:04:05.000"
    assert clickhouse_text(datetime(2026, 12, 31, 23, 59, 59, 1_000)) == "2026-12-31 23:59:59.001"


def test_clickhouse_time_is_the_utc_text_of_any_moment() -> None:
    assert clickhouse_time(AT_MS) == "2026-11-25 10:00:00.250"
    assert clickhouse_time(0) == "1970-01-01 00:00:00.000"
    assert clickhouse_time("2026-11-25T00:30:00+01:00") == "2026-11-24 23:30:00.000"
    assert clickhouse_time(moment_of(AT_MS).astimezone(timezone(timedelta(hours=9))).isoformat()) == "2026-11-25 10:00:00.250"


def test_clickhouse_text_is_read_back_by_the_engine_as_the_same_moment() -> None:
    text = clickhouse_text(datetime(2026, 2, 28, 23, 59, 59, 999_999, UTC))
    assert engine(f"SELECT toString(toDateTime64({quote(text)}, 3, 'UTC')) AS t") == [{"t": "2026-02-28 23:59:59.999"}]


# Quoting.

@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("plain", "'plain'"),
        ("", "''"),
        ("it's", r"'it\'s'"),
        ("C:\\temp\\new", r"'C:\\temp\\new'"),
        ("\\'", r"'\\\''"),  # a backslash before a quote cannot unescape it
        ("x' OR 1=1 --", r"'x\' OR 1=1 --'"),
        ("two\nlines\ttab", "'two\nlines\ttab'"),
        ("ünïcode ✓ 日本", "'ünïcode ✓ 日本'"),
        ('"double"', "'\"double\"'"),
    ],
)
def test_quote_escapes_backslashes_then_quotes(text: str, quoted: str) -> None:
    assert quote(text) == quoted


@pytest.mark.parametrize("text", ["it's", "\\", "\\'", "'; DROP TABLE t; --", "two\nlines", "ünïcode ✓ 日本", "\\\\''\\"])
def test_quoted_text_is_read_by_the_engine_as_the_text_itself(text: str) -> None:
    assert engine(f"SELECT {quote(text)} AS s") == [{"s": text}]


# Each table's row.

def test_an_event_row_has_the_events_columns_filled_from_the_event() -> None:
    received_at = moment_of(EVENT["received_at"])
    assert event_row(EVENT, received_at) == EVENT_ROW


def test_the_bot_mark_is_stored_as_a_flag_and_unmarked_records_are_people() -> None:
    received_at = moment_of(EVENT["received_at"])
    assert event_row({**EVENT, "bot": True}, received_at)["bot"] == 1
    assert event_row({**EVENT, "bot": False}, received_at)["bot"] == 0
    assert "bot" not in EVENT and event_row(EVENT, received_at)["bot"] == 0


def test_every_event_row_has_exactly_the_events_tables_columns_whatever_the_event_carries() -> None:
    bare = {"event_id": "e2", "site_id": "shop", "type": "page_view", "name": "Page Viewed", "ts": AT_MS}
    full_row = event_row(EVENT, moment_of(EVENT["received_at"]))
    bare_row = event_row(bare, moment_of(AT_MS))
    assert set(full_row) == events_columns()
    assert list(bare_row) == list(full_row), "the native backend takes the columns, in order, from the first row"
    assert bare_row["properties"] == "{}"
    assert bare_row["x"] is None and bare_row["user_id"] == "" and bare_row["ts"] == "2026-11-25 10:00:00.250"


def test_a_session_row_has_times_and_flags_as_the_table_stores_them() -> None:
    expected = {key: value for key, value in SESSION.items() if not key.endswith("_ms")}
    expected.update(started_at="2026-11-25 10:00:00.250", ended_at="2026-11-25 10:01:30.250", is_bounce=0, is_deleted=1)
    assert session_row(SESSION) == expected


def test_a_dead_letter_row_keeps_the_reason_and_the_raw_message_as_sent() -> None:
    assert invalid_row(DEAD) == {**DEAD, "received_at": "2026-11-25 10:00:01.500"}


def test_a_segment_change_is_a_line_of_history_and_the_members_current_row() -> None:
    common = {"site_id": "shop", "segment": "loyal", "anonymous_id": "a1", "customer_id": "c1", "version": 7}
    assert segment_rows(CHANGE) == {
        "segment_changes": {**common, "change": "entered", "at": "2026-11-25 10:00:00.250", "rule": "purchases >= 2"},
        "segment_membership": {**common, "since": "2026-11-25 10:00:00.250", "is_deleted": 0},
    }


def test_leaving_a_segment_deletes_the_membership_and_a_missing_rule_is_empty() -> None:
    left = {key: value for key, value in CHANGE.items() if key != "rule"} | {"change": "left"}
    rows = segment_rows(left)
    assert rows["segment_changes"]["change"] == "left" and rows["segment_changes"]["rule"] == ""
    assert rows["segment_membership"]["is_deleted"] == 1


def test_a_customers_table_row_has_times_for_every_moment_and_none_for_a_missing_one() -> None:
    expected = {key: value for key, value in CUSTOMER.items() if not key.endswith("_ms")}
    expected.update(
        first_purchase_at="2026-11-24 10:00:00.250", last_purchase_at="2026-11-25 10:00:00.250",
        nps_at="2026-11-25 10:00:01.250", csat_at=None, ces_at=None, updated_at="2026-11-25 10:00:02.250",
    )
    assert customers_table_row(CUSTOMER) == expected


def test_a_funnel_row_has_the_level_reached_and_each_steps_time() -> None:
    assert funnel_row(FUNNEL) == {
        "site_id": "shop", "anonymous_id": "a1", "customer_id": "c1", "funnel": "checkout", "version": 2,
        "level": 2, "step_at": ["2026-11-25 10:00:00.250", "2026-11-25 10:01:00.250"], "late": 1,
    }
    assert funnel_row({**FUNNEL, "reached_ms": [], "late": False}) == {
        "site_id": "shop", "anonymous_id": "a1", "customer_id": "c1", "funnel": "checkout", "version": 2,
        "level": 0, "step_at": [], "late": 0,
    }


def test_a_move_rewrites_the_events_under_their_new_session_with_a_higher_version() -> None:
    assert move_statement("shop", ["e1", "e2"], "s2") == (
        "INSERT INTO footfall.events SELECT * REPLACE ('s2' AS session_id, version + 1 AS version) "
        "FROM footfall.events FINAL WHERE site_id = 'shop' AND event_id IN ('e1', 'e2')"
    )


def test_a_move_quotes_every_value_it_is_given() -> None:
    statement = move_statement("it's", ["e'1", "e\\2"], "s'); DROP TABLE x; --")
    assert statement == (
        r"INSERT INTO footfall.events SELECT * REPLACE ('s\'); DROP TABLE x; --' AS session_id, version + 1 AS version) "
        r"FROM footfall.events FINAL WHERE site_id = 'it\'s' AND event_id IN ('e\'1', 'e\\2')"
    )


# The batch.

def test_a_batch_groups_each_topics_rows_by_table_in_arrival_order() -> None:
    batch = RowBatch()
    second = {**EVENT, "event_id": "e2", "received_at": "2026-11-25T10:00:02.000000Z"}
    records = [
        (SESSIONISED.name, sessionised(EVENT)),
        (SESSIONISED.name, moved(["e0"], "s1")),
        (SESSIONS.name, value(SESSION)),
        (SESSIONISED.name, sessionised(second)),
        (SESSIONISED.name, moved(["e1", "e2"], "s2")),
        (DEAD_LETTER.name, value(DEAD)),
        (FUNNEL_PROGRESS.name, value(FUNNEL)),
        (SEGMENT_CHANGES.name, value(CHANGE)),
        (CUSTOMERS.name, value(CUSTOMER)),
        (CUSTOMERS.name, value({**CUSTOMER, "customer_id": "c0", "is_deleted": 1})),
    ]
    for topic, record in records:
        batch.add(topic, record)

    assert batch.events == [EVENT_ROW, event_row(second, moment_of(second["received_at"]))]
    assert batch.moves == [move_statement("shop", ["e0"], "s1"), move_statement("shop", ["e1", "e2"], "s2")]
    assert batch.sessions == [session_row(SESSION)]
    assert batch.invalid == [invalid_row(DEAD)]
    assert batch.received_at == [moment_of(EVENT["received_at"]).timestamp(), moment_of(second["received_at"]).timestamp()]
    assert batch.received_at == [1795600801.5, 1795600802.0]
    assert list(batch.analytics) == ["funnel_progress", "segment_changes", "segment_membership", "customers"]
    assert batch.analytics["funnel_progress"] == [funnel_row(FUNNEL)]
    assert batch.analytics["segment_changes"] == [segment_rows(CHANGE)["segment_changes"]]
    assert batch.analytics["segment_membership"] == [segment_rows(CHANGE)["segment_membership"]]
    assert [row["customer_id"] for row in batch.analytics["customers"]] == ["c1", "c0"]
    assert [row["is_deleted"] for row in batch.analytics["customers"]] == [0, 1]
    assert len(batch) == 2 + 2 + 1 + 1 + 1 + 2 + 2


def test_a_fit_is_a_row_of_clv_models() -> None:
    assert clv_model_row(FIT) == {
        **{key: value for key, value in FIT.items() if key != "fitted_at_ms"}, "fitted_at": "2026-11-25 10:00:00.250",
    }
    batch = RowBatch()
    batch.add(CLV_MODELS.name, value(FIT))
    assert list(batch.analytics) == ["clv_models"] and len(batch) == 1


def test_an_empty_batch_is_false_and_has_no_rows() -> None:
    batch = RowBatch()
    assert not batch and len(batch) == 0
    assert (batch.events, batch.moves, batch.sessions, batch.invalid, batch.received_at, batch.analytics) == ([], [], [], [], [], {})


def test_a_topic_the_sink_does_not_read_is_refused() -> None:
    with pytest.raises(ValueError, match="the sink does not read footfall.events$"):
        RowBatch().add(EVENTS.name, sessionised(EVENT))


# Values no stage publishes, the error building rows from each raises, and its message.
MALFORMED_VALUES = [
    (SESSIONISED.name, b"not json", orjson.JSONDecodeError, "line 1 column 1 (char 0)"),
    (SESSIONISED.name, b"", orjson.JSONDecodeError, "Input is a zero-length, empty document"),
    (SESSIONISED.name, value({"event": EVENT}), KeyError, "'kind'"),
    (SESSIONISED.name, sessionised({**EVENT, "ts": "yesterday"}), ValueError, "Invalid isoformat string: 'yesterday'"),
    (SESSIONISED.name, sessionised({k: v for k, v in EVENT.items() if k != "received_at"}), KeyError, "'received_at'"),
    (SESSIONISED.name, value({"kind": "moved", "site_id": "shop", "event_ids": [1], "session_id": "s2"}), AttributeError, "replace"),
    (SESSIONS.name, value({**SESSION, "started_at_ms": "soon"}), ValueError, "Invalid isoformat string: 'soon'"),
    (DEAD_LETTER.name, value({**DEAD, "received_at": None}), TypeError, "must be str"),
    (SEGMENT_CHANGES.name, value({k: v for k, v in CHANGE.items() if k != "change"}), KeyError, "'change'"),
    (CUSTOMERS.name, value({k: v for k, v in CUSTOMER.items() if k != "updated_ms"}), KeyError, "'updated_ms'"),
    (FUNNEL_PROGRESS.name, value({k: v for k, v in FUNNEL.items() if k != "late"}), KeyError, "'late'"),
    (CLV_MODELS.name, value({**FIT, "a": -0.5}), ValidationError, "Input should be greater than 0"),
    (CLV_MODELS.name, value({**FIT, "alpha": None}), ValidationError, "Input should be a valid number"),
    (CLV_MODELS.name, value({**FIT, "q": 0.9}), ValidationError, "Input should be greater than 1"),
    (CLV_MODELS.name, value({**FIT, "site_id": "x'; DROP"}), ValidationError, "String should match pattern"),
]


@pytest.mark.parametrize(("topic", "record", "error", "message"), MALFORMED_VALUES)
def test_a_malformed_value_raises_and_adds_nothing_to_the_batch(topic: str, record: bytes, error: type[Exception], message: str) -> None:
    """Building rows raises on a value it cannot read, with no half of the record left in
    the batch; the consumer loop's `take` sets such a record aside instead."""
    batch = RowBatch()
    batch.add(SESSIONISED.name, sessionised(EVENT))
    with pytest.raises(error, match=re.escape(message)):
        batch.add(topic, record)
    assert len(batch) == 1
    assert batch.events == [EVENT_ROW] and batch.received_at == [1795600801.5]
    assert (batch.moves, batch.sessions, batch.invalid, batch.analytics) == ([], [], [], {})



# Times ClickHouse cannot store, and records the sink sets aside.

@pytest.mark.parametrize(
    "moment",
    [
        "0001-01-01T00:00:00Z", "1899-12-31T23:59:59.999Z", "2300-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z",
        "2300-01-01T00:30:00+00:30",  # 2299 in its own offset, 2300 in UTC
        -2_208_988_800_001, 10_413_792_000_000, -62_135_596_800_000,
    ],
)
def test_a_time_outside_what_datetime64_stores_is_refused(moment: str | int) -> None:
    with pytest.raises(ImpossibleTime, match=r"is outside the times ClickHouse stores \(1900 to 2299\)$"):
        moment_of(moment)


def test_the_first_and_last_times_datetime64_stores_are_taken_and_read_back_by_the_engine() -> None:
    first, last = clickhouse_time(-2_208_988_800_000), clickhouse_time("2299-12-31T23:59:59.999Z")
    assert (first, last) == ("1900-01-01 00:00:00.000", "2299-12-31 23:59:59.999")
    read = engine(f"SELECT toString(toDateTime64({quote(first)}, 3, 'UTC')) AS a, toString(toDateTime64({quote(last)}, 3, 'UTC')) AS b")
    assert read == [{"a": first, "b": last}]


def test_a_record_that_cannot_be_made_into_rows_is_set_aside_with_where_it_sits_in_kafka() -> None:
    batch = RowBatch()
    batch.take(SESSIONISED.name, 4, 1_234, sessionised({**EVENT, "ts": "0001-01-01T00:00:00Z"}))
    batch.take(SESSIONISED.name, 4, 1_235, sessionised(EVENT))
    assert batch.events == [EVENT_ROW] and len(batch) == 2
    [rejection] = batch.rejected
    assert rejection.table == "events" and rejection.reason_class == UNREADABLE and rejection.site_id == "shop"
    assert rejection.source == "footfall.events.sessionised:4:1234"
    assert rejection.reason == "ImpossibleTime: 0001-01-01T00:00:00+00:00 is outside the times ClickHouse stores (1900 to 2299)"
    assert orjson.loads(rejection.content)["event"]["ts"] == "0001-01-01T00:00:00Z"


@pytest.mark.parametrize(("topic", "record", "error", "message"), MALFORMED_VALUES)
def test_every_malformed_value_is_set_aside_alone_with_its_error(topic: str, record: bytes, error: type[Exception], message: str) -> None:
    batch = RowBatch()
    batch.take(SESSIONISED.name, 0, 7, sessionised(EVENT))
    batch.take(topic, 2, 9, record)
    assert batch.events == [EVENT_ROW] and (batch.moves, batch.sessions, batch.invalid, batch.analytics) == ([], [], [], {})
    [rejection] = batch.rejected
    assert (rejection.table, rejection.source) == (TOPIC_TABLES[topic], f"{topic}:2:9")
    assert rejection.reason.startswith(error.__name__ + ": ") and message in rejection.reason
    assert rejection.content == record.decode()


@pytest.mark.parametrize(
    ("record", "content", "site"),
    [
        (None, "", ""),  # a tombstone
        (b"\xff\xfe{", "\ufffd\ufffd{", ""),  # not UTF-8
        (b"[1, 2]", "[1, 2]", ""),  # JSON, not an object
        (b'{"site_id": 7, "kind": "event"}', None, ""),  # a site that is not text
        (b'{"kind": "moved", "site_id": "shop"}', None, "shop"),
        (b"1e400", "1e400", ""),  # a number JSON cannot hold: no NaN or infinity reaches a row
        (sessionised({**EVENT, "ts": 10**18}), None, "shop"),  # past Python's years
        (sessionised({**EVENT, "ts": "0001-01-01T00:00:00+01:00"}), None, "shop"),  # before year 1 in UTC
    ],
)
def test_records_no_stage_could_publish_are_set_aside_too(record: bytes | None, content: str | None, site: str) -> None:
    batch = RowBatch()
    batch.take(SESSIONISED.name, 1, 2, record)
    [rejection] = batch.rejected
    assert len(batch) == 1 and not batch.events
    assert rejection.content == (content if content is not None else record.decode())  # type: ignore[union-attr]
    assert rejection.site_id == site


def test_a_survey_answers_comment_moves_from_its_properties_to_the_comment_column_bounded() -> None:
    answer = {**EVENT, "type": "track", "name": "Survey Responded",
              "properties": {"survey": "nps", "score": 3, "comment": "Доставка опоздала " * 500}}
    row = event_row(answer, moment_of(EVENT["received_at"]))
    assert row["comment"].startswith("Доставка опоздала") and len(row["comment"]) == COMMENT_MAX_CHARS
    assert orjson.loads(row["properties"]) == {"survey": "nps", "score": 3}


def test_only_a_survey_answers_text_comment_is_taken_as_a_comment() -> None:
    received_at = moment_of(EVENT["received_at"])
    other = {**EVENT, "type": "track", "name": "Note Left", "properties": {"comment": "kept in properties"}}
    assert event_row(other, received_at)["comment"] == "" and "kept in properties" in event_row(other, received_at)["properties"]
    numeric = {**EVENT, "type": "track", "name": "Survey Responded", "properties": {"survey": "nps", "score": 3, "comment": 7}}
    assert event_row(numeric, received_at)["comment"] == "" and '"comment":7' in event_row(numeric, received_at)["properties"]


# Demographic traits of identify calls.

IDENTIFY = {**EVENT, "type": "identify", "name": "identify"}


def test_an_identify_call_stores_only_the_listed_traits_bounded() -> None:
    received_at = moment_of(EVENT["received_at"])
    traits = {"age": 41, "gender": "  female ", "occupation": "x" * 10_000, "email": "a@b.example",
              "income_band": {"nested": 1}, "plan": "pro"}
    row = event_row({**IDENTIFY, "traits": traits}, received_at, ("age", "gender", "occupation", "income_band"))
    assert orjson.loads(row["traits"]) == {"age": 41.0, "gender": "female", "occupation": "x" * TRAIT_TEXT_MAX_CHARS}


@pytest.mark.parametrize("traits", [None, "age=41", [1, 2], {"age": True}, {"age": float("nan")}, {"age": ""}, {}])
def test_traits_that_hold_nothing_storable_store_nothing(traits: object) -> None:
    received_at = moment_of(EVENT["received_at"])
    assert event_row({**IDENTIFY, "traits": traits}, received_at)["traits"] == ""


def test_traits_of_events_other_than_identify_are_not_stored() -> None:
    received_at = moment_of(EVENT["received_at"])
    assert event_row({**EVENT, "traits": {"age": 41}}, received_at)["traits"] == ""


def test_each_site_stores_its_own_trait_names() -> None:
    batch = RowBatch(trait_names={"shop": ("plan",)})
    event = {**IDENTIFY, "traits": {"plan": "pro", "age": 41}}
    batch.add(SESSIONISED.name, orjson.dumps({"kind": "event", "event": event}))
    batch.add(SESSIONISED.name, orjson.dumps({"kind": "event", "event": {**event, "site_id": "other"}}))
    assert [orjson.loads(row["traits"]) for row in batch.events] == [{"plan": "pro"}, {"age": 41.0}]
