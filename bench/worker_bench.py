"""What the processors benchmarks share: a topic filled ahead, the two limits measured on
it (a bare consumer, a Faust worker that only counts) and a worker watched until its
group has committed every offset, then timed by its output records."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from bench.common import PeakRss, cpu_seconds
from footfall.local.processes import Started, stop, wait_until
from infra.kafka.publisher import partition_for
from infra.config import Settings
from footfall.local.stack import spawn_module, spawn_processor
from schemas.topics import SESSIONISER_APP_ID, Topic

GROUP = SESSIONISER_APP_ID  # the processors worker's consumer group


def partitions(topic: Topic) -> list[TopicPartition]:
    return [TopicPartition(topic.name, p) for p in range(topic.partitions)]


async def fill(bootstrap: str, topic: Topic, records: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, partitioner=partition_for,
        linger_ms=5, max_batch_size=512 * 1024,
    )
    await producer.start()
    try:
        for start in range(0, len(records), 10_000):
            pending = [await producer.send(topic.name, key=key, value=value) for key, value in records[start:start + 10_000]]
            await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def bare_consume(bootstrap: str, topic: Topic, expected: int) -> float:
    """Records/s of an aiokafka consumer without a group reading and decoding every record."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        assigned = partitions(topic)
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


def empty_agent(bootstrap: str, topic: Topic, expected: int, folder: Path) -> float:
    """Records/s of a Faust worker that only counts what it takes (bench/empty_agent.py)."""
    log = folder / "empty-agent.log"
    worker = spawn_module("empty agent", "bench.empty_agent", log, f"kafka://{bootstrap}", Settings(kafka_bootstrap=bootstrap), {
        "FOOTFALL_STATE_DIR": str(folder / "empty-agent"),
        "FOOTFALL_BENCH_TOPIC": topic.name, "FOOTFALL_BENCH_EXPECTED": str(expected),
    })
    try:
        wait_until(lambda: not worker.alive(), timeout_s=max(300, expected / 200), what="the empty agent to finish")
    finally:
        stop(worker)
    found = re.search(r"consumed (\d+) events in ([\d.]+) s", log.read_text())
    if found is None:
        raise RuntimeError(f"the empty agent did not report; see {log}")
    return int(found[1]) / float(found[2])


async def committed(bootstrap: str, topic: Topic, group: str = GROUP) -> int:
    """Offsets a group (the processors' unless named) has committed on `topic`, added up (0
    while the broker has no coordinator for the group yet)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group, partitions=partitions(topic))
        return sum(max(meta.offset, 0) for meta in offsets.values())
    except KafkaError:
        return 0
    finally:
        await admin.close()


async def output_span(bootstrap: str, topic: Topic, counts: Callable[[bytes], bool]) -> tuple[int, float, float]:
    """Records on `topic` that `counts` accepts, and the first and last record's Kafka
    timestamp (seconds): when the worker produced its first and last output."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        counted, first, last = 0, float("inf"), 0.0
        assigned = partitions(topic)
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        ends = await consumer.end_offsets(assigned)
        while [p for p in assigned if await consumer.position(p) < ends[p]]:
            for records in (await consumer.getmany(timeout_ms=1000, max_records=10_000)).values():
                for record in records:
                    counted += counts(record.value)
                    first = min(first, record.timestamp / 1000)
                    last = max(last, record.timestamp / 1000)
        return counted, first, last
    finally:
        await consumer.stop()


async def end_offsets(bootstrap: str, topic: Topic) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        return sum((await consumer.end_offsets(partitions(topic))).values())
    finally:
        await consumer.stop()


@dataclass
class Watched:
    wall_s: float  # from spawning the worker to every offset committed
    cpu: float  # share of one core over that time
    peak_mb: float


def watch(bootstrap: str, topic: Topic, worker: Started, started_at: float, expected: int) -> Watched:
    """Wait until the worker's group has committed every offset of `topic`, sampling its RSS."""
    timeout_s = max(300, expected / 200)
    sampler = PeakRss({"worker": worker.pid})
    sampler.start()
    try:
        while asyncio.run(committed(bootstrap, topic)) < expected:
            if not worker.alive():
                raise RuntimeError(f"the worker exited; see {worker.log}")
            if time.monotonic() > started_at + timeout_s:
                raise TimeoutError(f"the worker had not committed {expected:,} offsets after {timeout_s:.0f} s; see {worker.log}")
            time.sleep(0.25)
        wall_s = time.monotonic() - started_at
        cpu = cpu_seconds(worker.pid)
    finally:
        peak = sampler.stop()["worker"]
    return Watched(wall_s, cpu / wall_s, peak)


@dataclass
class WorkerRun:
    limit_per_s: float  # the bare consumer
    ceiling_per_s: float  # the Faust worker that only counts
    watched: Watched
    log: Path


def run_worker(bootstrap: str, topic: Topic, records: list[tuple[bytes, bytes]], folder: Path, env: dict[str, str]) -> WorkerRun:
    """Fill `topic`, measure both limits on it, then one processors worker (`env` added to
    its environment) until it has committed every offset; its outputs stay on the broker."""
    asyncio.run(fill(bootstrap, topic, records))
    limit = asyncio.run(bare_consume(bootstrap, topic, len(records)))
    ceiling = empty_agent(bootstrap, topic, len(records), folder)
    started_at = time.monotonic()
    log = folder / "worker.log"
    worker = spawn_processor(Settings(), log, {
        "FOOTFALL_KAFKA_BOOTSTRAP": bootstrap, "FOOTFALL_STATE_DIR": str(folder / "worker"), **env,
    })
    try:
        watched = watch(bootstrap, topic, worker, started_at, len(records))
    finally:
        stop(worker)
    return WorkerRun(limit, ceiling, watched, log)
