"""Bounded worker state on the real pipeline: a worker that recovers visitors and profiles
from the changelogs (after the worker that saved them was killed) forgets the idle visitors
and expires the anonymous profiles, with tombstones, and keeps the customers; and a worker
killed at the fault point between publishing a batch and saving its states leaves the
outputs in Kafka without the states, which its successor replays exactly."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import httpx

from schemas.topics import PROFILES_CHANGELOG, SESSIONISED, VISITORS_CHANGELOG, Topic
from tests.support.kafka_reader import read_records, read_topic
from tests.support.pipeline import Pipeline, new_broker, start_pipeline
from tests.support.processes import kill
from tests.support.waiting import wait_for

# A 12 s idle horizon (gap plus lateness): long enough for the first worker to be killed
# before it forgets anyone, short enough for its successor to do so within the test.
SHORT_STATE = {
    "FOOTFALL_SESSION_GAP_S": "8",
    "FOOTFALL_ALLOWED_LATENESS_S": "4",
    "FOOTFALL_IDLE_CHECK_S": "1",
    "FOOTFALL_PROFILE_RETENTION_DAYS": "0.0003",  # 26 s
    "FOOTFALL_PROCESSOR_SESSION_TIMEOUT_S": "8",  # a killed worker's partitions move on soon
}


def latest(bootstrap: str, topic: Topic) -> dict[bytes, bytes | None]:
    """Each key's latest value in a changelog (None: a tombstone)."""
    return {record.key: record.value for record in asyncio.run(read_records(bootstrap, topic))}


def send(pipeline: Pipeline, *messages: dict) -> None:
    now = datetime.now(UTC).isoformat()
    batch = [{"timestamp": now, **message} for message in messages]
    answer = httpx.post(f"{pipeline.collector.url}/v1/batch", json={"batch": batch}, auth=("demo_key", ""), timeout=30)
    assert answer.status_code == 200, answer.text


def keys(*visitors: str) -> set[bytes]:
    return {f"demo:{visitor}".encode() for visitor in visitors}


def test_a_restarted_worker_forgets_idle_visitors_and_expires_anonymous_profiles_it_recovered(tmp_path: Path) -> None:
    broker = new_broker(tmp_path / "broker")
    pipeline = start_pipeline(broker, tmp_path / "stack", **SHORT_STATE)
    try:
        send(
            pipeline,
            {"type": "page", "anonymousId": "browser", "messageId": "b1", "properties": {"path": "/"}},
            {"type": "page", "anonymousId": "browser", "messageId": "b2", "properties": {"path": "/pricing"}},
            {"type": "identify", "anonymousId": "member", "userId": "U-1", "messageId": "m1", "traits": {"plan": "pro"}},
            {"type": "track", "anonymousId": "buyer", "event": "Order Completed", "messageId": "o1",
             "properties": {"order_id": "ord-1", "revenue": 25.0}},
        )
        everyone = keys("browser", "member", "buyer")

        def saved() -> bool | dict:
            found = {name: latest(broker.bootstrap, topic) for name, topic in (("visitors", VISITORS_CHANGELOG), ("profiles", PROFILES_CHANGELOG))}
            return True if all(set(values) == everyone and all(values.values()) for values in found.values()) else found

        wait_for(saved, 60, "every visitor's state and profile in the changelogs")
        kill(pipeline.workers[0])
        # Killed before its idle horizon: it forgot no one, and a successor starts from the changelogs.
        assert None not in latest(broker.bootstrap, VISITORS_CHANGELOG).values()
        pipeline.start_worker()

        def visitors_forgotten() -> bool | dict:
            values = latest(broker.bootstrap, VISITORS_CHANGELOG)
            return True if set(values) == everyone and not any(values.values()) else values

        wait_for(visitors_forgotten, 120, "the recovered idle visitors tombstoned by the successor")

        def anonymous_expired() -> bool | dict:
            values = latest(broker.bootstrap, PROFILES_CHANGELOG)
            return True if {key for key, value in values.items() if value is None} == keys("browser") else values

        wait_for(anonymous_expired, 120, "the anonymous visitor's profile tombstoned, the customers' kept")
        assert all(latest(broker.bootstrap, PROFILES_CHANGELOG)[key] for key in keys("member", "buyer"))

        def rows_kept() -> bool | list:
            rows = pipeline.query("SELECT customer_id FROM footfall.customers FINAL WHERE is_deleted = 0 ORDER BY customer_id")
            return True if [row["customer_id"] for row in rows] == ["U-1", "browser", "buyer"] else rows

        wait_for(rows_kept, 60, "every customer row kept in ClickHouse, the expired visitor's included")
    finally:
        pipeline.stop()
        broker.stop()


def test_a_worker_killed_after_publishing_and_before_saving_is_replayed_exactly(tmp_path: Path) -> None:
    broker = new_broker(tmp_path / "broker")
    pipeline = start_pipeline(
        broker, tmp_path / "stack", FOOTFALL_FAULT="worker.after_publish:2", FOOTFALL_PROCESSOR_SESSION_TIMEOUT_S="8",
    )
    try:
        first_worker = pipeline.workers[0]
        send(pipeline, {"type": "page", "anonymousId": "first", "messageId": "f1"})
        wait_for(lambda: keys("first") <= set(latest(broker.bootstrap, VISITORS_CHANGELOG)) or "not yet", 60, "the first batch's state saved")
        send(pipeline, {"type": "page", "anonymousId": "second", "messageId": "s1"},
             {"type": "track", "anonymousId": "second", "event": "Signed Up", "messageId": "s2"})
        wait_for(lambda: not first_worker.alive() or "alive", 60, "the worker dead at its second batch's fault point")
        assert "Traceback" not in Path(first_worker.log).read_text()

        def published_ids() -> list[str]:
            return sorted(r.value["event"]["event_id"] for r in read_topic(broker.bootstrap, SESSIONISED) if r.value["kind"] == "event")

        # The batch's outputs are in Kafka; the states behind them are not.
        assert [event_id for event_id in published_ids() if event_id in ("s1", "s2")] == ["s1", "s2"]
        assert keys("second").isdisjoint(latest(broker.bootstrap, VISITORS_CHANGELOG))
        assert keys("second").isdisjoint(latest(broker.bootstrap, PROFILES_CHANGELOG))

        del pipeline.env["FOOTFALL_FAULT"]
        pipeline.start_worker()
        wait_for(lambda: keys("second") <= set(latest(broker.bootstrap, VISITORS_CHANGELOG)) or "not yet", 120, "the successor's replay saved")
        # The batch published again in the replay (the first one too if its offsets were
        # not committed yet), collapsed downstream by event id.
        replayed = published_ids()
        assert (replayed.count("s1"), replayed.count("s2")) == (2, 2)

        def exact() -> bool | list:
            rows = pipeline.query(
                "SELECT anonymous_id, count() AS events, uniqExact(session_id) AS sessions FROM footfall.events FINAL "
                "GROUP BY anonymous_id ORDER BY anonymous_id"
            )
            sessions = pipeline.query("SELECT anonymous_id, events FROM footfall.sessions FINAL WHERE NOT is_deleted ORDER BY anonymous_id")
            wanted = ([{"anonymous_id": "first", "events": 1, "sessions": 1}, {"anonymous_id": "second", "events": 2, "sessions": 1}],
                      [{"anonymous_id": "first", "events": 1}, {"anonymous_id": "second", "events": 2}])
            return True if (rows, sessions) == wanted else [rows, sessions]

        wait_for(exact, 90, "every event and session once in ClickHouse after the replay")
    finally:
        pipeline.stop()
        broker.stop()
