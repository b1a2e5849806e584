"""Storing imported campaign costs through the one writer.

While the stack runs the sink owns ClickHouse (and the embedded engine's lock), so the
rows go to the sink's /costs endpoint, which writes them between its own batches. When
the stack is down nothing else writes, so the rows are stored here directly, as
`footfall query` reads directly then. Publishing to a Kafka topic instead would need the
broker up for an import and would leave the importer without word that the rows are
stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import httpx

from infra.config import Settings
from footfall.local.stack import http_ok
from schemas.tables import DATABASE
from infra.clickhouse.backend import ClickHouseError
from infra.clickhouse.connect import open_backend
from infra.clickhouse.migrations import migrate

CHUNK_ROWS = 5000


def chunks(rows: Sequence[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK_ROWS):
        yield list(rows[start:start + CHUNK_ROWS])


def store_costs(settings: Settings, rows: Sequence[dict[str, Any]], on_chunk: Callable[[int], None] = lambda n: None) -> None:
    """Store the rows in chunks, calling `on_chunk` with each chunk's size once stored."""
    if http_ok(f"{settings.sink_url}/healthz"):
        for chunk in chunks(rows):
            answer = httpx.post(f"{settings.sink_url}/costs", json=chunk, timeout=120)
            if answer.status_code != 200:
                raise ClickHouseError(answer.json()["error"])
            on_chunk(len(chunk))
        return
    backend = open_backend(settings)
    try:
        migrate(backend)
        for chunk in chunks(rows):
            backend.insert(f"{DATABASE}.campaign_costs", chunk)
            on_chunk(len(chunk))
    finally:
        backend.close()
