"""The collector's HTTP surface: Segment's tracking endpoints, health and metrics.

Handlers are thin: parsing and enrichment are pure functions (parsing.py, enrich.py); this
module reads the request, asks Kafka to acknowledge, and chooses the answer.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from functools import cache, partial
from typing import Any

import orjson
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from collector import metrics
from collector.addresses import client_address, limit_key
from collector.cors import cors_headers, preflight_allowed
from collector.comments import with_scrubbed_comment
from collector.dead_letters import dead_letter_reason, dead_letter_text, masker
from collector.enrich import RequestMeta, normalise
from collector.geo import Geolocator
from collector.limits import Measured, measure, time_refusal
from collector.openapi import openapi_endpoint
from collector.personal_data import PersonalData
from collector.parsing import (
    Carried,
    Rejected,
    RequestError,
    carried_messages,
    decode_body,
    parse_json_object,
    too_large,
    validate_messages,
    write_key_from,
)
from collector.privacy import declines_tracking
from collector.ratelimit import ADDRESS, RateLimiter
from collector.script import script_endpoint
from infra.kafka.publisher import KafkaUnavailable, Publisher, Record, dead_letter_record
from infra.config import Settings, Site, load
from infra.keys import site_key
from schemas import topics
from schemas.event import InvalidMessage

log = logging.getLogger("footfall.collector")
ENDPOINTS = ("batch", "track", "page", "identify")


def json_response(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, headers=headers, media_type="application/json")


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it passes the limit rather than after reading it all."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def fallback_event_id(site_id: str, raw: Any) -> str:
    """A stable id for a message sent without messageId, so that a retry maps to the same id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, site_id + orjson.dumps(raw, option=orjson.OPT_SORT_KEYS).decode()))


class Ingest:
    """Turns one request into Kafka records and an answer."""

    def __init__(self, settings: Settings, publisher: Publisher):
        self.settings = settings
        self.limits = settings.limits
        self.publisher = publisher
        self.locate = Geolocator(settings.geoip_city_db).locate
        self.rates = RateLimiter(settings.rate_limits, settings.collector_workers)
        # Compiled once; a site's key is read (or made) when its first value is hashed.
        self.personal = {
            site.id: PersonalData.for_site(site.personal_data, cache(partial(site_key, settings, site.id)))
            for site in settings.sites
        }

    def site_for(self, key: str | None) -> Site:
        if key is None:
            raise RequestError(401, "missing_write_key", "send the write key as the Basic user name or as writeKey")
        site = self.settings.sites_by_key.get(key)
        if site is None:
            raise RequestError(401, "unknown_write_key", "the write key matches no site")
        return site

    def admit(self, address: str | None, site: Site, messages: int) -> None:
        """Charges the request's messages to its address and its site, or refuses it with 429."""
        refusal = self.rates.admit(limit_key(address), site.write_key, max(1, messages), time.monotonic())
        if refusal is None:
            return
        metrics.RATE_LIMITED.labels(site.id, refusal.limit).inc()
        sender = "this client address" if refusal.limit == ADDRESS else f"site {site.id!r}"
        raise RequestError(
            429,
            "rate_limited",
            f"{sender} sent more events than its rate limit allows; retry in {refusal.retry_after_s} s",
            headers={"Retry-After": str(refusal.retry_after_s)},
            limit=refusal.limit,
            retry_after_s=refusal.retry_after_s,
        )

    async def handle(self, request: Request, endpoint: str) -> Response:
        received_at = datetime.now(UTC)
        origin = request.headers.get("origin")
        site: Site | None = None
        address = client_address(
            request.client.host if request.client else None,
            request.headers.get("x-forwarded-for"),
            self.settings.rate_limits.trusted_proxies,
        )
        try:
            body = await read_body(request, self.settings.max_body_bytes)
            plain = decode_body(body, request.headers.get("content-encoding"), self.settings.max_body_bytes)
            payload = parse_json_object(plain)
            site = self.site_for(write_key_from(request.headers.get("authorization"), payload))
            metrics.PAYLOAD_BYTES.labels(site.id).inc(len(body))
            if origin and not site.allows_origin(origin):
                raise RequestError(403, "origin_not_allowed", f"site {site.id!r} does not accept requests from {origin}")
            carried = carried_messages(endpoint, payload, self.limits.max_messages)
            self.admit(address, site, len(carried.messages))
            if site.respect_dnt and declines_tracking(request.headers):
                ignored = len(carried.messages)
                metrics.EVENTS_REJECTED.labels(site.id, "do_not_track").inc(ignored)
                body = {"success": True, "accepted": 0, "ignored": ignored, "reason": "do_not_track"}
                return json_response(body, 200, self.cors(origin, site))
            measured = measure(carried.messages, carried.shared_context, self.limits)
            if measured.output_bytes > self.limits.max_output_bytes:
                raise RequestError(
                    413,
                    "output_too_large",
                    f"the messages would make {measured.output_bytes} bytes of events, "
                    f"over the limit of {self.limits.max_output_bytes} bytes a request",
                )
            meta = RequestMeta(
                site_id=site.id,
                received_at=received_at,
                client_ip=address,
                user_agent=request.headers.get("user-agent"),
            )
            records, types, rejected = self.records_for(carried, measured, meta, site, endpoint)
            with metrics.PRODUCE_SECONDS.time():
                await self.publisher.publish(records)
        except RequestError as exc:
            return json_response(exc.body(), exc.status, {**exc.headers, **self.cors(origin, site)})
        except KafkaUnavailable as exc:
            metrics.PRODUCE_ERRORS.inc()
            log.warning("Kafka did not acknowledge: %s", exc)
            body = {"success": False, "error": "kafka_unavailable", "detail": "events could not be stored; retry later"}
            headers = {"Retry-After": str(self.settings.retry_after_s), **self.cors(origin, site)}
            return json_response(body, 503, headers)

        for event_type, count in Counter(types).items():
            metrics.EVENTS_ACCEPTED.labels(site.id, event_type).inc(count)
        if rejected:
            metrics.EVENTS_REJECTED.labels(site.id, "invalid_message").inc(len(rejected))
        return self.answer(len(types), rejected, endpoint, self.cors(origin, site))

    def records_for(
        self, carried: Carried, measured: Measured, meta: RequestMeta, site: Site, endpoint: str
    ) -> tuple[list[Record], list[str], list[Rejected]]:
        """Records for the messages within bounds, their personal data scrubbed as the site
        says; every other one dead-lettered, scrubbed, with its reason."""
        personal = self.personal[site.id]
        mask = masker(personal.hashed, site.write_key)
        over_limit = [Rejected(index, reason, carried.messages[index]) for index, reason in measured.reasons.items()]
        raws = {index: carried.merged(index) for index in range(len(carried.messages)) if index not in measured.reasons}
        valid, rejected = validate_messages(raws.items())
        rejected += over_limit
        records: list[Record] = []
        types: list[str] = []
        for index, message in valid:
            try:
                scrubbed = with_scrubbed_comment(personal.applied(message), mask)
                event = normalise(scrubbed, meta, partial(fallback_event_id, meta.site_id, raws[index]), self.locate)
                refusal = time_refusal(event.ts, meta.received_at, self.limits)
                if refusal is not None:
                    raise ValueError(refusal)
            except ValueError as exc:
                rejected.append(Rejected(index, str(exc), raws[index]))
                continue
            records.append(Record(topics.EVENTS.name, event.kafka_key, event.model_dump_json().encode()))
            types.append(event.type.value)
        for item in rejected:
            dead = InvalidMessage(
                site_id=meta.site_id,
                received_at=meta.received_at,
                endpoint=endpoint,
                reason=dead_letter_reason(item.reason, personal, site.write_key),
                raw=dead_letter_text(item.raw, personal, site.write_key, self.limits.max_depth, self.limits.max_message_bytes),
            )
            records.append(dead_letter_record(dead))
        return records, types, sorted(rejected, key=lambda item: item.index)

    @staticmethod
    def answer(accepted: int, rejected: list[Rejected], endpoint: str, headers: dict[str, str]) -> Response:
        if not rejected:
            return json_response({"success": True}, 200, headers)
        errors = [{"index": item.index, "reason": item.reason} for item in rejected]
        body: dict[str, Any] = {"success": accepted > 0, "accepted": accepted, "rejected": len(rejected), "errors": errors}
        if accepted == 0:
            body["error"] = "invalid_message" if endpoint != "batch" else "invalid_messages"
            body["detail"] = rejected[0].reason
        return json_response(body, 200 if accepted else 400, headers)

    def cors(self, origin: str | None, site: Site | None) -> dict[str, str]:
        return cors_headers(origin, site is not None and origin is not None and site.allows_origin(origin))


