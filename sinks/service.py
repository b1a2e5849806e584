"""The sink: the one writer to ClickHouse, reading the processors' topics in batches.

Offsets are committed only after a batch is written, so a crash replays what was not
written; the tables collapse replays (ReplacingMergeTree by key and version), so a replay
never double counts. While ClickHouse refuses writes the partitions are paused and the
batch is retried with backoff: nothing is read that could not be stored.

The sink owns the embedded engine while it runs, so it also answers read-only queries
(`footfall query`) over HTTP on loopback, and stores imported campaign costs
(`footfall costs import`): those rows come from a file, not a stream, and the importer
needs to know they are stored, so they arrive over HTTP rather than through Kafka.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import AsyncIterator

import orjson
from aiokafka import AIOKafkaConsumer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from infra.config import Settings
from schemas.tables import CAMPAIGN_COST_COLUMNS, DATABASE
from schemas.topics import CUSTOMERS, DEAD_LETTER, FUNNEL_PROGRESS, SEGMENT_CHANGES, SESSIONISED, SESSIONS
from sinks import metrics
from infra.clickhouse.backend import Backend, ClickHouseError, is_read_only
from infra.clickhouse.migrations import migrate
from sinks.rows import Batch

log = logging.getLogger("footfall.sink")
TOPICS = (SESSIONISED.name, SESSIONS.name, DEAD_LETTER.name, SEGMENT_CHANGES.name, CUSTOMERS.name, FUNNEL_PROGRESS.name)
GROUP_ID = "footfall-sink"


class Writer:
    """Writes batches through one backend; calls are serialised, as the engine needs."""

    def __init__(self, backend: Backend):
        self.backend = backend
        self.lock = threading.Lock()

    def write(self, batch: Batch) -> None:
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


async def write_with_retries(writer: Writer, batch: Batch, consumer: AIOKafkaConsumer, settings: Settings) -> None:
    """Retry until written. Partitions are paused meanwhile, and polling continues (on
    paused partitions it returns nothing) so the group does not evict this consumer."""
    delay = settings.sink_retry_initial_s
    paused = False
    while True:
        started = time.perf_counter()
        try:
            await asyncio.to_thread(writer.write, batch)
            metrics.INSERT_SECONDS.observe(time.perf_counter() - started)
            break
        except ClickHouseError as exc:
            metrics.ERRORS.inc()
            log.warning("writing %d rows failed, retrying in %.1fs: %s", len(batch), delay, exc)
            if not paused:
                consumer.pause(*consumer.assignment())
                paused = True
            metrics.RETRIES.inc()
            await asyncio.sleep(delay)
            await consumer.getmany(timeout_ms=0)
            delay = min(delay * 2, settings.sink_retry_max_s)
    if paused:
        consumer.resume(*consumer.assignment())
    metrics.record_written(batch)


async def consume(writer: Writer, settings: Settings, stopping: asyncio.Event) -> None:
    consumer = AIOKafkaConsumer(
        *TOPICS,
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=GROUP_ID,
        client_id="footfall-sink",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=settings.sink_batch_rows,
    )
    await consumer.start()
    try:
        batch, offsets, opened = Batch(), {}, time.monotonic()
        while not stopping.is_set():
            fetched = await consumer.getmany(timeout_ms=100, max_records=settings.sink_batch_rows)
            for partition, records in fetched.items():
                for record in records:
                    batch.add(partition.topic, record.value)
                offsets[partition] = records[-1].offset + 1
            if not batch:
                opened = time.monotonic()
                continue
            if len(batch) >= settings.sink_batch_rows or time.monotonic() - opened >= settings.sink_batch_s:
                await write_with_retries(writer, batch, consumer, settings)
                await consumer.commit(offsets)
                batch, offsets, opened = Batch(), {}, time.monotonic()
    finally:
        await consumer.stop()


def exit_if_failed(task: asyncio.Task) -> None:
    """A sink that no longer consumes must not look alive: end the process, loudly."""
    if not task.cancelled() and task.exception() is not None:
        log.error("the sink stopped consuming", exc_info=task.exception())
        os.kill(os.getpid(), signal.SIGTERM)


def http_app(writer: Writer, settings: Settings) -> Starlette:
    stopping = asyncio.Event()

    async def query(request: Request) -> Response:
        sql = (await request.body()).decode()
        if not is_read_only(sql):
            return Response(orjson.dumps({"error": "read-only statements only"}), 400, media_type="application/json")
        try:
            rows = await asyncio.to_thread(writer.query, sql)
        except ClickHouseError as exc:
            return Response(orjson.dumps({"error": str(exc)}), 400, media_type="application/json")
        return Response(orjson.dumps(rows), media_type="application/json")

    async def costs(request: Request) -> Response:
        try:
            rows = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            rows = None
        if not isinstance(rows, list) or not all(isinstance(row, dict) and set(row) == set(CAMPAIGN_COST_COLUMNS) for row in rows):
            error = f"a JSON array of rows with exactly the columns {', '.join(CAMPAIGN_COST_COLUMNS)}"
            return Response(orjson.dumps({"error": error}), 400, media_type="application/json")
        try:
            await asyncio.to_thread(writer.insert_costs, rows)
        except ClickHouseError as exc:
            return Response(orjson.dumps({"error": str(exc)}), 400, media_type="application/json")
        return Response(orjson.dumps({"stored": len(rows)}), media_type="application/json")

    async def healthz(request: Request) -> Response:
        return Response(orjson.dumps({"status": "ok"}), media_type="application/json")

    async def metrics_endpoint(request: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await asyncio.to_thread(migrate, writer.backend)
        task = asyncio.create_task(consume(writer, settings, stopping))
        task.add_done_callback(exit_if_failed)
        try:
            yield
        finally:
            stopping.set()
            await task

    routes = [
        Route("/query", query, methods=["POST"]),
        Route("/costs", costs, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
