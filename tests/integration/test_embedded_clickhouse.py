"""The embedded ClickHouse engine (chDB): migrations and the table semantics the sink relies on."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from schemas.migrations import MIGRATIONS
from infra.clickhouse.backend import ClickHouseError
from infra.clickhouse.embedded import EmbeddedClickHouse
from infra.clickhouse.migrations import migrate

FOOTFALL = str(Path(sys.executable).parent / "footfall")


@pytest.fixture
def clickhouse(tmp_path: Path) -> Iterator[EmbeddedClickHouse]:
    backend = EmbeddedClickHouse(tmp_path / "clickhouse")
    migrate(backend)
    yield backend
    backend.close()


def event_row(event_id: str, version: int, **fields: object) -> dict:
    row = {"event_id": event_id, "site_id": "demo", "type": "page_view", "name": "Page Viewed",
           "ts": "2026-11-22 10:00:00.123", "received_at": "2026-11-22 10:00:01.000", "version": version}
    return {**row, **fields}


def session_row(session_id: str, version: int, events: int, is_deleted: int = 0) -> dict:
    return {"site_id": "demo", "session_id": session_id, "started_at": "2026-11-22 10:00:00.000",
            "ended_at": "2026-11-22 10:05:00.000", "events": events, "version": version, "is_deleted": is_deleted}


def test_migrations_are_recorded_and_rerunnable(tmp_path: Path) -> None:
    backend = EmbeddedClickHouse(tmp_path / "ch")
    try:
        assert migrate(backend) == [m.version for m in MIGRATIONS]
        assert migrate(backend) == []
        tables = {row["name"] for row in backend.query("SHOW TABLES FROM footfall")}
        assert {"events", "sessions", "invalid_events", "schema_migrations"} <= tables
        columns = {row["name"] for row in backend.query("DESCRIBE TABLE footfall.events")}
        assert {"event_id", "session_id", "ts", "selector", "x", "scroll_pct", "revenue", "utm_campaign"} <= columns
    finally:
        backend.close()


def test_replayed_events_collapse_to_one_row_per_event_id(clickhouse: EmbeddedClickHouse) -> None:
    clickhouse.insert("footfall.events", [event_row("e1", 1, session_id="s-old"), event_row("e2", 1)])
    clickhouse.insert("footfall.events", [event_row("e1", 2, session_id="s-new")])
    rows = clickhouse.query("SELECT event_id, session_id, toString(ts) AS ts FROM footfall.events FINAL ORDER BY event_id")
    assert rows == [
        {"event_id": "e1", "session_id": "s-new", "ts": "2026-11-22 10:00:00.123"},
        {"event_id": "e2", "session_id": "", "ts": "2026-11-22 10:00:00.123"},
    ]


def test_a_batch_written_twice_is_stored_once(clickhouse: EmbeddedClickHouse) -> None:
    batch = [event_row("d1", 1), event_row("d2", 1)]
    clickhouse.insert("footfall.events", batch)
    clickhouse.insert("footfall.events", batch)
    assert clickhouse.query("SELECT count() AS n FROM footfall.events") == [{"n": 2}]


def test_sessions_final_gives_the_latest_version_and_drops_deleted(clickhouse: EmbeddedClickHouse) -> None:
    clickhouse.insert("footfall.sessions", [session_row("s1", 1, 1), session_row("s2", 1, 4)])
    clickhouse.insert("footfall.sessions", [session_row("s1", 3, 7), session_row("s1", 2, 5), session_row("s2", 2, 4, is_deleted=1)])
    rows = clickhouse.query("SELECT session_id, events FROM footfall.sessions FINAL ORDER BY session_id")
    assert rows == [{"session_id": "s1", "events": 7}]


def test_bad_sql_raises_with_clickhouses_message(clickhouse: EmbeddedClickHouse) -> None:
    with pytest.raises(ClickHouseError, match="UNKNOWN_TABLE|does not exist"):
        clickhouse.query("SELECT * FROM footfall.nope")


def test_query_command_formats_and_refuses_writes(tmp_path: Path) -> None:
    env = {**os.environ, "FOOTFALL_STATE_DIR": str(tmp_path), "COLUMNS": "200"}
    backend = EmbeddedClickHouse(tmp_path / "clickhouse")
    migrate(backend)
    backend.insert("footfall.events", [event_row("e1", 1, revenue=12.5), event_row("e2", 1)])
    backend.close()

    def footfall(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([FOOTFALL, *args], env=env, capture_output=True, text=True, timeout=120)

    sql = "SELECT event_id, revenue FROM footfall.events FINAL ORDER BY event_id"
    jsonl = footfall("query", sql, "--format", "jsonl")
    assert jsonl.returncode == 0, jsonl.stderr
    assert [orjson.loads(line) for line in jsonl.stdout.splitlines()] == [
        {"event_id": "e1", "revenue": 12.5}, {"event_id": "e2", "revenue": None}]
    tsv = footfall("query", sql, "--format", "tsv")
    assert tsv.stdout.splitlines() == ["event_id\trevenue", "e1\t12.5", "e2\t"]
    table = footfall("query", sql)
    assert "e1" in table.stdout and "2 row(s)" in table.stdout

    refused = footfall("query", "INSERT INTO footfall.events (event_id) VALUES ('x')")
    assert refused.returncode == 2 and "read-only" in refused.stdout
    broken = footfall("query", "SELECT nope FROM footfall.events")
    assert broken.returncode == 1 and "refused" in broken.stdout