def create_app(settings: Settings, publisher: Publisher | None = None) -> Starlette:
    publisher = publisher or Publisher(settings.kafka, settings.kafka_ack_timeout_s)
    ingest = Ingest(settings, publisher)
    metrics.start_series(site.id for site in settings.sites)

    async def tracking(request: Request) -> Response:
        endpoint = request.path_params["endpoint"]
        if endpoint not in ENDPOINTS:
            return json_response({"success": False, "error": "not_found", "detail": f"no endpoint /v1/{endpoint}"}, 404)
        metrics.IN_FLIGHT.inc()
        started = time.perf_counter()
        try:
            response = await ingest.handle(request, endpoint)
        except Exception:
            log.exception("unexpected failure handling /v1/%s", endpoint)
            response = json_response({"success": False, "error": "internal", "detail": "unexpected server error"}, 500)
        finally:
            metrics.IN_FLIGHT.dec()
        metrics.REQUEST_SECONDS.labels(endpoint).observe(time.perf_counter() - started)
        metrics.REQUESTS.labels(endpoint, str(response.status_code)).inc()
        return response

    async def preflight(request: Request) -> Response:
        origin = request.headers.get("origin")
        allowed = origin is not None and preflight_allowed(origin, settings.sites)
        return Response(status_code=204 if allowed else 403, headers=cors_headers(origin, allowed))

    async def healthz(request: Request) -> Response:
        return json_response({"status": "ok"})

    async def readyz(request: Request) -> Response:
        if await publisher.reachable():
            return json_response({"status": "ready", "kafka": "reachable"})
        return json_response({"status": "not_ready", "kafka": "unreachable"}, 503)

    async def metrics_endpoint(request: Request) -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await publisher.start()
        try:
            yield
        finally:
            await publisher.stop()

    routes = [
        Route("/v1/{endpoint}", tracking, methods=["POST"]),
        Route("/v1/{endpoint}", preflight, methods=["OPTIONS"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        Route("/footfall.js", script_endpoint(), methods=["GET"]),
        Route("/openapi.json", openapi_endpoint(settings), methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def app_from_environment() -> Starlette:
    """The app as configured by FOOTFALL_… and the config file; each worker process builds its own."""
    return create_app(load())
