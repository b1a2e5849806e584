"""The sink's consumer loop: the processors' topics, in batches, into ClickHouse.

Offsets are committed only once a batch is written (its refused rows set aside included),
the partitions are paused while ClickHouse cannot take writes, and a batch is written and
committed before the group hands any of its partitions to another sink: why that stores
every record exactly once, with one sink or several, is in docs/architecture.md (the sink).
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
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
from sinks.gathering import Gathering
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


class SinkLoop:
    """The consumer loop and the batch it gathers, which two callers write and commit, one
    at a time: the loop once the batch is due, and the hand-over when the group is about to
    give some of this sink's partitions to another sink of the group."""

    def __init__(self, consumer: AIOKafkaConsumer, writer: Writer, settings: Settings, forgotten: Forgotten = NOBODY):
        self.consumer, self.writer, self.settings, self.forgotten = consumer, writer, settings, forgotten
        self.trait_names = {site.id: tuple(site.demographic_traits) for site in settings.sites}
        self.gathering = self.new_gathering()
        self.flushing = asyncio.Lock()

    def new_gathering(self) -> Gathering:
        return Gathering(time.monotonic(), self.forgotten, self.trait_names)

    async def run(self, stopping: asyncio.Event) -> None:
        """Batch what arrives until the batch is full or old enough, write it, then commit.
        Records of people forgotten are left out of the batch, their offsets committed with it."""
        while not stopping.is_set():
            fetched = await self.consumer.getmany(timeout_ms=100, max_records=self.settings.sink_batch_rows)
            self.gathering.take(fetched, self.consumer.assignment(), time.monotonic())
            if self.gathering.due(time.monotonic(), self.settings.sink_batch_rows, self.settings.sink_batch_s):
                await self.flush()

    async def flush(self) -> None:
        """Write what was gathered, then commit its offsets, and start a new batch."""
        async with self.flushing:
            gathering = self.gathering
            if not gathering.offsets:
                return
            await write_with_retries(self.writer, gathering.batch, self.consumer, self.settings)
            faults.reached(faults.SINK_AFTER_WRITE)
            try:
                await self.consumer.commit(gathering.offsets)
            except CommitFailedError as exc:
                # The group moved on while the batch was written (an outage longer than the
                # consumer's session): its partitions come back, with these records, after
                # the rebalance, and the tables collapse what is written again.
                log.warning("offsets not committed, the batch will be read again: %s", exc)
            self.gathering = self.new_gathering()


class HandOver(ConsumerRebalanceListener):
    """Before the group moves partitions away from this sink, the batch holding their records
    is written and committed: their next owner starts after it, and never writes while this
    sink still does (the rebalance waits for the write)."""

    def __init__(self, loop: SinkLoop):
        self.loop = loop

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        if revoked:
            await self.loop.flush()

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        """Nothing to do: a partition is read from its committed offset."""


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
        **settings.kafka.client_options(),
        group_id=GROUP_ID,
        client_id="footfall-sink",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=settings.sink_batch_rows,
    )
    loop = SinkLoop(consumer, writer, settings, forgotten)
    consumer.subscribe(TOPICS, listener=HandOver(loop))
    await consumer.start()
    try:
        await loop.run(stopping)
    finally:
        await consumer.stop()
