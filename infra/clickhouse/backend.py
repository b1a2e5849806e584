"""The one small interface every ClickHouse backend offers the sink, migrations and queries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

READ_ONLY_KEYWORDS = ("SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "EXISTS")


class ClickHouseError(Exception):
    """A statement ClickHouse refused, with ClickHouse's own message."""


class Backend(Protocol):
    """A ClickHouse backend: the embedded engine (`embedded`) or a server (`native`)."""

    def execute(self, sql: str) -> None:
        """Run a statement that returns nothing (DDL, settings)."""

    def insert(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        """Insert rows given as dicts of column to value."""

    def query(self, sql: str) -> list[dict[str, Any]]:
        """Run a query and return its rows as dicts."""

    def close(self) -> None:
        """Let go of the engine or the connection."""


def is_read_only(sql: str) -> bool:
    """Whether a statement only reads: `footfall query` refuses anything else."""
    words = sql.lstrip(" \t\n(").split(None, 1)
    return bool(words) and words[0].upper() in READ_ONLY_KEYWORDS and ";" not in sql.strip().rstrip(";")
