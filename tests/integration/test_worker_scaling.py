"""Scaling the workers on the real pipeline: the events partitions are shared out between
the workers running, each of them owns some and processes events, and ClickHouse holds
the same exact results with two workers as with one, with a worker added and another
removed while traffic flows, and with one of three workers killed and another added."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from footfall.demo import send
from footfall.local.processes import Started
from schemas.topics import EVENTS
from tests.support.pipeline import Pipeline, new_broker, start_pipeline
from tests.support.planned_traffic import assert_landed_exactly, exact, population, send_in_chunks
from tests.support.processes import assert_stops_by_itself, kill
from tests.support.waiting import wait_for
from tests.support.worker_metrics import events_processed, owned_partitions

FAST_FAILOVER = {"FOOTFALL_PROCESSOR_SESSION_TIMEOUT_S": "8"}


def shared_out(pipeline: Pipeline, workers: list[Started]) -> Callable[[], object]:
    """A check for `wait_for`: True once these workers between them own every events
    partition, each some and none twice, else what each owns."""

    def check() -> object:
        owned = [owned_partitions(pipeline.metrics_urls[worker.pid]) for worker in workers]
        every = frozenset(range(EVENTS.partitions))
        if all(owned) and sum(map(len, owned)) == len(every) and frozenset().union(*owned) == every:
            return True
        return owned

    return check


def assert_each_processed_events(pipeline: Pipeline, workers: list[Started]) -> None:
    processed = [events_processed(pipeline.metrics_urls[worker.pid]) for worker in workers]
    assert all(processed), f"events processed per worker: {processed}"


def session_table(pipeline: Pipeline, suffix: str) -> list[dict]:
    return pipeline.query(
        "SELECT session_id, anonymous_id, user_id, toString(started_at) AS s, toString(ended_at) AS e, events, pageviews, "
        "clicks, max_scroll_pct, purchases, revenue, entry_path, exit_path, is_bounce, utm_source, utm_campaign, referrer_host "
        f"FROM footfall.sessions FINAL WHERE anonymous_id LIKE '%{suffix}' ORDER BY session_id"
    )


def without_times(row: dict) -> dict:
    return {key: value for key, value in row.items() if key not in ("s", "e")}


def test_two_workers_share_the_partitions_and_give_the_same_sessions_as_one(tmp_path: Path) -> None:
    messages, plan, suffix = population(seed=303)
    tables = []
    for workers in (1, 2):
        broker = new_broker(tmp_path / f"broker-{workers}")
        pipeline = start_pipeline(broker, tmp_path / f"stack-{workers}", workers=workers)
        try:
            send(messages, pipeline.collector.url)
            wait_for(exact(pipeline, plan, suffix), 180, f"exact sessions with {workers} worker(s)")
            wait_for(shared_out(pipeline, pipeline.workers), 60, f"the partitions shared out between {workers} worker(s)")
            assert_each_processed_events(pipeline, pipeline.workers)
            tables.append(session_table(pipeline, suffix))
        finally:
            pipeline.stop()
            broker.stop()
    one, two = tables
    assert len(one) == plan.sessions
    # Event times carry each run's own transit time (milliseconds), so times may differ by
    # that much; everything else must be identical.
    assert [without_times(row) for row in one] == [without_times(row) for row in two]
    for first, second in zip(one, two, strict=True):
        for column in ("s", "e"):
            assert abs(datetime.fromisoformat(first[column]) - datetime.fromisoformat(second[column])).total_seconds() < 1


def test_a_worker_added_and_another_removed_mid_stream(tmp_path: Path) -> None:
    broker = new_broker(tmp_path / "broker")
    pipeline = start_pipeline(broker, tmp_path / "stack", **FAST_FAILOVER)
    try:
        messages, plan, suffix = population(404)
        first = pipeline.workers[0]

        def share() -> None:
            """Wait until the added worker owns partitions beside the first one."""
            wait_for(shared_out(pipeline, pipeline.workers), 90, "the partitions shared out between the two workers")

        def remove_first() -> None:
            """SIGTERM while the chunk just sent is processed; the added worker takes every partition."""
            assert_stops_by_itself(first)
            wait_for(shared_out(pipeline, pipeline.workers[1:]), 90, "every partition owned by the remaining worker")

        # The worker joins while chunks 2 and 3 stream in, and the first one leaves with
        # chunk 5 in flight.
        send_in_chunks(pipeline, messages, 7, {0: pipeline.start_worker, 2: share, 4: remove_first})
        assert_landed_exactly(pipeline, plan, suffix, "a worker was added and another removed")
        assert_each_processed_events(pipeline, pipeline.workers[1:])
    finally:
        pipeline.stop()
        broker.stop()


@pytest.mark.timeout(600)
def test_one_of_three_workers_killed_and_another_added_mid_stream(tmp_path: Path) -> None:
    broker = new_broker(tmp_path / "broker")
    pipeline = start_pipeline(broker, tmp_path / "stack", workers=3, **FAST_FAILOVER)
    try:
        messages, plan, suffix = population(505)
        victim = pipeline.workers[1]

        def kill_one() -> None:
            """SIGKILL, nothing handed over, while the chunk just sent is processed by a
            worker that owns partitions of it."""
            wait_for(lambda: bool(owned_partitions(pipeline.metrics_urls[victim.pid])), 240, "the doomed worker owning partitions")
            kill(victim)

        def add_one() -> None:
            pipeline.start_worker()
            survivors = [worker for worker in pipeline.workers if worker is not victim]
            wait_for(shared_out(pipeline, survivors), 240, "the partitions shared out between the survivors and the new worker")

        send_in_chunks(pipeline, messages, 7, {1: kill_one, 3: add_one})
        assert_landed_exactly(pipeline, plan, suffix, "one of three workers was killed and another added")
        assert_each_processed_events(pipeline, [worker for worker in pipeline.workers if worker is not victim])
    finally:
        pipeline.stop()
        broker.stop()
