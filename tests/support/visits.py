"""A small run of visits through the collector, and the wait until the pipeline has landed
every event and grouped them into sessions exactly as the SQL reference does: enough to
prove a pipeline works end to end on a given Kafka (a cluster, a secured broker)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.support.pipeline import Pipeline
from tests.support.sessions_reference import assert_matches_reference
from tests.support.waiting import wait_for

BASE = datetime(2026, 11, 20, 9, 0, 0, tzinfo=UTC)
# Minutes of each visitor's page views: one session, two sessions (a gap over 30 minutes), one.
VISITS = {"A": (0, 5, 10), "B": (0, 40, 41), "C": (3,)}
SESSIONS = 4


def send_visits(collector_url: str, run: str, write_key: str = "demo_key") -> int:
    """Every visitor's page views in one batch; returns how many events were sent."""
    batch = [
        {
            "type": "page", "messageId": f"{run}-{visitor}-{minute}", "anonymousId": f"{visitor}-{run}",
            "timestamp": (BASE + timedelta(minutes=minute)).isoformat(), "properties": {"path": f"/{minute}"},
        }
        for visitor, minutes in VISITS.items() for minute in minutes
    ]
    answer = httpx.post(f"{collector_url}/v1/batch", json={"batch": batch}, auth=(write_key, ""), timeout=30)
    assert answer.status_code == 200, answer.text
    return len(batch)


def assert_landed_exactly(pipeline: Pipeline, run: str, events: int) -> None:
    """Every event once in footfall.events, the sessions the reference finds, no more."""

    def counted() -> object:
        found = pipeline.query(f"SELECT count() AS n FROM footfall.events FINAL WHERE anonymous_id LIKE '%{run}'")[0]["n"]
        sessions = pipeline.query(f"SELECT count() AS n FROM footfall.sessions FINAL WHERE anonymous_id LIKE '%{run}'")[0]["n"]
        return True if (found, sessions) == (events, SESSIONS) else (found, sessions)

    wait_for(counted, 120, "events and sessions in ClickHouse")
    assert pipeline.query(f"SELECT count() AS n FROM footfall.events WHERE anonymous_id LIKE '%{run}'")[0]["n"] == events
    assert_matches_reference(pipeline, run)
