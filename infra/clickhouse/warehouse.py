"""Reading footfall's tables (and storing imported costs and fitted personas) from outside the sink.

While the stack runs the sink holds ClickHouse, and the embedded engine's lock, so a
command goes through the sink's HTTP port; when no sink answers, nothing else writes, and
the command opens the configured backend itself for as long as it needs it. Either way a
query is a user's read, confined to reading by the engine (infra.clickhouse.confinement).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

import httpx

from infra.clickhouse.backend import Backend, ClickHouseError
from infra.clickhouse.connect import open_backend
from infra.clickhouse.migrations import migrate
from infra.clickhouse.personas_store import store_personas
from infra.config import Settings
from infra.keys import sink_token
from infra.health import http_ok
from infra.people.erasing import Erased
from infra.people.finding import Refused
from infra.people.request import ForgetRequest, PersonRequest
from infra.people.service import People
from schemas.tables import DATABASE

Rows = list[dict[str, Any]]
Query = Callable[[str], Rows]
SINK_TIMEOUT_S = 120.0
# An erasure waits for ClickHouse to rewrite every part holding the person's rows.
ERASE_TIMEOUT_S = 1800.0


class Warehouse(Protocol):
    """What a command reads footfall's tables and stores campaign costs through."""

    def query(self, sql: str) -> Rows:
        """Run a read-only statement; ClickHouseError with ClickHouse's message if refused."""

    def insert_costs(self, rows: Sequence[dict[str, Any]]) -> None:
        """Store rows of footfall.campaign_costs."""

    def store_personas(self, personas: Rows, customers: Rows) -> None:
        """Store a fit: rows of footfall.personas and of footfall.customer_personas."""

    def export_person(self, request: PersonRequest) -> Iterator[bytes]:
        """Everything held about one person, as the export document's bytes (infra.people.export)."""

    def forget_person(self, request: ForgetRequest) -> Erased:
        """Erase one person everywhere; Refused (nothing deleted) if the erasure cannot be published."""


class ThroughSink:
    """The tables through the running sink: POST /query (SQL in, JSON rows out), POST /costs
    and the /people routes, through a client that sends the sink's token."""

    def __init__(self, sink_url: str, client: httpx.Client):
        self._url = sink_url
        self._client = client

    def _post(self, path: str, **body: Any) -> Any:
        answer = self._client.post(f"{self._url}{path}", **body)
        if answer.status_code != 200:
            is_json = answer.headers.get("content-type", "").startswith("application/json")
            raise ClickHouseError(answer.json()["error"] if is_json else answer.text.strip())
        return answer.json()

    def query(self, sql: str) -> Rows:
        return self._post("/query", content=sql.encode())

    def insert_costs(self, rows: Sequence[dict[str, Any]]) -> None:
        self._post("/costs", json=list(rows))

    def store_personas(self, personas: Rows, customers: Rows) -> None:
        self._post("/personas", json={"personas": personas, "customer_personas": customers})

    def export_person(self, request: PersonRequest) -> Iterator[bytes]:
        with self._client.stream("POST", f"{self._url}/people/export", json=request.body()) as answer:
            if answer.status_code != 200:
                raise Refused(sink_error(answer.read()))
            yield from answer.iter_bytes()

    def forget_person(self, request: ForgetRequest) -> Erased:
        answer = self._client.post(f"{self._url}/people/forget", json=request.body(), timeout=ERASE_TIMEOUT_S)
        if answer.status_code != 200:
            raise Refused(sink_error(answer.content))
        return Erased.model_validate(answer.json())


class OpenedHere:
    """The tables through a backend this process opened, while no sink runs."""

    def __init__(self, backend: Backend, settings: Settings):
        self._backend = backend
        self._settings = settings
        self._migrated = False

    def _migrate_once(self) -> None:
        # A command may come before the stack ever ran: the tables are created first.
        if not self._migrated:
            migrate(self._backend, retention=self._settings.retention)
            self._migrated = True

    def query(self, sql: str) -> Rows:
        return self._backend.read(sql)

    def insert_costs(self, rows: Sequence[dict[str, Any]]) -> None:
        self._migrate_once()
        self._backend.insert(f"{DATABASE}.campaign_costs", rows)

    def store_personas(self, personas: Rows, customers: Rows) -> None:
        self._migrate_once()
        store_personas(self._backend, personas, customers)

    def export_person(self, request: PersonRequest) -> Iterator[bytes]:
        self._migrate_once()
        return People(self._backend, self._settings).export(request)

    def forget_person(self, request: ForgetRequest) -> Erased:
        self._migrate_once()
        return People(self._backend, self._settings).forget(request, f"cli:{request.requested_by or 'unknown'}")


def sink_error(body: bytes) -> str:
    """The sink's `{"error": …}` answer, or the body itself when it is not one."""
    try:
        return str(json.loads(body)["error"])
    except (ValueError, KeyError, TypeError):
        return body.decode(errors="replace")[:500]


def sink_client(settings: Settings) -> httpx.Client:
    """A client of the sink's port that sends the sink's token."""
    return httpx.Client(timeout=SINK_TIMEOUT_S, headers={"Authorization": f"Bearer {sink_token(settings)}"})


@contextmanager
def through_sink(settings: Settings) -> Iterator[ThroughSink | None]:
    """The sink's port when the sink answers, else None."""
    if not http_ok(f"{settings.sink_url}/healthz"):
        yield None
        return
    with sink_client(settings) as client:
        yield ThroughSink(settings.sink_url, client)


@contextmanager
def open_warehouse(settings: Settings) -> Iterator[Warehouse]:
    """The sink's port when the sink answers, else the configured backend, closed on leaving."""
    with through_sink(settings) as sink:
        if sink is not None:
            yield sink
            return
    backend = open_backend(settings)
    try:
        yield OpenedHere(backend, settings)
    finally:
        backend.close()
