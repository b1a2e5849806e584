"""Sink throughput on pre-filled topics, beside the same rows written straight into the
embedded engine (the limit), and what footfall.events costs on disk (bench/storage.py).

The events are the sessioniser benchmark's: the demo's visitors over the last week,
normalised as the collector does. Each run starts fresh on a private broker:
  1. footfall.events is filled with the N events and one processors worker sessionises and
     analyses them all (done when its group has committed every offset), then stops: the
     sink's topics now hold every record it would read in production;
  2. the records on every topic are counted (what the brokers store per event), and
     every record on the sink's topics is read back and made into rows as the sink does
     (not timed), then written in one batch through the sink's writer into a fresh
     embedded engine in this process (the limit: ClickHouse's own cost for these rows,
     the materialized views included, with no Kafka and no batching); its footfall.events
     is then merged and measured for the storage table;
  3. the sink (`python -m sinks`, its own state folder and engine) is started and left to
     write them all; done when its group has committed every offset. Its rate is the
     records committed from its first commit to its last over that span, so its start-up
     (migrations, reading footfall.erasures) is not counted; its CPU is taken over the same
     span. Both engines are then checked to hold exactly the N events.

    .venv/bin/python -m bench.sink_throughput [--runs 3] [--events 50000]
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import typer
from aiokafka import AIOKafkaConsumer
from rich.console import Console

from bench.common import RUNS_OPTION, SEED_OPTION, cpu_seconds, figures_table, private_broker, repeat
from bench.sessioniser_throughput import normalised_events
from bench.storage import Storage, measure, storage_table
from bench.worker_bench import committed, end_offsets, fill, partitions, watch
from footfall.local.processes import Started, free_port, stop
from footfall.local.stack import spawn_processor, spawn_sink
from infra.clickhouse.embedded import EmbeddedClickHouse
from infra.clickhouse.migrations import migrate
from infra.config import Settings
from schemas.topics import ALL_TOPICS, EVENTS, Topic
from sinks.rows import RowBatch
from sinks.service import Writer
from sinks.sink import GROUP_ID, TOPICS

SINK_TOPICS: list[Topic] = [topic for topic in ALL_TOPICS if topic.name in TOPICS]
POLL_S = 0.25
COUNT_EVENTS = "SELECT count() AS n FROM footfall.events FINAL"
console = Console()


@dataclass
class Run:
    records: int  # on the sink's topics
    broker_records_per_event: float  # written to every topic, changelogs included
    bulk_records_per_s: float  # the limit
    sink_records_per_s: float
    sink_events_per_s: float
    sink_cpu: float  # share of one core between its first and its last commit
    storage: Storage = field(repr=False)  # printed as its own table


async def sink_records(bootstrap: str) -> list[tuple[str, int, int, bytes | None, bytes | None]]:
    """Every record on the sink's topics: (topic, partition, offset, value, key)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        assigned = [p for topic in SINK_TOPICS for p in partitions(topic)]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        ends = await consumer.end_offsets(assigned)
        found = []
        while [p for p in assigned if await consumer.position(p) < ends[p]]:
            for partition, records in (await consumer.getmany(timeout_ms=1000, max_records=10_000)).items():
                found += [(partition.topic, partition.partition, r.offset, r.value, r.key) for r in records]
        return found
    finally:
        await consumer.stop()


def sink_committed(bootstrap: str) -> int:
    return sum(asyncio.run(committed(bootstrap, topic, GROUP_ID)) for topic in SINK_TOPICS)


def sessionise(bootstrap: str, records: list[tuple[bytes, bytes]], folder: Path) -> None:
    asyncio.run(fill(bootstrap, EVENTS, records))
    started_at = time.monotonic()
    worker = spawn_processor(Settings(), folder / "worker.log", {
        "FOOTFALL_KAFKA_BOOTSTRAP": bootstrap, "FOOTFALL_STATE_DIR": str(folder / "worker"),
    })
    try:
        watch(bootstrap, EVENTS, worker, started_at, len(records))
    finally:
        stop(worker)


