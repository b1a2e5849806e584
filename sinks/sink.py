"""The sink's consumer loop: the processors' topics, in batches, into ClickHouse.

Offsets are committed only once a batch is written (its refused rows set aside included),
and the partitions are paused while ClickHouse cannot take writes: why that stores every
record exactly once is in docs/architecture.md (the sink).
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import CommitFailedError

from infra import faults
from infra.clickhouse.backend import ClickHouseError
from infra.config import Settings
from infra.erasures import Forgotten
from infra.kafka.erasure_reader import ErasureReader
from infra.keys import site_key
from infra.retry import Backoff, retry_async
from schemas.topics import CLV_MODELS, CUSTOMERS, DEAD_LETTER, FUNNEL_PROGRESS, SEGMENT_CHANGES, SESSIONISED, SESSIONS
from sinks import metrics
from sinks.rows import NOBODY, RowBatch
from sinks.service import Writer, Written

log = logging.getLogger("footfall.sink")
TOPICS = (
    SESSIONISED.name, SESSIONS.name, DEAD_LETTER.name, SEGMENT_CHANGES.name, CUSTOMERS.name, FUNNEL_PROGRESS.name, CLV_MODELS.name,
)
GROUP_ID = "footfall-sink"


async def write_with_retries(writer: Writer, batch: RowBatch, consumer: AIOKafkaConsumer, settings: Settings) -> None:
    """Retry until written. Partitions are paused meanwhile, and polling continues (on
    paused partitions it returns nothing) so the group does not evict this consumer."""
    paused = False

    async def write() -> Written:
        if paused:
            await consumer.getmany(timeout_ms=0)
        started = time.perf_counter()
        written = await asyncio.to_thread(writer.write, batch)
        metrics.INSERT_SECONDS.observe(time.perf_counter() - started)
        return written

    def refused(exc: BaseException, wait: float) -> None:
        nonlocal paused
        metrics.ERRORS.inc()
        log.warning("writing %d rows failed, retrying in %.1fs: %s", len(batch), wait, exc)
        if not paused:
            consumer.pause(*consumer.assignment())
            paused = True
        metrics.RETRIES.inc()

    backoff = Backoff(initial_s=settings.sink_retry_initial_s, max_s=settings.sink_retry_max_s)
    written = await retry_async(write, ClickHouseError, backoff, on_retry=refused)
    if paused:
        consumer.resume(*consumer.assignment())
    if written.rejected:
        first = written.rejected[0]
        log.warning("set %d of %d rows aside in footfall.rejected_rows; the first, for %s: %s",
                    len(written.rejected), len(batch), first.table, first.reason)
    metrics.record_written(batch, written)


async def run(
    consumer: AIOKafkaConsumer, writer: Writer, settings: Settings, stopping: asyncio.Event, forgotten: Forgotten = NOBODY,
) -> None:
    """Batch what arrives until the batch is full or old enough, write it, then commit.
    Records of people forgotten are left out of the batch, their offsets committed with it."""
    trait_names = {site.id: tuple(site.demographic_traits) for site in settings.sites}
    batch, offsets, opened = RowBatch(forgotten=forgotten, trait_names=trait_names), {}, time.monotonic()
    while not stopping.is_set():
        fetched = await consumer.getmany(timeout_ms=100, max_records=settings.sink_batch_rows)
        for partition, records in fetched.items():
            for record in records:
                batch.take(partition.topic, partition.partition, record.offset, record.value, record.key)
            offsets[partition] = records[-1].offset + 1
        if not batch:
            opened = time.monotonic()
            continue
        if len(batch) >= settings.sink_batch_rows or time.monotonic() - opened >= settings.sink_batch_s:
            await write_with_retries(writer, batch, consumer, settings)
            faults.reached(faults.SINK_AFTER_WRITE)
            try:
                await consumer.commit(offsets)
            except CommitFailedError as exc:
                # The group moved on while the batch was written (an outage longer than the
                # consumer's session): its partitions come back, with these records, after
                # the rebalance, and the tables collapse what is written again.
                log.warning("offsets not committed, the batch will be read again: %s", exc)
            batch, offsets, opened = RowBatch(forgotten=forgotten, trait_names=trait_names), {}, time.monotonic()


def erasure_reader(settings: Settings) -> ErasureReader:
    """What tells the sink whom it must not write back: footfall.erasures, read whole."""
    forgotten = Forgotten(lambda site_id: site_key(settings, site_id))
    metrics.ERASURE_HASHES.set_function(lambda: len(forgotten))
    return ErasureReader(
        settings.kafka, forgotten, "footfall-sink-erasures", log, on_malformed=lambda exc: metrics.ERASURES_MALFORMED.inc(),
    )


async def consume(writer: Writer, settings: Settings, stopping: asyncio.Event) -> None:
    """The sink's consumer in its group, from the earliest offset not yet committed, once
    every erasure is known: a record read before could bring back someone forgotten."""
    erasures = erasure_reader(settings)
    try:
        if await erasures.wait_caught_up("writing to ClickHouse"):
            await consume_topics(writer, settings, stopping, erasures.forgotten)
    finally:
        await erasures.stop()


async def consume_topics(writer: Writer, settings: Settings, stopping: asyncio.Event, forgotten: Forgotten) -> None:
    consumer = AIOKafkaConsumer(
        *TOPICS,
        **settings.kafka.client_options(),
        group_id=GROUP_ID,
        client_id="footfall-sink",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=settings.sink_batch_rows,
    )
    await consumer.start()
    try:
        await run(consumer, writer, settings, stopping, forgotten)
    finally:
        await consumer.stop()
