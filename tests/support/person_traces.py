"""Where a person's values are stored: every text column of footfall's tables searched."""

from __future__ import annotations

from collections.abc import Callable

import orjson

Query = Callable[[str], list[dict]]


def string_columns(query: Query) -> list[tuple[str, str]]:
    """Every text column of every table (not views, nor the in-memory lookups)."""
    return [(row["table"], row["name"]) for row in query(
        "SELECT c.table AS table, c.name AS name FROM system.columns AS c JOIN system.tables AS t "
        "ON c.database = t.database AND c.table = t.name WHERE c.database = 'footfall' AND c.type LIKE '%String%' "
        "AND t.engine NOT IN ('View', 'MaterializedView', 'Memory')"
    )]


def holding(query: Query, value: str) -> list[str]:
    """Every table and column whose stored text holds `value`."""
    needle = value.encode().hex()
    return [f"{table}.{column}" for table, column in string_columns(query) if query(
        f"SELECT count() AS n FROM footfall.{table} WHERE position(toString({column}), unhex('{needle}')) > 0")[0]["n"]]


def rows_naming(query: Query, tables: tuple[str, ...], value: str) -> dict[str, list[bytes]]:
    """Every current row holding `value`, table by table, in an order of their own."""
    return {table: sorted(orjson.dumps(row) for row in query(
        f"SELECT * FROM footfall.{table} FINAL WHERE position(toString(tuple(*)), '{value}') > 0")) for table in tables}