def bulk_insert(found: list[tuple[str, int, int, bytes | None, bytes | None]], path: Path, events: int) -> tuple[float, Storage]:
    """Records/s of one write of every row into a fresh embedded engine, and its storage."""
    batch = RowBatch()
    for record in found:
        batch.take(*record)
    backend = EmbeddedClickHouse(path)
    try:
        migrate(backend)
        started = time.perf_counter()
        Writer(backend).write(batch)
        elapsed = time.perf_counter() - started
        stored = int(backend.query(COUNT_EVENTS)[0]["n"])
        if stored != events:
            raise RuntimeError(f"{events:,} events sessionised but {stored:,} in the bulk-inserted engine")
        return len(found) / elapsed, measure(backend)
    finally:
        backend.close()


def timed_sink(bootstrap: str, sink: Started, total: int) -> tuple[float, float]:
    """Records/s and CPU share of the sink from its first commit until it has committed all."""
    timeout_s = max(300, total / 200)
    deadline = time.monotonic() + timeout_s
    first: tuple[float, int, float] | None = None
    done = 0
    while done < total:
        if not sink.alive():
            raise RuntimeError(f"the sink exited; see {sink.log}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"the sink had not committed {total:,} offsets after {timeout_s:.0f} s; see {sink.log}")
        time.sleep(POLL_S)
        done = sink_committed(bootstrap)
        if first is None and done:
            first = (time.monotonic(), done, cpu_seconds(sink.pid))
    assert first is not None
    span = time.monotonic() - first[0]
    if span <= 0 or done == first[1]:
        raise RuntimeError("the sink committed everything at once; run with more --events")
    return (done - first[1]) / span, (cpu_seconds(sink.pid) - first[2]) / span


def one_run(records: list[tuple[bytes, bytes]]) -> Run:
    with private_broker() as broker, tempfile.TemporaryDirectory(prefix="footfall-bench-") as name:
        folder = Path(name)
        bootstrap = broker.bootstrap
        sessionise(bootstrap, records, folder)
        found = asyncio.run(sink_records(bootstrap))
        written = sum(asyncio.run(end_offsets(bootstrap, topic)) for topic in ALL_TOPICS)
        bulk_per_s, storage = bulk_insert(found, folder / "bulk", len(records))
        port, token = free_port(), secrets.token_urlsafe(32)
        sink = spawn_sink(Settings(), folder / "sink.log", {
            "FOOTFALL_KAFKA_BOOTSTRAP": bootstrap, "FOOTFALL_STATE_DIR": str(folder / "sink"),
            "FOOTFALL_SINK_PORT": str(port), "FOOTFALL_SINK_TOKEN": token,
        })
        try:
            sink_per_s, cpu = timed_sink(bootstrap, sink, len(found))
            answer = httpx.post(f"http://127.0.0.1:{port}/query", content=COUNT_EVENTS.encode(),
                                headers={"Authorization": f"Bearer {token}"}, timeout=60)
            answer.raise_for_status()
            stored = int(answer.json()[0]["n"])
        finally:
            stop(sink)
        if stored != len(records):
            raise RuntimeError(f"{len(records):,} events sessionised but {stored:,} written by the sink; see {sink.log}")
        return Run(len(found), written / len(records), bulk_per_s, sink_per_s, sink_per_s * len(records) / len(found), cpu, storage)


def main(
    runs: int = RUNS_OPTION,
    events: int = typer.Option(50_000, help="events pre-filled on footfall.events and sessionised"),
    seed: int = SEED_OPTION,
) -> None:
    console.print(f"building {events:,} normalised events …")
    records = normalised_events(events, seed)
    measured = repeat(runs, lambda n: one_run(records), console)
    mid, figure = measured.mid, measured.figure
    table = figures_table((
        f"Sink, one process, {events:,} demo events sessionised ahead "
        f"({mid('records'):,.0f} records on its topics), broker on the same machine (median of {runs})"
    ))
    table.add_row("records written to Kafka per event, every topic", figure("broker_records_per_event", ".2f"), "")
    table.add_row("the same rows in one write into the embedded engine (limit), records/s",
                  figure("bulk_records_per_s", ",.0f"), "")
    table.add_row("sink, records/s", figure("sink_records_per_s", ",.0f"), "")
    table.add_row("sink, events/s (its records per event counted)", figure("sink_events_per_s", ",.0f"), "")
    table.add_row("sink ÷ limit", f"{mid('sink_records_per_s') / mid('bulk_records_per_s'):.0%}", "")
    table.add_row("sink CPU while it writes, share of one core", figure("sink_cpu", ".0%"), "")
    console.print(table)
    console.print(storage_table(measured.results[-1].storage))


if __name__ == "__main__":
    typer.run(main)
