"""The collector's bounds against the real broker: a message that breaks one is refused
alone and dead-lettered with its reason while the valid messages beside it are stored; a
request that would produce too much is refused whole; nothing hostile gets a 5xx."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import orjson

from footfall.local.kafka_broker import Broker
from schemas import topics
from tests.support.kafka_reader import read_topic
from tests.support.pipeline import Collector

AUTH = ("demo_key", "")


def post(collector: Collector, body: object, path: str = "/v1/batch") -> httpx.Response:
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    return httpx.post(f"{collector.url}{path}", content=content, auth=AUTH, timeout=30)


def page(run: str, n: int, **fields: object) -> dict:
    return {"type": "page", "messageId": f"{run}-{n}", "anonymousId": f"anon-{run}", **fields}


def nested_list(depth: int) -> list:
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


def landed(broker: Broker, run: str, topic: topics.Topic) -> list[dict]:
    return [r.value for r in read_topic(broker.bootstrap, topic) if run in orjson.dumps(r.value).decode()]


def test_messages_over_a_bound_are_refused_alone_and_the_rest_stored(kafka: Broker, collector: Collector) -> None:
    run = uuid.uuid4().hex[:12]
    now = datetime.now(UTC)
    batch = [
        page(run, 0),
        page(run, 1, properties={"deep": nested_list(40)}),
        page(run, 2, properties={"title": "t" * 10_000}),
        page(run, 3, timestamp="1970-01-01T00:00:00Z"),
        page(run, 4, timestamp=(now + timedelta(days=30)).isoformat()),
        page(run, 5, timestamp=(now - timedelta(days=400)).isoformat()),
    ]
    response = post(collector, {"batch": batch})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["accepted"] == 2 and answer["rejected"] == 4
    reasons = {error["index"]: error["reason"] for error in answer["errors"]}
    assert "nested deeper than 32 levels" in reasons[1]
    assert "properties.title: a string of 10000 characters" in reasons[2]
    assert "older than the horizon" in reasons[3]
    assert "ahead of the server's clock" in reasons[4]

    stored = {event["event_id"] for event in landed(kafka, run, topics.EVENTS)}
    assert stored == {f"{run}-0", f"{run}-5"}  # a backfill of last year's history is kept
    dead = landed(kafka, run, topics.DEAD_LETTER)
    assert sorted(letter["reason"] for letter in dead) == sorted(reasons.values())
    assert all(len(letter["raw"]) <= 32 * 1024 for letter in dead)


def test_nesting_deeper_than_json_can_be_written_is_a_400_not_a_500(collector: Collector) -> None:
    run = uuid.uuid4().hex[:12]
    # Written by hand: JSON libraries, orjson included, refuse to write this deep.
    body = b'{"type": "track", "event": "E", "anonymousId": "%s", "properties": {"x": %s%s}}' % (run.encode(), b"[" * 900, b"]" * 900)
    response = post(collector, body, "/v1/track")
    assert response.status_code == 400 and response.json()["error"] == "invalid_message"
    assert "nested deeper" in response.json()["detail"]


def test_too_many_messages_are_refused_whole(collector: Collector) -> None:
    response = post(collector, {"batch": [{"type": "page", "anonymousId": "a"}] * 2501})
    assert response.status_code == 413
    assert response.json()["error"] == "too_many_messages" and response.json()["field"] == "batch"


def test_a_batch_context_that_would_be_copied_into_every_event_is_refused_before_building(kafka: Broker, collector: Collector) -> None:
    run = uuid.uuid4().hex[:12]
    # Within every bound of a message on its own: 24 KB, strings of 8,000 characters.
    context = {"page": {"path": "/"}, "blob": ["p" * 8_000] * 3}
    body = {"batch": [page(run, n) for n in range(300)], "context": context}
    assert len(orjson.dumps(body)) < 64 * 1024  # small on the wire, seven megabytes once merged
    response = post(collector, body)
    assert response.status_code == 413 and response.json()["error"] == "output_too_large"
    assert landed(kafka, run, topics.EVENTS) == [] and landed(kafka, run, topics.DEAD_LETTER) == []
