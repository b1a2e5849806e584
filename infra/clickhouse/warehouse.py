"""Reading footfall's tables (and storing imported costs) from outside the sink.

While the stack runs the sink holds ClickHouse, and the embedded engine's lock, so a
command goes through the sink's HTTP port; when no sink answers, nothing else writes, and
the command opens the configured backend itself for as long as it needs it. Either way a
query is a user's read, confined to reading by the engine (infra.clickhouse.confinement).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

import httpx

from infra.clickhouse.backend import Backend, ClickHouseError
from infra.clickhouse.connect import open_backend
from infra.clickhouse.migrations import migrate
from infra.config import Settings
from infra.keys import sink_token
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
    """The tables through the running sink: POST /query (SQL in, JSON rows out) and POST
    /costs, with the sink's token."""

    def __init__(self, sink_url: str, client: httpx.Client, token: str):
        self._url = sink_url
        self._client = client
        self._headers = {"Authorization": f"Bearer {token}"}

    def _post(self, path: str, **body: Any) -> Any:
        answer = self._client.post(f"{self._url}{path}", headers=self._headers, **body)
        if answer.status_code != 200:
            is_json = answer.headers.get("content-type", "").startswith("application/json")
            raise ClickHouseError(answer.json()["error"] if is_json else answer.text.strip())
        return answer.json()

    def query(self, sql: str) -> Rows:
        return self._post("/query", content=sql.encode())

    def insert_costs(self, rows: Sequence[dict[str, Any]]) -> None:
        self._post("/costs", json=list(rows))


class OpenedHere:
    """The tables through a backend this process opened, while no sink runs."""

    def __init__(self, backend: Backend):
        self._backend = backend
        self._migrated = False

    def query(self, sql: str) -> Rows:
        return self._backend.read(sql)

    def insert_costs(self, rows: Sequence[dict[str, Any]]) -> None:
        # An import may come before the stack ever ran: the tables are created first.
        if not self._migrated:
            migrate(self._backend)
            self._migrated = True
        self._backend.insert(f"{DATABASE}.campaign_costs", rows)


@contextmanager
def open_warehouse(settings: Settings) -> Iterator[Warehouse]:
    """The sink's port when the sink answers, else the configured backend, closed on leaving."""
    if http_ok(f"{settings.sink_url}/healthz"):
        with httpx.Client(timeout=SINK_TIMEOUT_S) as client:
            yield ThroughSink(settings.sink_url, client, sink_token(settings))
        return
    backend = open_backend(settings)
    try:
        yield OpenedHere(backend)
    finally:
        backend.close()
