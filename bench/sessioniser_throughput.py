"""Sessionisation throughput of one worker on a pre-filled topic, beside a bare consume
loop on the same topic (the limit).

The events are the demo generator's visitors over the last week (page views, clicks,
scrolls, identifies, purchases with full browser context, several sessions per visitor),
normalised as the collector does and keyed `site:visitor`, in time order. Built once;
each run then starts fresh on a private broker:
  1. footfall.events is filled with the N events;
  2. a bare aiokafka consumer (no group) reads all N and decodes each with orjson (the
     limit: what any Python consumer of this topic pays before doing any work);
  3. a Faust worker with the sessioniser's settings whose agent only counts the batches it
     takes (bench/empty_agent.py): the framework's own ceiling, from its first batch to its
     last;
  4. one sessioniser worker (`python -m processors`, a fresh state folder) is started and
     left to sessionise them all; done when its group has committed every offset.
     Its rate is N over the span between its first and its last output record (their
     Kafka timestamps), so the worker's start-up and the commit interval are not counted;
     every event's output record is checked to be there.
  The worker's RSS is sampled every 0.5 s.

    .venv/bin/python -m bench.sessioniser_throughput [--runs 3] [--events 200000]
"""

from __future__ import annotations

import asyncio
import re
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson
import typer
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from rich.console import Console

from bench.common import PeakRss, cpu_seconds, figures_table, private_broker, repeat
from collector.enrich import RequestMeta, normalise
from collector.parsing import validate_message
from footfall.demo import generate
from footfall.processes import Started, stop, wait_until
from footfall.publishing import partition_for
from footfall.settings import Settings
from footfall.stack import spawn_module, spawn_processor
from schemas.topics import EVENTS, SESSIONISED, SESSIONS

GROUP = "footfall-sessioniser"  # the Faust app's id
TARGET_EVENTS_PER_S = 10_000
TARGET_WORKER_MB = 1024
console = Console()


@dataclass
class Run:
    limit_events_per_s: float
    empty_agent_events_per_s: float
    worker_events_per_s: float
    worker_wall_s: float  # from spawning the worker to every offset committed
    worker_cpu: float  # share of one core while it sessionised
    worker_peak_mb: float
    session_rows: int


# --- the events -----------------------------------------------------------------------------


def normalised_events(count: int, seed: int) -> list[tuple[bytes, bytes]]:
    """(key, value) of `count` normalised events, as the collector writes them, in time order."""
    visitors = count // 25 + 50
    while True:
        messages, _ = generate(datetime.now(UTC), visitors=visitors, days=7, seed=seed)
        if len(messages) >= count:
            break
        visitors = int(visitors * count / len(messages) * 1.1) + 1
    records = []
    for message in messages[:count]:
        # Sent as it happened: received at its own time, straight from the browser.
        message = {**message, "sentAt": message["timestamp"]}
        received = datetime.fromisoformat(message["timestamp"])
        meta = RequestMeta("demo", received, "203.0.113.9", None)
        event = normalise(validate_message(message), meta, lambda: "unused")
        records.append((event.kafka_key, event.model_dump_json().encode()))
    return records


async def fill(bootstrap: str, records: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, partitioner=partition_for,
        linger_ms=5, max_batch_size=512 * 1024,
    )
    await producer.start()
    try:
        for start in range(0, len(records), 10_000):
            pending = [await producer.send(EVENTS.name, key=key, value=value) for key, value in records[start:start + 10_000]]
            await asyncio.gather(*pending)
    finally:
        await producer.stop()


def partitions(topic: str, count: int) -> list[TopicPartition]:
    return [TopicPartition(topic, p) for p in range(count)]


# --- the limit: a bare consume loop ---------------------------------------------------------


async def bare_consume(bootstrap: str, expected: int) -> float:
    """Events/s of an aiokafka consumer without a group reading and decoding every event."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        assigned = partitions(EVENTS.name, EVENTS.partitions)
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        count = 0
        started = time.perf_counter()
        while count < expected:
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                for record in records:
                    orjson.loads(record.value)
                count += len(records)
        return count / (time.perf_counter() - started)
    finally:
        await consumer.stop()


# --- the worker -----------------------------------------------------------------------------


async def committed(bootstrap: str) -> int:
    """Offsets the sessioniser's group has committed on footfall.events, added up (0 while
    the broker has no coordinator for the group yet)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(GROUP, partitions=partitions(EVENTS.name, EVENTS.partitions))
        return sum(max(meta.offset, 0) for meta in offsets.values())
    except KafkaError:
        return 0
    finally:
        await admin.close()


