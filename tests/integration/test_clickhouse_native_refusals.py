"""Refusals from a real clickhouse-server over the native protocol: the server's error
code classifies them, the driver's own refusals are the content's, a server gone is its
condition; and the writer, with no row numbers to go by, still finds the refused row.

The tables use only column types every server version has (the installed server is old):
the sink's writer is exercised here, not the footfall tables themselves."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest

from infra.clickhouse.backend import ClickHouseError
from infra.clickhouse.native import NativeClickHouse
from sinks.rows import RowBatch
from sinks.service import Writer
from tests.support.clickhouse_server import ClickHouseServer

CUSTOMERS = "CREATE TABLE footfall.customers (site_id String, customer_id String, purchases UInt32) ENGINE = MergeTree ORDER BY customer_id"
REJECTED_ROWS = """
CREATE TABLE footfall.rejected_rows
(site_id String, target_table String, reason_class String, reason String, source String, content String, rejected_at DateTime, key String)
ENGINE = MergeTree ORDER BY key
"""


@pytest.fixture
def backend(clickhouse_server: ClickHouseServer) -> Iterator[NativeClickHouse]:
    client = NativeClickHouse(clickhouse_server.url(), attempts=2, backoff_s=0.01)
    for statement in ("CREATE DATABASE footfall", CUSTOMERS, REJECTED_ROWS):
        client.execute(statement)
    yield client
    client.close()


def refusal(call: object) -> ClickHouseError:
    with pytest.raises(ClickHouseError) as refused:
        call()  # type: ignore[operator]
    return refused.value


def customer(n: int, purchases: object = 1) -> dict:
    return {"site_id": "shop", "customer_id": f"c{n:03d}", "purchases": purchases}


def test_the_servers_refusal_of_an_unknown_column_is_permanent(backend: NativeClickHouse) -> None:
    refused = refusal(lambda: backend.insert("footfall.customers", [{**customer(1), "zz": 1}]))
    assert (refused.code, refused.permanent) == (16, True), str(refused)


def test_a_value_the_driver_cannot_encode_and_a_row_missing_a_column_are_permanent(backend: NativeClickHouse) -> None:
    assert refusal(lambda: backend.insert("footfall.customers", [customer(1, "many")])).permanent
    missing = refusal(lambda: backend.insert("footfall.customers", [customer(1), {"site_id": "shop", "customer_id": "c2"}]))
    assert missing.permanent and "cannot encode the rows for footfall.customers" in str(missing)


def test_a_server_gone_is_its_condition(clickhouse_server: ClickHouseServer, backend: NativeClickHouse) -> None:
    clickhouse_server.stop()
    refused = refusal(lambda: backend.insert("footfall.customers", [customer(1)]))
    assert not refused.permanent and "unreachable after 2 attempts" in str(refused)


def test_without_row_numbers_the_writer_halves_its_way_to_the_refused_row(backend: NativeClickHouse) -> None:
    batch = RowBatch()
    for n in range(64):
        batch.add_analytics("customers", customer(n, "many" if n == 41 else n))
    written = Writer(backend).write(batch)

    assert written.stored["customers"] == 63
    stored = backend.query("SELECT customer_id FROM footfall.customers ORDER BY customer_id")
    assert [row["customer_id"] for row in stored] == [f"c{n:03d}" for n in range(64) if n != 41]
    [row] = backend.query("SELECT target_table, reason_class, reason, content FROM footfall.rejected_rows")
    assert (row["target_table"], row["reason_class"]) == ("customers", "refused")
    assert "Type mismatch" in row["reason"] and "Column purchases" in row["reason"]
    assert orjson.loads(row["content"]) == customer(41, "many")
