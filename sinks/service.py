"""The sink's service: stores a batch of rows in ClickHouse, table by table.

One writer serves the consumer loop, the read-only queries and the cost imports, because
the embedded engine belongs to this one process and takes one call at a time.
"""

from __future__ import annotations

import threading

from infra.clickhouse.backend import Backend
from schemas.tables import DATABASE
from sinks.rows import RowBatch


class Writer:
    """Every call the sink makes to ClickHouse, through one backend, one call at a time."""

    def __init__(self, backend: Backend):
        self.backend = backend
        self.lock = threading.Lock()

    def write(self, batch: RowBatch) -> None:
        """Events before the moves that rewrite them; the other tables in any order."""
        with self.lock:
            self.backend.insert(f"{DATABASE}.events", batch.events)
            for statement in batch.moves:
                self.backend.execute(statement)
            self.backend.insert(f"{DATABASE}.sessions", batch.sessions)
            self.backend.insert(f"{DATABASE}.invalid_events", batch.invalid)
            for table, rows in batch.analytics.items():
                self.backend.insert(f"{DATABASE}.{table}", rows)

    def insert_costs(self, rows: list[dict]) -> None:
        with self.lock:
            self.backend.insert(f"{DATABASE}.campaign_costs", rows)

    def query(self, sql: str) -> list[dict]:
        with self.lock:
            return self.backend.query(sql)

    def close(self) -> None:
        with self.lock:
            self.backend.close()
