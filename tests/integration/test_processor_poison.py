"""Poison for the processors, through the real pipeline: records of the events topic that
hold no event, written between a visitor's events as a faulty producer would. The worker
sets each aside as a dead letter with its reason and goes on: the visitor's events around
them are sessionised and stored, and the worker never stops."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import orjson
import pytest

from infra.kafka.publisher import Record
from schemas.topics import EVENTS
from tests.support.pipeline import Pipeline, new_broker, start_pipeline
from tests.support.waiting import wait_for

AUTH = ("demo_key", "")


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    """A broker of its own: the poison written into its events topic must not reach the
    other tests that read that topic back."""
    folder = tmp_path_factory.mktemp("processor-poison")
    broker = new_broker(folder / "broker")
    running = start_pipeline(broker, folder / "stack")
    try:
        yield running
    finally:
        running.stop()
        broker.stop()


def page(visitor: str, path: str) -> dict:
    return {"type": "page", "messageId": f"{visitor}{path}", "anonymousId": visitor, "properties": {"path": path}}


def post(pipeline: Pipeline, message: dict) -> None:
    response = httpx.post(f"{pipeline.collector.url}/v1/batch", json={"batch": [message]}, auth=AUTH, timeout=30)
    assert response.status_code == 200 and response.json() == {"success": True}, response.text


def test_records_holding_no_event_are_dead_letters_and_the_events_around_them_are_stored(pipeline: Pipeline) -> None:
    visitor = f"poisoned-{uuid.uuid4().hex[:12]}"
    key = f"demo:{visitor}".encode()
    post(pipeline, page(visitor, "/before"))
    # An event as the collector writes it, but for a list where its referrer's text belongs:
    # this once stopped the worker for every visitor of its partition.
    crafted = {"event_id": f"{visitor}-crafted", "site_id": "demo", "type": "page_view", "name": "Page Viewed",
               "ts": "2027-01-01T00:00:00+00:00", "received_at": "2027-01-01T00:00:00+00:00",
               "anonymous_id": visitor, "path": "/crafted", "referrer": ["https://a.test/"]}
    pipeline.publish([
        Record(EVENTS.name, key, orjson.dumps(crafted)),
        Record(EVENTS.name, key, b"\x00 not json"),
        Record(EVENTS.name, key, orjson.dumps({**crafted, "referrer": None, "site_id": "another"})),
    ])
    post(pipeline, page(visitor, "/after"))

    sql = f"SELECT path, session_id FROM footfall.events FINAL WHERE anonymous_id = '{visitor}' ORDER BY ts"
    wait_for(lambda: len(pipeline.query(sql)) == 2 or "not yet", 90, "the events around the poison")
    stored = pipeline.query(sql)
    assert [row["path"] for row in stored] == ["/before", "/after"]
    assert stored[0]["session_id"] and stored[0]["session_id"] == stored[1]["session_id"]

    letters_sql = "SELECT site_id, reason, raw FROM footfall.invalid_events FINAL WHERE endpoint = 'footfall.events' ORDER BY reason"
    wait_for(lambda: len(pipeline.query(letters_sql)) == 3 or "not yet", 60, "the dead letters")
    letters = pipeline.query(letters_sql)
    assert [(row["site_id"], row["reason"]) for row in letters] == [
        ("demo", "a record of the events topic is not JSON"),
        ("demo", "a record of the events topic is not keyed by its site and visitor"),
        ("demo", "referrer of a record of the events topic is an array, not text or null"),
    ]
    assert all(row["raw"].startswith("sha256:") and visitor not in row["raw"] for row in letters)
    metrics = httpx.get(next(iter(pipeline.metrics_urls.values())), timeout=10).text
    assert 'footfall_processor_malformed_records_total 3.0' in metrics
    assert all(worker.alive() for worker in pipeline.workers)
    assert "Crashed" not in (pipeline.folder / "worker-0.log").read_text(errors="replace")
