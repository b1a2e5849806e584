"""The sink's routes for data-subject requests: one person's export and erasure, for
automation. The sink holds the engine while it runs, so these run here, through its writer:
an erasure holds the writer for its whole length, so no batch lands half-way through it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from typing import Any

import orjson
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from infra.clickhouse.backend import ClickHouseError
from infra.config import Settings
from infra.people.finding import Refused, TooManyIds
from infra.people.publish import ErasureNotPublished
from infra.people.request import MAX_BODY_BYTES, ForgetRequest, PersonRequest
from infra.people.service import People
from sinks.bodies import BodyTooLarge, bounded_body
from sinks.service import Writer

EXPORT_MEDIA_TYPE = "application/json"


def answer(body: object, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status, media_type="application/json")


class RefusedRequest(Exception):
    """A body that is not one valid request: answered 400 with the reason."""


async def parsed(request: Request, model: type[PersonRequest]) -> Any:
    try:
        return model.model_validate_json(await bounded_body(request, MAX_BODY_BYTES))
    except BodyTooLarge as exc:
        raise RefusedRequest(str(exc)) from None
    except ValidationError as exc:
        reasons = "; ".join(f"{'.'.join(map(str, error['loc'])) or 'body'}: {error['msg']}" for error in exc.errors(include_input=False))
        raise RefusedRequest(reasons) from None


def caller(request: Request) -> str:
    """Who the port's authentication says asked, when it names them."""
    user = request.scope.get("user")
    name = getattr(user, "display_name", "") if user is not None else ""
    return f"http:{name}" if name else "http"


class Locked:
    """The writer's backend, one call at a time between the batches the sink writes."""

    def __init__(self, writer: Writer):
        self._writer = writer

    def execute(self, sql: str) -> None:
        with self._writer.lock:
            self._writer.backend.execute(sql)

    def insert(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        with self._writer.lock:
            self._writer.backend.insert(table, rows)

    def query(self, sql: str) -> list[dict[str, Any]]:
        with self._writer.lock:
            return self._writer.backend.query(sql)

    def close(self) -> None:
        """The writer closes its backend when the sink stops."""


def status_of(exc: Exception) -> int:
    """Kafka or ClickHouse unable to take the request now: 503; a request refused for what
    it asks: 422 for too many ids, else 400."""
    if isinstance(exc, ErasureNotPublished) or (isinstance(exc, ClickHouseError) and not exc.permanent):
        return 503
    return 422 if isinstance(exc, TooManyIds) else 400


def people_routes(writer: Writer, settings: Settings) -> list[Route]:
    """POST /people/export and POST /people/forget, JSON `{"site_id", "user_id" | "anonymous_id"}`."""

    async def export(request: Request) -> Response:
        try:
            person = await parsed(request, PersonRequest)
            lines: Iterator[bytes] = await asyncio.to_thread(People(Locked(writer), settings).export, person)
        except RefusedRequest as exc:
            return answer({"error": str(exc)}, 400)
        except (Refused, ClickHouseError) as exc:
            return answer({"error": str(exc)}, status_of(exc))
        return StreamingResponse(lines, media_type=EXPORT_MEDIA_TYPE)

    async def forget(request: Request) -> Response:
        try:
            person = await parsed(request, ForgetRequest)
        except RefusedRequest as exc:
            return answer({"error": str(exc)}, 400)
        requested_by = caller(request) + (f" for {person.requested_by}" if person.requested_by else "")

        def erase() -> Any:
            with writer.lock:
                return People(writer.backend, settings).forget(person, requested_by)

        try:
            erased = await asyncio.to_thread(erase)
        except (Refused, ClickHouseError) as exc:
            return answer({"error": str(exc)}, status_of(exc))
        return answer(erased.model_dump())

    return [Route("/people/export", export, methods=["POST"]), Route("/people/forget", forget, methods=["POST"])]
