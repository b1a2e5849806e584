"""Reading footfall's tables (and storing imported costs) from outside the sink.

While the stack runs the sink holds ClickHouse, and the embedded engine's lock, so a
command goes through the sink's HTTP port; when no sink answers, nothing else writes, and
the command opens the configured backend itself for as long as it needs it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

import httpx

from infra.clickhouse.backend import Backend, ClickHouseError
from infra.clickhouse.connect import open_backend
from infra.clickhouse.migrations import migrate
from infra.config import Retention, Settings
from infra.health import http_ok
from schemas.tables import DATABASE

Rows = list[dict[str, Any]]
Query = Callable[[str], Rows]
SINK_TIMEOUT_S = 120.0


class Warehouse(Protocol):
    """What a command reads footfall's tables and stores campaign costs through."""

    def query(self, sql: str) -> Rows:
        """Run a read-only statement; ClickHouseError with ClickHouse's message if refused."""

    def insert_costs(self, rows: Sequence[dict[str, Any]]) -> None:
        """Store rows of footfall.campaign_costs."""


class ThroughSink:
    """The tables through the running sink: POST /query (SQL in, JSON rows out) and POST /costs."""

    def __init__(self, sink_url: str, client: httpx.Client):
        self._url = sink_url
        self._client = client

    def _post(self, path: str, **body: Any) -> Any:
        answer = self._client.post(f"{self._url}{path}", **body)
        if answer.status_code != 200:
            raise ClickHouseError(answer.json()["error"])
        return answer.json()

    def query(self, sql: str) -> Rows:
        return self._post("/query", content=sql.encode())

    def insert_costs(self, rows: Sequence[dict[str, Any]]) -> None:
        self._post("/costs", json=list(rows))


class OpenedHere:
    """The tables through a backend this process opened, while no sink runs."""

    def __init__(self, backend: Backend, retention: Retention):
        self._backend = backend
        self._retention = retention
        self._migrated = False

    def query(self, sql: str) -> Rows:
        return self._backend.query(sql)

    def insert_costs(self, rows: Sequence[dict[str, Any]]) -> None:
        # An import may come before the stack ever ran: the tables are created first.
        if not self._migrated:
            migrate(self._backend, retention=self._retention)
            self._migrated = True
        self._backend.insert(f"{DATABASE}.campaign_costs", rows)


@contextmanager
def open_warehouse(settings: Settings) -> Iterator[Warehouse]:
    """The sink's port when the sink answers, else the configured backend, closed on leaving."""
    if http_ok(f"{settings.sink_url}/healthz"):
        with httpx.Client(timeout=SINK_TIMEOUT_S) as client:
            yield ThroughSink(settings.sink_url, client)
        return
    backend = open_backend(settings)
    try:
        yield OpenedHere(backend, settings.retention)
    finally:
        backend.close()
