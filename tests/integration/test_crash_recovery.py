"""Crashes and scale-out on the real pipeline: ClickHouse stays exact.

Each test sends a generated population whose sessions are known in advance, injects a
fault (a worker or the sink killed with SIGKILL mid-stream, a worker stopped with SIGTERM)
or runs two workers, and checks that ClickHouse holds every event once and exactly the
planned sessions, grouped as the SQL reference groups them.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import psutil
import pytest

from footfall.demo import send
from footfall.local.kafka_broker import Broker
from footfall.local.processes import Started
from tests.support.pipeline import Pipeline, new_broker, start_pipeline
from tests.support.planned_traffic import exact, population, send_in_chunks
from tests.support.processes import kill
from tests.support.sessions_reference import assert_matches_reference
from tests.support.waiting import wait_for

FAST_FAILOVER = {"FOOTFALL_PROCESSOR_SESSION_TIMEOUT_S": "8"}
# Well under footfall's own stop grace (20 s), after which a part is killed.
STOP_GRACE_S = 10


def worker_replaced_mid_stream(tmp_path: Path, seed: int, end: Callable[[Started], None], what: str, **overrides: str) -> None:
    """A population sent in six chunks; after the third, the worker is ended by `end` and a
    successor started; ClickHouse must then be exact."""
    broker = new_broker(tmp_path / "broker")
    pipeline = start_pipeline(broker, tmp_path / "stack", **overrides)
    try:
        messages, plan, suffix = population(seed)

        def replace_worker() -> None:
            end(pipeline.workers[0])
            pipeline.start_worker()

        send_in_chunks(pipeline, messages, 6, {2: replace_worker})
        wait_for(exact(pipeline, plan, suffix), 180, f"exact events and sessions after {what}")
        assert_matches_reference(pipeline, suffix)
    finally:
        pipeline.stop()
        broker.stop()


def test_worker_killed_mid_stream_and_restarted(kafka: Broker, tmp_path: Path) -> None:
    worker_replaced_mid_stream(tmp_path, 101, kill, "a worker crash", **FAST_FAILOVER)


def stop_by_itself(worker: Started) -> None:
    """SIGTERM, as `footfall down` and Ctrl-C send it: the worker must leave by itself,
    without a crash (an agent waiting for events ends when Faust closes its channel)."""
    process = psutil.Process(worker.pid)
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(STOP_GRACE_S)
    except psutil.TimeoutExpired:
        pytest.fail(f"the worker was still running {STOP_GRACE_S} s after SIGTERM; see {worker.log}")
    assert "Crashed" not in Path(worker.log).read_text()


def test_worker_stopped_mid_stream_ends_cleanly_and_its_successor_finishes(kafka: Broker, tmp_path: Path) -> None:
    worker_replaced_mid_stream(tmp_path, 103, stop_by_itself, "a worker was stopped")


def test_sink_killed_mid_batch_and_restarted(kafka: Broker, tmp_path: Path) -> None:
    broker = new_broker(tmp_path / "broker")
    pipeline = start_pipeline(broker, tmp_path / "stack", FOOTFALL_SINK_BATCH_ROWS="200")
    try:
        messages, plan, suffix = population(seed=202)

        def crash_and_restart() -> None:
            kill(pipeline.sink)
            pipeline.start_sink()

        send_in_chunks(pipeline, messages, 6, {1: crash_and_restart, 3: crash_and_restart})
        wait_for(exact(pipeline, plan, suffix), 180, "exact events and sessions after sink crashes")
        assert_matches_reference(pipeline, suffix)
    finally:
        pipeline.stop()
        broker.stop()


def session_table(pipeline: Pipeline, suffix: str) -> list[dict]:
    return pipeline.query(
        "SELECT session_id, anonymous_id, user_id, toString(started_at) AS s, toString(ended_at) AS e, events, pageviews, "
        "clicks, max_scroll_pct, purchases, revenue, entry_path, exit_path, is_bounce, utm_source, utm_campaign, referrer_host "
        f"FROM footfall.sessions FINAL WHERE anonymous_id LIKE '%{suffix}' ORDER BY session_id"
    )


def without_times(row: dict) -> dict:
    return {key: value for key, value in row.items() if key not in ("s", "e")}


def test_two_workers_give_the_same_sessions_as_one(tmp_path: Path) -> None:
    messages, plan, suffix = population(seed=303)
    tables = []
    for workers in (1, 2):
        broker = new_broker(tmp_path / f"broker-{workers}")
        pipeline = start_pipeline(broker, tmp_path / f"stack-{workers}", workers=workers)
        try:
            send(messages, pipeline.collector.url)
            wait_for(exact(pipeline, plan, suffix), 180, f"exact sessions with {workers} worker(s)")
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
