"""Storing imported campaign costs in chunks, so a long import shows its progress."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from infra.clickhouse.warehouse import Warehouse

CHUNK_ROWS = 5000


def chunks(rows: Sequence[dict[str, Any]]) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK_ROWS):
        yield rows[start:start + CHUNK_ROWS]


def store_costs(warehouse: Warehouse, rows: Sequence[dict[str, Any]], on_chunk: Callable[[int], None] = lambda n: None) -> None:
    """Store the rows in chunks, calling `on_chunk` with each chunk's size once stored."""
    for chunk in chunks(rows):
        warehouse.insert_costs(chunk)
        on_chunk(len(chunk))
