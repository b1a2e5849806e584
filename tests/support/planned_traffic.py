"""Demo traffic whose events and sessions are known in advance, sent in chunks with a
fault injected between two of them, and the checks that ClickHouse then holds exactly the
plan: every event once, every planned session, each counting its events, and the
analytics that follow from them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from footfall.demo import DemoPlan, generate, send
from tests.support.analytics_reference import analytics_exact
from tests.support.pipeline import Pipeline
from tests.support.sessions_reference import assert_matches_reference
from tests.support.waiting import wait_for


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


def assert_every_event_once(pipeline: Pipeline, plan: DemoPlan, suffix: str) -> None:
    """Rows written twice (a replay) may be there side by side, but only with the same key:
    under FINAL there is one row per planned event, and no event id the plan lacks."""
    where = f"anonymous_id LIKE '%{suffix}'"
    query = "SELECT count() AS n, uniqExact(event_id) AS ids FROM footfall.events {} WHERE {}"
    final, raw = pipeline.query(query.format("FINAL", where))[0], pipeline.query(query.format("", where))[0]
    assert (final["n"], final["ids"], raw["ids"]) == (plan.events,) * 3, f"{plan.events} planned; FINAL {final}, without FINAL {raw}"


def assert_landed_exactly(pipeline: Pipeline, plan: DemoPlan, suffix: str, what: str) -> None:
    """Everything a run must end with, whatever happened on the way (`what`): the plan's
    events once each and its sessions, grouped as the SQL reference groups them, and
    customers and segments equal to theirs."""
    wait_for(exact(pipeline, plan, suffix), 180, f"exact events and sessions after {what}")
    assert_every_event_once(pipeline, plan, suffix)
    assert_matches_reference(pipeline, suffix)
    wait_for(analytics_exact(pipeline, suffix), 60, f"customers and segments equal to the reference after {what}")


def chunked(messages: list[dict], chunks: int) -> list[list[dict]]:
    """`chunks` equal parts, in order (the last one shorter)."""
    size = -(-len(messages) // chunks)
    return [messages[start:start + size] for start in range(0, len(messages), size)]


def send_in_chunks(pipeline: Pipeline, messages: list[dict], chunks: int, after_chunk: dict[int, Callable[[], None]]) -> None:
    """Send in `chunks` equal parts, running `after_chunk[i]` once part i is accepted."""
    for index, chunk in enumerate(chunked(messages, chunks)):
        send(chunk, pipeline.collector.url)
        if index in after_chunk:
            after_chunk[index]()
