"""The sink's process: its HTTP app, whose lifespan migrates ClickHouse and runs the consumer loop.

The sink owns the embedded engine while it runs, so reads (`footfall query`, analysts'
clients through the ClickHouse HTTP interface at `/`) reach it over HTTP on loopback,
confined to reading; imported campaign costs (`footfall costs import`) and fitted personas
(`footfall personas`) arrive the same way, as they come from a command rather than a stream
and the command needs to know they are stored. Every route but the health and metrics ones needs the sink's token (sinks.access).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import AsyncIterator

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from infra.clickhouse.backend import ClickHouseError
from infra.clickhouse.connect import open_backend
from infra.clickhouse.migrations import migrate
from infra.config import Settings
from infra.keys import sink_token
from schemas.tables import CAMPAIGN_COST_COLUMNS, CUSTOMER_PERSONA_COLUMNS, PERSONA_COLUMNS
from sinks.access import SinkAccess
from sinks.bodies import BodyTooLarge, bounded_body
from sinks.clickhouse_http import clickhouse_endpoint, ping, statement
from sinks.people import people_routes
from sinks.service import Writer
from sinks.sink import consume

log = logging.getLogger("footfall.sink")
COSTS_SHAPE = f"a JSON array of rows with exactly the columns {', '.join(CAMPAIGN_COST_COLUMNS)}"
# `footfall costs import` sends its rows in chunks of thousands, each far below this.
MAX_COSTS_BYTES = 32 << 20
PERSONAS_SHAPE = (f"a JSON object of personas (rows with exactly the columns {', '.join(PERSONA_COLUMNS)}) and "
                  f"customer_personas (rows with exactly {', '.join(CUSTOMER_PERSONA_COLUMNS)})")
# A fit of `footfall personas`: its customers' assignments (a bounded number) and a few personas.
MAX_PERSONAS_BYTES = 64 << 20


def json_response(body: object, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status, media_type="application/json")


def exit_if_failed(task: asyncio.Task) -> None:
    """A sink that no longer consumes must not look alive: end the process, loudly."""
    if not task.cancelled() and task.exception() is not None:
        log.error("the sink stopped consuming", exc_info=task.exception())
        os.kill(os.getpid(), signal.SIGTERM)


def are_rows_of(rows: object, columns: tuple[str, ...]) -> bool:
    return isinstance(rows, list) and all(isinstance(row, dict) and set(row) == set(columns) for row in rows)


def are_cost_rows(rows: object) -> bool:
    return are_rows_of(rows, CAMPAIGN_COST_COLUMNS)


def are_persona_rows(body: object) -> bool:
    """A fit of personas: {"personas": rows, "customer_personas": rows}."""
    return (isinstance(body, dict) and set(body) == {"personas", "customer_personas"}
            and are_rows_of(body["personas"], PERSONA_COLUMNS) and are_rows_of(body["customer_personas"], CUSTOMER_PERSONA_COLUMNS))


def create_app(settings: Settings, writer: Writer | None = None) -> Starlette:
    """The sink as configured: ClickHouse is opened now (unless a writer is given), and
    closed when the app stops. The token is read, or made, before anything is served."""
    token = sink_token(settings)
    writer = writer or Writer(open_backend(settings))
    stopping = asyncio.Event()

    async def query(request: Request) -> Response:
        try:
            rows = await asyncio.to_thread(writer.read, await statement(request))
        except ClickHouseError as exc:
            return json_response({"error": str(exc)}, 400)
        return json_response(rows)

    async def costs(request: Request) -> Response:
        try:
            rows = orjson.loads(await bounded_body(request, MAX_COSTS_BYTES))
        except BodyTooLarge as exc:
            return json_response({"error": f"{exc}: send the rows in chunks"}, 413)
        except orjson.JSONDecodeError:
            rows = None
        if not are_cost_rows(rows):
            return json_response({"error": COSTS_SHAPE}, 400)
        try:
            await asyncio.to_thread(writer.insert_costs, rows)
        except ClickHouseError as exc:
            return json_response({"error": str(exc)}, 400)
        return json_response({"stored": len(rows)})

    async def personas(request: Request) -> Response:
        try:
            body = orjson.loads(await bounded_body(request, MAX_PERSONAS_BYTES))
        except BodyTooLarge as exc:
            return json_response({"error": str(exc)}, 413)
        except orjson.JSONDecodeError:
            body = None
        if not are_persona_rows(body):
            return json_response({"error": PERSONAS_SHAPE}, 400)
        try:
            await asyncio.to_thread(writer.insert_personas, body["personas"], body["customer_personas"])
        except ClickHouseError as exc:
            return json_response({"error": str(exc)}, 400)
        return json_response({"stored": len(body["personas"]), "customers": len(body["customer_personas"])})

    async def healthz(request: Request) -> Response:
        return json_response({"status": "ok"})

    async def metrics_endpoint(request: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            await asyncio.to_thread(migrate, writer.backend, retention=settings.retention)
            consuming = asyncio.create_task(consume(writer, settings, stopping))
            consuming.add_done_callback(exit_if_failed)
            try:
                yield
            finally:
                stopping.set()
                await consuming
        finally:
            writer.close()

    routes = [
        Route("/query", query, methods=["POST"]),
        Route("/costs", costs, methods=["POST"]),
        Route("/personas", personas, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        *people_routes(writer, settings),
        Route("/ping", ping, methods=["GET"]),
        Route("/", clickhouse_endpoint(writer.read_formatted), methods=["GET", "POST"]),
    ]
    access = Middleware(SinkAccess, token=token, allowed_hosts=settings.sink_allowed_hosts)
    return Starlette(routes=routes, middleware=[access], lifespan=lifespan)
