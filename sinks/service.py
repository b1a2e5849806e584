"""The sink's service: stores a batch of rows in ClickHouse, table by table, setting aside
the rows ClickHouse refuses for what they hold.

One writer serves the consumer loop, footfall's own queries and the cost imports, one call
at a time, because the embedded engine belongs to this one process; users' reads go to the
backend's confined read, which needs no writer's turn.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from infra.clickhouse.backend import Backend, ClickHouseError, Formatted
from infra.clickhouse.personas_store import store_personas
from schemas.tables import DATABASE
from sinks.blocks import Row, blocks, split_point
from sinks.rejections import REJECTED_ROWS, Rejection, refused
from sinks.rows import RowBatch, clickhouse_text


def utc_now() -> datetime:
    return datetime.now(UTC)


def raise_unless_permanent(exc: ClickHouseError) -> None:
    """A refusal of the server's condition ends the write: the caller waits and writes the
    whole batch again, whose stored blocks the engine then recognises."""
    if not exc.permanent:
        raise exc


@dataclass
class Written:
    """What one write did: the rows stored, by table, and the rows set aside."""

    stored: Counter[str] = field(default_factory=Counter)
    rejected: list[Rejection] = field(default_factory=list)


class Writer:
    """Every call the sink makes to ClickHouse, through one backend, one call at a time."""

    def __init__(self, backend: Backend, clock: Callable[[], datetime] = utc_now):
        self.backend = backend
        self.lock = threading.Lock()
        self.clock = clock

    def write(self, batch: RowBatch) -> Written:
        """Events before the moves that rewrite them; the other tables in any order; then
        what was set aside. Raises ClickHouseError if ClickHouse cannot take writes now."""
        with self.lock:
            written = Written(rejected=list(batch.rejected))
            self._store("events", batch.events, written)
            for statement in batch.moves:
                self._execute(statement, written)
            self._store("sessions", batch.sessions, written)
            self._store("invalid_events", batch.invalid, written)
            for table, rows in batch.analytics.items():
                self._store(table, rows, written)
            if written.rejected:
                at = clickhouse_text(self.clock())
                self.backend.insert(f"{DATABASE}.{REJECTED_ROWS}", [rejection.row(at) for rejection in written.rejected])
            return written

    def _store(self, table: str, rows: Sequence[Row], written: Written) -> None:
        """Insert block by block; a block refused for its content is cut in two and each
        half tried again, until the rows refused are alone, and set aside."""
        pending = blocks(table, rows)[::-1]
        while pending:
            block = pending.pop()
            try:
                self.backend.insert(f"{DATABASE}.{table}", block)
                written.stored[table] += len(block)
            except ClickHouseError as exc:
                raise_unless_permanent(exc)
                if len(block) == 1:
                    written.rejected.append(refused(table, block[0], str(exc)))
                    continue
                cut = split_point(len(block), str(exc))
                pending += [block[cut:], block[:cut]]

    def _execute(self, statement: str, written: Written) -> None:
        """A move; one refused for what it holds is set aside, its events left where they are."""
        try:
            self.backend.execute(statement)
        except ClickHouseError as exc:
            raise_unless_permanent(exc)
            written.rejected.append(refused("events", statement, str(exc)))

    def insert_costs(self, rows: list[dict]) -> None:
        """Imported costs, in blocks of few enough months: years of history import whole."""
        with self.lock:
            for block in blocks("campaign_costs", rows):
                self.backend.insert(f"{DATABASE}.campaign_costs", block)

    def insert_personas(self, personas: list[dict], customers: list[dict]) -> None:
        with self.lock:
            store_personas(self.backend, personas, customers)

    def query(self, sql: str) -> list[dict]:
        with self.lock:
            return self.backend.query(sql)

    def read(self, sql: str) -> list[dict]:
        """A user's read: confined by the backend, on a connection of its own, so it waits
        for no write."""
        return self.backend.read(sql)

    def read_formatted(self, sql: str, default_format: str, database: str | None = None,
                       parameters: dict[str, str] | None = None) -> Formatted:
        return self.backend.read_formatted(sql, default_format, database, parameters)

    def close(self) -> None:
        with self.lock:
            self.backend.close()
