"""Demo traffic whose events and sessions are known in advance, sent in chunks with a
fault injected between two of them, and the check that ClickHouse then holds exactly the
plan: every event once, every planned session, each counting its events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from footfall.demo import DemoPlan, generate, send
from tests.support.pipeline import Pipeline


def population(seed: int, visitors: int = 40) -> tuple[list[dict], DemoPlan, str]:
    """Three days of demo traffic, its visitors' ids ending in a suffix of this seed."""
    messages, plan = generate(datetime.now(UTC), visitors=visitors, days=3, seed=seed)
    suffix = f"-s{seed}"
    for message in messages:
        message["anonymousId"] += suffix
    return messages, plan, suffix


def exact(pipeline: Pipeline, plan: DemoPlan, suffix: str) -> Callable[[], object]:
    """A check for `wait_for`: True once ClickHouse holds the plan exactly, else what it holds."""
    where = f"anonymous_id LIKE '%{suffix}'"

    def check() -> object:
        events = pipeline.query(f"SELECT count() AS n, uniqExact(event_id) AS ids FROM footfall.events FINAL WHERE {where}")[0]
        sessions = pipeline.query(f"SELECT count() AS n, sum(events) AS counted FROM footfall.sessions FINAL WHERE {where}")[0]
        seen = (events["n"], events["ids"], sessions["n"], sessions["counted"])
        return True if seen == (plan.events, plan.events, plan.sessions, plan.events) else seen

    return check


def send_in_chunks(pipeline: Pipeline, messages: list[dict], chunks: int, after_chunk: dict[int, Callable[[], None]]) -> None:
    """Send in `chunks` equal parts, running `after_chunk[i]` once part i is accepted."""
    size = -(-len(messages) // chunks)
    for index in range(chunks):
        send(messages[index * size:(index + 1) * size], pipeline.collector.url)
        if index in after_chunk:
            after_chunk[index]()
