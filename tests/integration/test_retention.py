"""Retention on the real engines: every table gets the configured TTL from the migrations,
a second run alters nothing, a changed setting alters that table alone, rows past their
retention are gone at the next merge while the rollups keep their figures, and a server
too old for table TTL is left as it is, with a warning."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from infra.clickhouse.embedded import EmbeddedClickHouse
from infra.clickhouse.migrations import migrate
from infra.clickhouse.native import NativeClickHouse
from infra.clickhouse.retention import apply_retention
from infra.config import Retention
from schemas.retention import AGED_BY
from tests.support.clickhouse_server import ClickHouseServer

# A different retention for every table, none of them the default.
UNUSUAL = Retention(**{f"{table}_days": 100 + n for n, table in enumerate(sorted(AGED_BY))})
NOW = datetime.now(timezone.utc).replace(microsecond=0, tzinfo=None)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[EmbeddedClickHouse]:
    backend = EmbeddedClickHouse(tmp_path / "clickhouse")
    yield backend
    backend.close()


def engines(backend: EmbeddedClickHouse) -> dict[str, str]:
    rows = backend.query("SELECT name, engine_full FROM system.tables WHERE database = 'footfall'")
    return {row["name"]: row["engine_full"] for row in rows}


def migrated(backend: EmbeddedClickHouse, retention: Retention) -> list[str]:
    """The retention statements a migration run issued."""
    said: list[str] = []
    migrate(backend, on_progress=said.append, retention=retention)
    return [message for message in said if message.startswith("retention")]


def test_every_table_gets_its_configured_ttl_and_a_second_run_alters_nothing(engine: EmbeddedClickHouse) -> None:
    issued = migrated(engine, UNUSUAL)

    present = engines(engine)
    aged = {table for table in AGED_BY if table in present}
    # The audit of erasures comes with the erasure commands' own migration.
    assert aged >= set(AGED_BY) - {"erasure_audit"}
    assert len(issued) == len(aged)
    for table in aged:
        ttl = f" TTL {AGED_BY[table]} + toIntervalDay({UNUSUAL.table_days(table)}) "
        assert ttl in present[table], f"{table}: {present[table]}"
    assert " TTL " not in present["schema_migrations"]

    assert migrated(engine, UNUSUAL) == []
    assert apply_retention(engine, UNUSUAL) == []


def test_a_changed_setting_alters_that_table_alone(engine: EmbeddedClickHouse) -> None:
    migrate(engine, retention=Retention())
    changed = Retention(events_days=30, sessions_days=0)

    assert migrated(engine, changed) == ["retention of footfall.events: 30 days", "retention of footfall.sessions: kept for ever"]
    now = engines(engine)
    assert " TTL toDateTime(ts) + toIntervalDay(30) " in now["events"]
    assert " TTL " not in now["sessions"]
    assert " TTL toDateTime(received_at) + toIntervalDay(30) " in now["invalid_events"]
    assert migrated(engine, changed) == []


def at(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).strftime("%Y-%m-%d %H:%M:%S.000")


def page_view(event_id: str, days_ago: float) -> dict:
    return {"event_id": event_id, "site_id": "demo", "type": "page_view", "name": "Page Viewed", "path": "/",
            "ts": at(days_ago), "received_at": at(0), "anonymous_id": f"a-{event_id}", "version": 1}


def customer(customer_id: str, days_ago: float) -> dict:
    return {"site_id": "demo", "customer_id": customer_id, "purchases": 1, "updated_at": at(days_ago), "version": 1, "is_deleted": 0}


def merged(backend: EmbeddedClickHouse, table: str) -> None:
    backend.execute(f"OPTIMIZE TABLE footfall.{table} FINAL")


def test_rows_past_their_retention_go_at_the_merge_and_the_rollups_keep_theirs(engine: EmbeddedClickHouse) -> None:
    migrate(engine, retention=Retention(events_days=30, invalid_events_days=7, customers_days=60))
    # A backfill two years old is past retention on arrival: it goes at the first merge.
    engine.insert("footfall.events", [page_view("recent", 1), page_view("old", 40), page_view("backfill", 730), page_view("edge", 29)])
    engine.insert("footfall.invalid_events", [
        {"site_id": "demo", "received_at": at(days), "endpoint": "batch", "reason": "bad", "raw": f"raw {days}"} for days in (1, 8)
    ])
    engine.insert("footfall.customers", [customer("kept", 59), customer("gone", 61)])
    for table in ("events", "invalid_events", "customers"):
        merged(engine, table)

    events = engine.query("SELECT event_id FROM footfall.events FINAL ORDER BY event_id")
    assert [row["event_id"] for row in events] == ["edge", "recent"]
    assert engine.query("SELECT raw FROM footfall.invalid_events") == [{"raw": "raw 1"}]
    assert engine.query("SELECT customer_id FROM footfall.customers FINAL") == [{"customer_id": "kept"}]
    # The hourly page views were rolled up on insert, and the rollup keeps them 25 months.
    merged(engine, "page_hourly")
    rolled = engine.query("SELECT uniqExactMerge(views) AS views FROM footfall.page_hourly WHERE hour < now() - INTERVAL 30 DAY")
    assert rolled == [{"views": 2}]


def test_a_server_without_table_ttl_is_left_alone_with_one_warning(
    clickhouse_server: ClickHouseServer, caplog: pytest.LogCaptureFixture
) -> None:
    backend = NativeClickHouse(clickhouse_server.url())
    try:
        backend.execute("CREATE DATABASE IF NOT EXISTS footfall")
        backend.execute("CREATE TABLE footfall.events (ts DateTime, event_id String) ENGINE = MergeTree ORDER BY ts")
        with caplog.at_level(logging.WARNING):
            assert apply_retention(backend, Retention()) == []
        warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
        assert len(warnings) == 1 and "has no table TTL" in warnings[0]
        engine_full = backend.query("SELECT engine_full FROM system.tables WHERE database = 'footfall' AND name = 'events'")
        assert " TTL " not in engine_full[0]["engine_full"]
    finally:
        backend.close()
