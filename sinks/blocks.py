"""How the writer cuts a table's rows into insert blocks, and a refused block in two.

ClickHouse refuses a block that touches more monthly partitions than
max_partitions_per_insert_block, so a backfill of many months is cut into blocks of fewer
months; the cut depends on the rows alone, so a replayed batch is cut the same way and its
blocks are recognised by the engine's insert deduplication.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

Row = dict[str, Any]

# ClickHouse's default max_partitions_per_insert_block.
PARTITIONS_PER_BLOCK = 100
# The column each monthly-partitioned table's PARTITION BY toYYYYMM(…) takes (schemas.tables);
# the other tables have no time partitions.
MONTH_COLUMNS = {
    "events": "ts",
    "sessions": "started_at",
    "invalid_events": "received_at",
    "segment_changes": "at",
    "campaign_costs": "day",
    "rejected_rows": "rejected_at",
    "clv_models": "fitted_at",
    "personas": "fitted_at",
}
# Where ClickHouse says a text input went wrong: "(at row 2501)", counted from 1.
ROW_NUMBER = re.compile(r"\(at row (\d+)\)")


def month_of(row: Row, column: str) -> str:
    """The partition of a row: "YYYY-MM" of its time, which the sink writes as text."""
    return str(row.get(column))[:7]


def blocks(table: str, rows: Sequence[Row]) -> list[Sequence[Row]]:
    """The rows as one block when they span few enough months (as given, in order), else
    a block per run of that many months, oldest first, each month's rows in order."""
    column = MONTH_COLUMNS.get(table)
    if column is None:
        return [rows]
    by_month: dict[str, list[Row]] = {}
    for row in rows:
        by_month.setdefault(month_of(row, column), []).append(row)
    if len(by_month) <= PARTITIONS_PER_BLOCK:
        return [rows]
    months = sorted(by_month)
    runs = [months[start:start + PARTITIONS_PER_BLOCK] for start in range(0, len(months), PARTITIONS_PER_BLOCK)]
    return [[row for month in run for row in by_month[month]] for run in runs]


def split_point(size: int, reason: str) -> int:
    """Where to cut a refused block of `size` rows (at least two) in two. ClickHouse names
    the row it stopped at in a text input: cut just before it, or just after when it is
    the first, so the rows before are stored and the refused one ends up alone. Without
    that, or if it names no row of this block, in the middle."""
    named = ROW_NUMBER.findall(reason)  # the last: earlier ones may be quoted data
    index = int(named[-1]) - 1 if named else -1
    if 0 <= index < size:
        return index or 1
    return size // 2
