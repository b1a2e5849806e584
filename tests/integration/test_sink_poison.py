"""Poison for the sink, through the real pipeline (collector, sessioniser worker, sink, on
the real broker and engine): a backfill spanning more months than one insert block may
touch, rows ClickHouse refuses for what they hold, and records nobody can read. Each time
every other row is stored, the refused ones are in footfall.rejected_rows with the reason,
and an ordinary event sent next lands."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import orjson
import pytest

from footfall.local.kafka_broker import Broker
from infra.kafka.publisher import Record
from schemas.topics import SEGMENT_CHANGES, SESSIONISED, SESSIONS
from tests.support.pipeline import Pipeline, start_pipeline
from tests.support.waiting import wait_for

AUTH = ("demo_key", "")
MONTHS = 150
# Event times reach back further than the default five years, for the backfill, and the
# events and sessions are kept for ever, or the retention would expire most of it at once.
HORIZON_DAYS = 31 * MONTHS + 365
KEPT_FOR_EVER = "0"


@pytest.fixture(scope="module")
def pipeline(kafka: Broker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    running = start_pipeline(
        kafka, tmp_path_factory.mktemp("poison"), FOOTFALL_LIMITS__HORIZON_DAYS=str(HORIZON_DAYS),
        FOOTFALL_RETENTION__EVENTS_DAYS=KEPT_FOR_EVER, FOOTFALL_RETENTION__SESSIONS_DAYS=KEPT_FOR_EVER,
    )
    yield running
    running.stop()


def post(pipeline: Pipeline, batch: list[dict]) -> None:
    response = httpx.post(f"{pipeline.collector.url}/v1/batch", json={"batch": batch}, auth=AUTH, timeout=30)
    assert response.status_code == 200 and response.json() == {"success": True}, response.text


def count(pipeline: Pipeline, sql: str) -> int:
    return pipeline.query(sql)[0]["n"]


def an_ordinary_event_lands(pipeline: Pipeline) -> None:
    """What every poison must leave working: an event sent now is stored, soon."""
    visitor = f"after-{uuid.uuid4().hex[:12]}"
    post(pipeline, [{"type": "page", "messageId": visitor, "anonymousId": visitor, "properties": {"path": "/after"}}])
    sql = f"SELECT count() AS n FROM footfall.events FINAL WHERE anonymous_id = '{visitor}'"
    wait_for(lambda: count(pipeline, sql) == 1 or "not yet", 60, "an ordinary event sent after the poison")
    assert pipeline.sink.alive()


def rejected_with(pipeline: Pipeline, marker: str) -> list[dict]:
    return pipeline.query(
        "SELECT site_id, target_table, reason_class, reason, source, content FROM footfall.rejected_rows FINAL "
        f"WHERE position(content, '{marker}') > 0 ORDER BY target_table, content"
    )


def sessionised(run: str, n: int, **fields: object) -> bytes:
    now = datetime.now(UTC).isoformat()
    event = {"event_id": f"{run}-{n}", "site_id": "demo", "type": "page_view", "name": "Page Viewed", "ts": now,
             "received_at": now, "anonymous_id": f"crafted-{run}", "session_id": f"s-{run}", "path": "/crafted", **fields}
    return orjson.dumps({"kind": "event", "event": event})


def months_back(count: int) -> list[str]:
    """The 15th at noon of each of the `count` months before this one, oldest first."""
    now = datetime.now(UTC)
    this_month = now.year * 12 + now.month - 1
    return [datetime(month // 12, month % 12 + 1, 15, 12, tzinfo=UTC).isoformat() for month in range(this_month - count, this_month)]


def test_one_request_spanning_more_months_than_an_insert_block_is_stored_whole(pipeline: Pipeline) -> None:
    run = uuid.uuid4().hex[:12]
    batch = [
        {"type": "track", "event": "Imported", "messageId": f"{run}-{n}", "anonymousId": f"backfill-{run}", "timestamp": month}
        for n, month in enumerate(months_back(MONTHS))
    ]
    post(pipeline, batch)

    where = f"WHERE anonymous_id = 'backfill-{run}'"
    months = f"SELECT uniqExact(toYYYYMM(ts)) AS n FROM footfall.events FINAL {where}"
    wait_for(lambda: count(pipeline, f"SELECT count() AS n FROM footfall.events FINAL {where}") == MONTHS or "not yet", 120,
             "every event of the backfill")
    assert count(pipeline, months) == MONTHS
    # A visitor coming back once a month: a session each month, stored whole too.
    wait_for(lambda: count(pipeline, f"SELECT count() AS n FROM footfall.sessions FINAL {where}") == MONTHS or "not yet", 60,
             "every session of the backfill")
    assert rejected_with(pipeline, run) == []
    an_ordinary_event_lands(pipeline)


def test_rows_clickhouse_refuses_are_set_aside_with_the_reason_and_the_rows_beside_them_stored(pipeline: Pipeline) -> None:
    run = uuid.uuid4().hex[:12]
    key = f"demo:crafted-{run}".encode()
    change = {"site_id": "demo", "segment": "loyal", "anonymous_id": f"crafted-{run}", "customer_id": run,
              "change": "teleported", "rule": "", "at_ms": 1_795_600_800_000, "version": 1}
    pipeline.publish([
        Record(SESSIONISED.name, key, sessionised(run, 0)),
        Record(SESSIONISED.name, key, sessionised(run, 1, x="abc")),  # not a number: refused by ClickHouse
        Record(SESSIONISED.name, key, sessionised(run, 2, ts="0001-01-01T00:00:00Z")),  # a time no table stores
        Record(SESSIONISED.name, key, sessionised(run, 3)),
        Record(SEGMENT_CHANGES.name, key, orjson.dumps(change)),  # not a value of the change enum
    ])

    wait_for(lambda: len(rejected_with(pipeline, run)) == 3 or rejected_with(pipeline, run), 60, "the refused rows set aside")
    events = pipeline.query(f"SELECT event_id FROM footfall.events FINAL WHERE anonymous_id = 'crafted-{run}' ORDER BY event_id")
    assert events == [{"event_id": f"{run}-0"}, {"event_id": f"{run}-3"}]
    refused_event, impossible, refused_change = rejected_with(pipeline, run)
    assert (refused_event["target_table"], refused_event["reason_class"], refused_event["site_id"]) == ("events", "refused", "demo")
    assert "(while reading the value of key x)" in refused_event["reason"] and "CANNOT_PARSE_NUMBER" in refused_event["reason"]
    assert orjson.loads(refused_event["content"])["event_id"] == f"{run}-1"
    assert (impossible["target_table"], impossible["reason_class"]) == ("events", "unreadable")
    assert impossible["reason"].startswith("ImpossibleTime: 0001-01-01T00:00:00+00:00 is outside the times ClickHouse stores")
    assert impossible["source"].startswith(f"{SESSIONISED.name}:")
    assert (refused_change["target_table"], refused_change["reason_class"]) == ("segment_changes", "refused")
    assert "Unknown element 'teleported' for enum" in refused_change["reason"]
    membership = f"SELECT count() AS n FROM footfall.segment_membership FINAL WHERE customer_id = '{run}'"
    assert count(pipeline, membership) == 1, "the change's other row, in a table that takes it, is stored"
    an_ordinary_event_lands(pipeline)


def test_a_record_nobody_can_read_is_set_aside_with_where_it_sits_and_the_sink_goes_on(pipeline: Pipeline) -> None:
    run = uuid.uuid4().hex[:12]
    pipeline.publish([
        Record(SESSIONS.name, run.encode(), f"{{not json {run}".encode()),
        Record(SESSIONS.name, run.encode(), orjson.dumps([run, "a list, not a session"])),
    ])

    wait_for(lambda: len(rejected_with(pipeline, run)) == 2 or rejected_with(pipeline, run), 60, "the unreadable records set aside")
    for row in rejected_with(pipeline, run):
        assert (row["target_table"], row["reason_class"], row["site_id"]) == ("sessions", "unreadable", "")
        topic, partition, offset = row["source"].split(":")
        assert topic == SESSIONS.name and 0 <= int(partition) < SESSIONS.partitions and int(offset) >= 0
    reasons = sorted(row["reason"].split(":")[0] for row in rejected_with(pipeline, run))
    assert reasons == ["AttributeError", "JSONDecodeError"]
    metrics = httpx.get(f"{pipeline.sink_url}/metrics", timeout=10).text
    assert 'footfall_sink_rows_rejected_total{reason_class="unreadable",table="sessions"} 2.0' in metrics
    an_ordinary_event_lands(pipeline)
