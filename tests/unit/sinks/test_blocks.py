"""How the writer cuts a table's rows into insert blocks: few enough months in each, and a
refused block cut where ClickHouse says it went wrong."""

from __future__ import annotations

import re

import pytest

from schemas.migrations import MIGRATIONS
from sinks.blocks import MONTH_COLUMNS, PARTITIONS_PER_BLOCK, blocks, split_point


def event(month: int, n: int = 0) -> dict:
    """An events row in the month-th month from January 2000."""
    return {"event_id": f"e{month}-{n}", "ts": f"{2000 + month // 12}-{month % 12 + 1:02d}-15 10:00:00.000"}


def months_in(block: list[dict]) -> set[str]:
    return {row["ts"][:7] for row in block}


def test_the_month_columns_are_the_tables_partition_keys() -> None:
    created = [statement for migration in MIGRATIONS for statement in migration.statements if "CREATE TABLE" in statement]
    partitioned = {}
    for statement in created:
        table = re.search(r"CREATE TABLE IF NOT EXISTS \w+\.(\w+)", statement).group(1)  # type: ignore[union-attr]
        key = re.search(r"PARTITION BY (.+)", statement)
        if key:
            partitioned[table] = key.group(1).strip()
    hourly = {"heatmap_clicks", "scroll_reach", "page_hourly"}  # written by materialized views, by the hour of events.ts
    assert {table: f"toYYYYMM({column})" for table, column in MONTH_COLUMNS.items()} == {
        table: key for table, key in partitioned.items() if table not in hourly
    }
    assert {partitioned[table] for table in hourly} == {"toYYYYMM(hour)"}


def test_rows_of_few_enough_months_are_one_block_as_given() -> None:
    rows = [event(month, n) for n in range(3) for month in range(PARTITIONS_PER_BLOCK)][::-1]
    assert blocks("events", rows) == [rows]
    assert blocks("events", []) == [[]]


def test_rows_of_a_table_without_time_partitions_are_one_block_however_many_months() -> None:
    rows = [{"customer_id": f"c{n}", "updated_at": event(n)["ts"]} for n in range(500)]
    assert blocks("customers", rows) == [rows]


def test_a_backfill_of_many_months_is_cut_into_blocks_of_at_most_the_limit_oldest_first() -> None:
    rows = [event(month, n) for n in range(2) for month in range(250)][::-1]  # newest first, two rows a month
    cut = blocks("events", rows)
    assert [len(months_in(block)) for block in cut] == [100, 100, 50]
    assert sorted(row["event_id"] for block in cut for row in block) == sorted(row["event_id"] for row in rows)
    assert max(months_in(cut[0])) < min(months_in(cut[1])) and max(months_in(cut[1])) < min(months_in(cut[2]))
    assert [row["event_id"] for row in cut[0][:2]] == ["e0-1", "e0-0"], "a month's rows keep their order"


@pytest.mark.parametrize(
    ("size", "reason", "cut"),
    [
        (3000, "Code: 72. Cannot read floating point value here: abc: (at row 2501)\n: While executing", 2500),
        (3000, "Code: 72. Cannot read: (while reading the value of key x): (at row 1)", 1),
        (2, "(at row 2)", 1),
        (10, "Code: 252. Too many partitions for single INSERT block (more than 100)", 5),
        (10, "(at row 11)", 5),  # a row this block does not have: it came from elsewhere
        (10, "(at row 0)", 5),
        (7, "", 3),
        (10, 'Cannot parse "(at row 2)" quoted in the data: (at row 8)', 7),  # the last one is ClickHouse's
    ],
)
def test_a_refused_block_is_cut_before_the_row_clickhouse_names_or_in_the_middle(size: int, reason: str, cut: int) -> None:
    assert split_point(size, reason) == cut
    assert 0 < split_point(size, reason) < size
