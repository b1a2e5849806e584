"""HTTP → Kafka → Faust → ClickHouse on the real broker and the real engine: exact sessions
for a crafted dataset, equal to a reference computed by SQL window functions."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from footfall.local.kafka_broker import Broker
from tests.support.pipeline import Pipeline, start_pipeline
from tests.support.sessions_reference import assert_matches_reference
from tests.support.waiting import wait_for

AUTH = ("demo_key", "")
BASE = datetime(2026, 11, 20, 9, 0, 0, tzinfo=UTC)


def at(minutes: float) -> str:
    return (BASE + timedelta(minutes=minutes)).isoformat()


def msg(run: str, event_id: str, visitor: str, minutes: float, kind: str = "page", **extra) -> dict:
    """A message whose event time is exactly `minutes` after BASE (no sentAt: the
    timestamp is taken as it is)."""
    base = {"messageId": f"{run}-{event_id}", "anonymousId": f"{visitor}-{run}", "timestamp": at(minutes)}
    if kind == "page":
        return {**base, "type": "page", "properties": {"path": extra.pop("path", "/"), **extra.pop("properties", {})}, **extra}
    if kind == "identify":
        return {**base, "type": "identify", **extra}
    return {**base, "type": "track", "event": kind, **extra}


def crafted(run: str) -> list[list[dict]]:
    """Requests in arrival order. Visitor A: a gap just under 30 minutes, one just over, a
    campaign change, a purchase, and a late click. B identifies mid-session. C's late event
    bridges two sessions into one."""
    news = {"context": {"campaign": {"source": "news", "medium": "email", "name": "fall"}}}
    return [
        [
            msg(run, "a1", "A", 0, path="/"),
            msg(run, "a2", "A", 1, "Element Clicked", properties={"selector": "#cta", "x": 10, "y": 20}),
            msg(run, "a3", "A", 29 + 59 / 60, path="/pricing"),
            msg(run, "a4", "A", 60, path="/docs"),
            msg(run, "a5", "A", 62, path="/", **news),
            msg(run, "a6", "A", 63, "Page Scrolled", properties={"depth": 75}),
            msg(run, "a7", "A", 64, "Order Completed", properties={"order_id": f"o-{run}", "revenue": 42.5, "currency": "EUR"}),
        ],
        [msg(run, "a8", "A", 61, "Element Clicked", properties={"selector": "#late", "x": 1, "y": 2})],
        [
            msg(run, "b1", "B", 0, path="/"),
            msg(run, "b2", "B", 2, "identify", userId=f"U-{run}", traits={"plan": "pro"}),
            msg(run, "b3", "B", 3, path="/account", userId=f"U-{run}"),
        ],
        [msg(run, "c1", "C", 0, path="/"), msg(run, "c2", "C", 33, path="/blog")],
        [msg(run, "c3", "C", 29, path="/about")],
    ]


def send_all(url: str, requests: list[list[dict]]) -> int:
    for batch in requests:
        response = httpx.post(f"{url}/v1/batch", json={"batch": batch}, auth=AUTH)
        assert response.status_code == 200, response.text
    return sum(len(batch) for batch in requests)


def landed(pipeline: Pipeline, run: str, expected_events: int, expected_sessions: int):
    def check():
        events = pipeline.query(f"SELECT count() AS n FROM footfall.events FINAL WHERE anonymous_id LIKE '%{run}'")[0]["n"]
        sessions = pipeline.query(f"SELECT count() AS n FROM footfall.sessions FINAL WHERE anonymous_id LIKE '%{run}'")[0]["n"]
        return True if (events, sessions) == (expected_events, expected_sessions) else (events, sessions)
    return check


@pytest.fixture(scope="module")
def pipeline(kafka: Broker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    running = start_pipeline(kafka, tmp_path_factory.mktemp("pipeline"))
    yield running
    running.stop()


def test_crafted_dataset_gives_exact_sessions(pipeline: Pipeline) -> None:
    run = uuid.uuid4().hex[:8]
    total = send_all(pipeline.collector.url, crafted(run))
    wait_for(landed(pipeline, run, total, 5), what="events and sessions in ClickHouse")

    sessions = pipeline.query(
        "SELECT anonymous_id, user_id, events, pageviews, clicks, purchases, revenue, max_scroll_pct, duration_s, "
        "entry_path, exit_path, is_bounce, utm_source, toString(started_at) AS started "
        f"FROM footfall.sessions FINAL WHERE anonymous_id LIKE '%{run}' ORDER BY anonymous_id, started_at"
    )
    a1, a2, a3, b, c = sessions
    assert (a1["events"], a1["pageviews"], a1["clicks"], a1["duration_s"]) == (3, 2, 1, 1799.0)
    assert (a1["entry_path"], a1["exit_path"], a1["is_bounce"]) == ("/", "/pricing", 0)
    assert (a2["events"], a2["pageviews"], a2["clicks"], a2["started"]) == (2, 1, 1, "2026-11-20 10:00:00.000")
    assert (a3["events"], a3["purchases"], a3["revenue"], a3["max_scroll_pct"], a3["utm_source"]) == (3, 1, 42.5, 75.0, "news")
    assert (b["events"], b["user_id"]) == (3, f"U-{run}")
    assert (c["events"], c["pageviews"], c["duration_s"], c["exit_path"]) == (3, 3, 33 * 60.0, "/blog")

    # Every event carries the id of the session that counts it.
    unassigned = pipeline.query(
        f"SELECT count() AS n FROM footfall.events FINAL WHERE anonymous_id LIKE '%{run}' AND session_id NOT IN "
        f"(SELECT session_id FROM footfall.sessions FINAL WHERE anonymous_id LIKE '%{run}')"
    )
    assert unassigned == [{"n": 0}]
    assert_matches_reference(pipeline, run)
