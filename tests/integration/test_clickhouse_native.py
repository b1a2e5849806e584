"""The native-protocol backend against a real clickhouse-server: batched inserts, the
server's errors, and a server restarted under a client that keeps writing.

Only the transport is exercised here; table semantics are tested on the embedded engine.
The tables use the column types footfall writes that every server version has.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from tests.support.clickhouse_server import ClickHouseServer
from footfall.local.processes import wait_until
from infra.clickhouse.backend import ClickHouseError
from infra.clickhouse.native import NativeClickHouse

TABLE = """
CREATE TABLE IF NOT EXISTS transport.events
(
    event_id    String,
    ts          DateTime,
    scroll_pct  Nullable(Float64),
    revenue     Float64,
    is_deleted  UInt8,
    events      UInt32,
    version     UInt64
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (ts, event_id)
"""
START = datetime(2026, 11, 22, 10, 0, 0)


@pytest.fixture
def backend(clickhouse_server: ClickHouseServer) -> Iterator[NativeClickHouse]:
    client = NativeClickHouse(clickhouse_server.url())
    client.execute("CREATE DATABASE IF NOT EXISTS transport")
    client.execute(TABLE)
    yield client
    client.close()


def event(n: int) -> dict:
    return {
        "event_id": f"e{n:05d}",
        "ts": START + timedelta(seconds=n),
        "scroll_pct": None if n % 3 == 0 else n / 100,
        "revenue": n * 0.25,
        "is_deleted": n % 2,
        "events": n,
        "version": 2**40 + n,
    }


def count(backend: NativeClickHouse) -> int:
    return backend.query("SELECT count() AS n FROM transport.events")[0]["n"]


def queries_run(backend: NativeClickHouse) -> int:
    """The server's own count of the statements it has run (this one included)."""
    return backend.query("SELECT value FROM system.events WHERE event = 'Query'")[0]["value"]


def test_a_batch_of_ten_thousand_rows_arrives_whole_and_exact(backend: NativeClickHouse) -> None:
    backend.insert("transport.events", [event(n) for n in range(10_000)])

    assert count(backend) == 10_000
    rows = backend.query(
        "SELECT event_id, ts, scroll_pct, revenue, is_deleted, events, version "
        "FROM transport.events WHERE event_id IN ('e00000', 'e00001', 'e09999') ORDER BY event_id"
    )
    assert rows == [event(0), event(1), event(9999)]
    totals = backend.query(
        "SELECT sum(events) AS events, sum(is_deleted) AS deleted, countIf(isNull(scroll_pct)) AS nulls, "
        "max(ts) AS last FROM transport.events"
    )
    assert totals == [{"events": sum(range(10_000)), "deleted": 5_000, "nulls": 3_334, "last": event(9999)["ts"]}]
    assert backend.connection_failures == 0


def test_a_refused_statement_raises_the_servers_message_and_is_sent_once(clickhouse_server: ClickHouseServer) -> None:
    # Long waits between attempts: a retry, were there one, would not go unnoticed.
    backend = NativeClickHouse(clickhouse_server.url(), attempts=5, backoff_s=60)
    try:
        before = queries_run(backend)
        with pytest.raises(ClickHouseError, match="Code: 81. DB::Exception: Database nowhere doesn't exist") as refused:
            backend.query("SELECT * FROM nowhere.events")
        after = queries_run(backend)

        assert "Stack trace" not in str(refused.value)
        assert after - before == 2, "the refused statement and the count itself, each run once"
        assert backend.connection_failures == 0
        assert backend.query("SELECT 1 AS one") == [{"one": 1}]
    finally:
        backend.close()


def test_times_as_the_sink_writes_them_are_converted(backend: NativeClickHouse) -> None:
    backend.insert("transport.events", [{**event(1), "ts": "2026-11-22 10:00:01.250"}])
    assert backend.query("SELECT toString(ts) AS ts FROM transport.events") == [{"ts": "2026-11-22 10:00:01"}]


def test_values_of_the_wrong_type_are_refused_as_errors(backend: NativeClickHouse) -> None:
    with pytest.raises(ClickHouseError, match="cannot encode the rows for transport.events"):
        backend.insert("transport.events", [{**event(1), "ts": "yesterday"}])
    with pytest.raises(ClickHouseError, match="Column events"):
        backend.insert("transport.events", [{**event(1), "events": "many"}])
    with pytest.raises(ClickHouseError, match="Column is_deleted"):
        backend.insert("transport.events", [{**event(1), "is_deleted": 300}])
    assert count(backend) == 0
    assert backend.connection_failures == 0


def test_exhausted_retries_raise_an_error(clickhouse_server: ClickHouseServer) -> None:
    backend = NativeClickHouse(clickhouse_server.url(), attempts=3, backoff_s=0.01)
    clickhouse_server.stop()
    with pytest.raises(ClickHouseError, match="unreachable after 3 attempts"):
        backend.query("SELECT 1")
    assert backend.connection_failures == 3


def test_an_insert_waits_out_a_server_restart(clickhouse_server: ClickHouseServer, backend: NativeClickHouse) -> None:
    writer = NativeClickHouse(clickhouse_server.url(), attempts=8, backoff_s=0.2)
    backend.insert("transport.events", [event(n) for n in range(100)])
    assert writer.query("SELECT count() AS n FROM transport.events") == [{"n": 100}]

    clickhouse_server.stop()
    outcome: list[BaseException | None] = []

    def insert() -> None:
        try:
            writer.insert("transport.events", [event(n) for n in range(100, 1_100)])
            outcome.append(None)
        except BaseException as exc:  # handed to the test thread, which re-raises it
            outcome.append(exc)

    thread = threading.Thread(target=insert, daemon=True)
    thread.start()
    try:
        # Restart only once the writer has met the server down, so the retry is exercised.
        wait_until(lambda: writer.connection_failures >= 1 or not thread.is_alive(), 30, "a failed attempt")
        assert thread.is_alive(), f"the insert ended while the server was down: {outcome}"
        clickhouse_server.start()
    finally:
        thread.join(120)

    assert not thread.is_alive()
    assert outcome == [None]
    assert writer.connection_failures >= 1
    assert writer.query("SELECT count() AS n, uniqExact(event_id) AS ids FROM transport.events") == [{"n": 1_100, "ids": 1_100}]
    # A client whose connection died with the old server goes on as if nothing happened.
    assert count(backend) == 1_100
    assert backend.query("SELECT event_id FROM transport.events WHERE events = 1099") == [{"event_id": "e01099"}]
    writer.close()
