"""The erasures topic read whole, by each process on its own: every worker and every sink
needs every erasure, so the topic is read outside any consumer group, from its beginning at
start and then as it grows, into the process's Forgotten (infra.erasures).

A process must not handle a record of a forgotten person before it knows of the erasure,
so it waits for `caught_up` (the topic read to the end offsets it had at start) before
handling any.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from infra.kafka.connection import KafkaConnection
from infra.erasures import Forgotten, MalformedErasure
from infra.kafka.whole_topic import CONNECT_BACKOFF, from_the_beginning, partitions_of
from infra.retry import retry_async
from schemas.erasures import Erasure
from schemas.topics import ERASURES

# How long a wait for the erasures lasts before it is logged again.
CATCH_UP_NOTE_S = 30.0

OnErasure = Callable[[Erasure], Awaitable[None]]
OnMalformed = Callable[[MalformedErasure], None]


async def _ignore(erasure: Erasure) -> None:
    """The default for a process that only filters: nothing more to do on an erasure."""


class ErasureReader:
    """Reads footfall.erasures into `forgotten`; `on_erasure` is awaited for each erasure
    that arrives once caught up (a process catching up handles those it found at start
    itself), `on_malformed` is told of each record skipped."""

    def __init__(
        self, connection: KafkaConnection, forgotten: Forgotten, client_id: str, log: logging.Logger,
        on_malformed: OnMalformed, on_erasure: OnErasure = _ignore,
    ):
        self.forgotten = forgotten
        self.caught_up = asyncio.Event()
        self._connection = connection
        self._client_id = client_id
        self._log = log
        self._on_malformed = on_malformed
        self._on_erasure = on_erasure
        self._reading: asyncio.Task | None = None

    def start(self) -> None:
        """Start reading, in a task of the running loop, unless that was done already."""
        if self._reading is None:
            self._reading = asyncio.create_task(self.run(), name="read-erasures")

    async def stop(self) -> None:
        if self._reading is not None:
            self._reading.cancel()
            await asyncio.gather(self._reading, return_exceptions=True)

    async def _connect(self) -> tuple[AIOKafkaConsumer, dict[TopicPartition, int]]:
        consumer = await from_the_beginning(self._connection, ERASURES, self._client_id)
        try:
            return consumer, await consumer.end_offsets(partitions_of(ERASURES))
        except KafkaError:
            await consumer.stop()
            raise

    async def run(self) -> None:
        """Read for as long as the process runs (`stop` cancels it)."""
        consumer, ends = await retry_async(self._connect, KafkaError, CONNECT_BACKOFF)
        try:
            await self._note_position(consumer, ends)
            while True:
                for records in (await consumer.getmany(timeout_ms=500, max_records=1000)).values():
                    for record in records:
                        await self._take(record)
                if not self.caught_up.is_set():
                    await self._note_position(consumer, ends)
        finally:
            await consumer.stop()

    async def _take(self, record: ConsumerRecord) -> None:
        try:
            erasure = self.forgotten.apply(record.key, record.value)
        except MalformedErasure as exc:
            self._log.warning("skipped record %d of %s: %s", record.offset, ERASURES.name, exc)
            self._on_malformed(exc)
            return
        if erasure is not None and self.caught_up.is_set():
            await self._on_erasure(erasure)

    async def _note_position(self, consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> None:
        for partition, end in ends.items():
            if await consumer.position(partition) < end:
                return
        self.caught_up.set()

    async def wait_caught_up(self, before: str) -> bool:
        """Start reading if not started, and return True once the topic was read to its end;
        logged when it starts and ends, and again at every CATCH_UP_NOTE_S it takes. Never
        given up while it reads: handling records without every erasure known could bring
        an erased person back. False when `stop` ended the reading first: the process is
        stopping, and its caller should end quietly rather than start its work. Raises what
        else ended the reading, if it ended first."""
        if self.caught_up.is_set():
            return True
        self.start()
        reading = self._reading
        assert reading is not None
        started = time.monotonic()
        self._log.info("reading %s to its end before %s", ERASURES.name, before)
        caught_up = asyncio.ensure_future(self.caught_up.wait())
        try:
            while not caught_up.done():
                await asyncio.wait((caught_up, reading), timeout=CATCH_UP_NOTE_S, return_when=asyncio.FIRST_COMPLETED)
                if reading.done() and not caught_up.done():
                    if reading.cancelled():
                        self._log.info("stopped reading %s before its end; not %s", ERASURES.name, before)
                        return False
                    reading.result()  # raises what ended it
                    raise RuntimeError(f"reading {ERASURES.name} ended before it reached the end")
                if not caught_up.done():
                    self._log.warning("%s not yet read to its end after %.0fs; still waiting before %s",
                                      ERASURES.name, time.monotonic() - started, before)
        finally:
            caught_up.cancel()
        self._log.info("read %d erasures (%d id hashes) from %s in %.1fs",
                       self.forgotten.erasures, len(self.forgotten), ERASURES.name, time.monotonic() - started)
        return True
