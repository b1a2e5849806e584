"""Where a person's values are stored: every text column of footfall's tables searched."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import orjson

Query = Callable[[str], list[dict]]


def string_columns(query: Query) -> list[tuple[str, str]]:
    """Every text column of every table (not views, nor the in-memory lookups)."""
    return [(row["table"], row["name"]) for row in query(
        "SELECT c.table AS table, c.name AS name FROM system.columns AS c JOIN system.tables AS t "
        "ON c.database = t.database AND c.table = t.name WHERE c.database = 'footfall' AND c.type LIKE '%String%' "
        "AND t.engine NOT IN ('View', 'MaterializedView', 'Memory')"
    )]


def holdings(query: Query, values: Sequence[str]) -> dict[str, list[str]]:
    """For each of `values`, every table and column whose stored text holds it (one query
    a table, every column and value counted in it)."""
    found: dict[str, list[str]] = {value: [] for value in values}
    tables: dict[str, list[str]] = {}
    for table, column in string_columns(query):
        tables.setdefault(table, []).append(column)
    for table, columns in tables.items():
        pairs = [(value, column) for value in values for column in columns]
        counted = ", ".join(
            f"countIf(position(toString({column}), unhex('{value.encode().hex()}')) > 0) AS n{number}"
            for number, (value, column) in enumerate(pairs)
        )
        counts = query(f"SELECT {counted} FROM footfall.{table}")[0]
        for number, (value, column) in enumerate(pairs):
            if counts[f"n{number}"]:
                found[value].append(f"{table}.{column}")
    return found


def holding(query: Query, value: str) -> list[str]:
    """Every table and column whose stored text holds `value`."""
    return holdings(query, [value])[value]


def rows_naming(query: Query, tables: tuple[str, ...], value: str, columns: Mapping[str, str] | None = None) -> dict[str, list[bytes]]:
    """Every current row holding `value`, table by table, in an order of their own: all
    their columns, or the `columns` given for a table."""
    chosen = columns or {}
    return {table: sorted(orjson.dumps(row) for row in query(
        f"SELECT {chosen.get(table, '*')} FROM footfall.{table} FINAL WHERE position(toString(tuple(*)), '{value}') > 0"))
        for table in tables}