async def outputs(bootstrap: str) -> tuple[int, float, float, int]:
    """Event records on footfall.events.sessionised, the first and last output time (Kafka
    timestamps, seconds) and the session rows on footfall.sessions."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        events, first, last = 0, float("inf"), 0.0
        sessionised = partitions(SESSIONISED.name, SESSIONISED.partitions)
        consumer.assign(sessionised)
        await consumer.seek_to_beginning(*sessionised)
        ends = await consumer.end_offsets(sessionised)
        while [p for p in sessionised if await consumer.position(p) < ends[p]]:
            for records in (await consumer.getmany(timeout_ms=1000, max_records=10_000)).values():
                for record in records:
                    events += record.value.startswith(b'{"kind":"event"')
                    first = min(first, record.timestamp / 1000)
                    last = max(last, record.timestamp / 1000)
        session_rows = sum((await consumer.end_offsets(partitions(SESSIONS.name, SESSIONS.partitions))).values())
        return events, first, last, session_rows
    finally:
        await consumer.stop()


def sessionise(bootstrap: str, worker: Started, started_at: float, expected: int, timeout_s: float) -> Run:
    """Wait until the worker has committed every offset, then read what it wrote."""
    sampler = PeakRss({"worker": worker.pid})
    sampler.start()
    try:
        deadline = started_at + timeout_s
        while asyncio.run(committed(bootstrap)) < expected:
            if not worker.alive():
                raise RuntimeError(f"the worker exited; see {worker.log}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the worker had not committed {expected:,} offsets after {timeout_s:.0f} s; see {worker.log}")
            time.sleep(0.25)
        wall_s = time.monotonic() - started_at
        cpu = cpu_seconds(worker.pid)
    finally:
        peak = sampler.stop()["worker"]
    events, first, last, session_rows = asyncio.run(outputs(bootstrap))
    if events != expected:
        raise RuntimeError(f"{expected:,} events in but {events:,} sessionised events out; see {worker.log}")
    return Run(0.0, 0.0, expected / (last - first), wall_s, cpu / wall_s, peak, session_rows)


def empty_agent(bootstrap: str, expected: int, folder: Path) -> float:
    """Events/s of a Faust worker that only counts what it takes (bench/empty_agent.py)."""
    log = folder / "empty-agent.log"
    worker = spawn_module("empty agent", "bench.empty_agent", log, f"kafka://{bootstrap}", {
        "FOOTFALL_KAFKA_BOOTSTRAP": bootstrap, "FOOTFALL_STATE_DIR": str(folder / "empty-agent"),
        "FOOTFALL_BENCH_EXPECTED": str(expected),
    })
    try:
        wait_until(lambda: not worker.alive(), timeout_s=max(300, expected / 200), what="the empty agent to finish")
    finally:
        stop(worker)
    found = re.search(r"consumed (\d+) events in ([\d.]+) s", log.read_text())
    if found is None:
        raise RuntimeError(f"the empty agent did not report; see {log}")
    return int(found[1]) / float(found[2])


def one_run(records: list[tuple[bytes, bytes]]) -> Run:
    with private_broker() as broker, tempfile.TemporaryDirectory(prefix="footfall-bench-") as folder:
        asyncio.run(fill(broker.bootstrap, records))
        limit = asyncio.run(bare_consume(broker.bootstrap, len(records)))
        ceiling = empty_agent(broker.bootstrap, len(records), Path(folder))
        started_at = time.monotonic()
        worker = spawn_processor(Settings(), Path(folder) / "worker.log", {
            "FOOTFALL_KAFKA_BOOTSTRAP": broker.bootstrap, "FOOTFALL_STATE_DIR": str(Path(folder) / "worker"),
        })
        try:
            run = sessionise(broker.bootstrap, worker, started_at, len(records), timeout_s=max(300, len(records) / 200))
        finally:
            stop(worker)
        run.limit_events_per_s, run.empty_agent_events_per_s = limit, ceiling
        return run


def main(
    runs: int = typer.Option(3, help="runs, each on a fresh broker; figures are medians"),
    events: int = typer.Option(200_000, help="events pre-filled on footfall.events"),
    seed: int = typer.Option(1, help="seed of the demo traffic"),
) -> None:
    console.print(f"building {events:,} normalised events …")
    records = normalised_events(events, seed)
    size = sum(len(value) for _, value in records) / len(records)
    measured = repeat(runs, lambda n: one_run(records), console)
    mid, figure = measured.mid, measured.figure

    limit, rate = mid("limit_events_per_s"), mid("worker_events_per_s")
    table = figures_table((
        f"Sessioniser, one worker, {events:,} demo events ({size:,.0f} bytes each) pre-filled on "
        f"{EVENTS.partitions} partitions, broker on the same machine (median of {runs})"
    ))
    table.add_row("bare aiokafka consume + orjson.loads (limit), events/s", figure("limit_events_per_s", ",.0f"), "")
    table.add_row("Faust worker whose agent only counts (framework ceiling), events/s",
                  figure("empty_agent_events_per_s", ",.0f"), "")
    table.add_row("sessioniser worker, events/s", figure("worker_events_per_s", ",.0f"), f"≥ {TARGET_EVENTS_PER_S:,}")
    table.add_row("worker / limit · worker / framework ceiling",
                  f"{rate / limit:.1%} · {rate / mid('empty_agent_events_per_s'):.0%}", "")
    table.add_row("worker, start to all committed, s", figure("worker_wall_s", ".1f"), "")
    table.add_row("worker CPU over that time, share of one core", figure("worker_cpu", ".0%"), "")
    table.add_row("worker peak RSS, MB", figure("worker_peak_mb", ",.0f"), f"≤ {TARGET_WORKER_MB:,}")
    table.add_row("session rows written", f"{mid('session_rows'):,.0f}", "")
    console.print(table)


if __name__ == "__main__":
    typer.run(main)
