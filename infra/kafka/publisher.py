"""Publishing to Kafka: a caller learns its records are stored only once Kafka acknowledged them all.

The collector answers a request only after this; the sessioniser acknowledges a batch of
events only after this. aiokafka is used rather than kafka-python: it runs in the caller's
event loop (no callback threads) and produces faster (bench/producer_clients.py compares them).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.partitioner import murmur2
from aiokafka.producer.message_accumulator import BatchBuilder

from infra.kafka.connection import KafkaConnection
from infra.retry import Backoff, retry_async
from schemas.event import InvalidMessage
from schemas.topics import DEAD_LETTER

# While the broker starts: a try a second.
CONNECT_BACKOFF = Backoff(initial_s=1, max_s=1)


@lru_cache(maxsize=100_000)
def _key_hash(key: bytes) -> int:
    return murmur2(key) & 0x7FFFFFFF


def partition_for(key: bytes, all_partitions: list[int], available: list[int]) -> int:
    """Kafka's default partitioning (murmur2 of the key, as the Java client does), with the
    hash remembered per key: a visitor sends many events, and the pure-Python hash is slow."""
    return all_partitions[_key_hash(key) % len(all_partitions)]


async def _acknowledged(sent: list[asyncio.Future[Any]]) -> None:
    # Newest first: once it is acknowledged nearly every other one is too, and awaiting a
    # finished future costs nothing (gather adds a callback to each).
    for acknowledgement in reversed(sent):
        await acknowledgement


class KafkaUnavailable(Exception):
    """Kafka did not acknowledge in time; the client should retry later."""


class Record(NamedTuple):
    """One record to publish. A named tuple: a worker's batch makes about one per event."""

    topic: str
    key: bytes
    value: bytes


def dead_letter_record(letter: InvalidMessage) -> Record:
    """A message refused (by the collector, or a record of the events topic a worker set
    aside) as its record of the dead-letter topic, keyed by its site."""
    return Record(DEAD_LETTER.name, letter.site_id.encode(), letter.model_dump_json().encode())


class Publisher:
    """The process's Kafka producer (idempotent, acks=all), connected in start()."""

    def __init__(self, connection: KafkaConnection, ack_timeout_s: float, client_id: str = "footfall-collector"):
        self._connection = connection
        self._client_id = client_id
        self._ack_timeout_s = ack_timeout_s
        self._producer: AIOKafkaProducer | None = None

    def _new_producer(self) -> AIOKafkaProducer:
        """aiokafka binds a producer to the running event loop, so it is made in start()."""
        return AIOKafkaProducer(
            **self._connection.client_options(),
            client_id=self._client_id,
            acks="all",
            partitioner=partition_for,
            enable_idempotence=True,
            linger_ms=2,
            max_batch_size=256 * 1024,
            # Batches not delivered within this time fail, so a request never waits past it.
            request_timeout_ms=int(self._ack_timeout_s * 1000),
            retry_backoff_ms=200,
        )

    async def start(self, attempts: int = 30) -> None:
        """Connect, retrying for a while: the broker may still be starting beside us."""

        async def connect() -> AIOKafkaProducer:
            producer = self._new_producer()
            try:
                await producer.start()
            except KafkaError:
                await producer.stop()
                raise
            return producer

        self._producer = await retry_async(connect, KafkaError, CONNECT_BACKOFF, attempts)

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()

    @property
    def producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise KafkaUnavailable("the collector has not connected to Kafka yet")
        return self._producer

    async def publish(self, records: Iterable[Record]) -> None:
        """Send every record and wait for all acknowledgements (acks=all), or raise
        KafkaUnavailable once the acknowledgement timeout has passed.

        Records join the producer's shared batches, so many concurrent callers with a few
        records each (the collector's requests) fill batches together."""
        async with self._answered_in_time():
            await _acknowledged([await self.producer.send(r.topic, value=r.value, key=r.key) for r in records])

    async def publish_batched(self, records: Sequence[Record]) -> None:
        """`publish` for one caller with thousands of records at once (a processors batch):
        they are put into record batches per partition here and handed over a batch at a
        time, which costs a fraction of handing them over one by one."""
        producer = self.producer
        async with self._answered_in_time():
            partitions = {topic: sorted(await producer.partitions_for(topic)) for topic in {r.topic for r in records}}
            filling: dict[tuple[str, int], BatchBuilder] = {}
            sent = []
            for record in records:
                place = (record.topic, partition_for(record.key, partitions[record.topic], []))
                batch = filling.get(place)
                if batch is None or batch.append(timestamp=None, key=record.key, value=record.value) is None:
                    if batch is not None:
                        sent.append(await producer.send_batch(batch, place[0], partition=place[1]))
                    batch = filling[place] = producer.create_batch()
                    batch.append(timestamp=None, key=record.key, value=record.value)  # a first record always fits
            for (topic, partition), batch in filling.items():
                sent.append(await producer.send_batch(batch, topic, partition=partition))
            await _acknowledged(sent)

    @contextlib.asynccontextmanager
    async def _answered_in_time(self) -> AsyncIterator[None]:
        try:
            async with asyncio.timeout(self._ack_timeout_s):
                yield
        except (TimeoutError, KafkaError) as exc:
            raise KafkaUnavailable(str(exc) or type(exc).__name__) from exc

    async def reachable(self, timeout_s: float = 2.0) -> bool:
        """Whether a broker answers a metadata request now."""
        try:
            async with asyncio.timeout(timeout_s):
                return bool(await self.producer.client.fetch_all_metadata())
        except (TimeoutError, KafkaError, KafkaUnavailable, OSError):
            return False


async def publish_once(connection: KafkaConnection, ack_timeout_s: float, records: Sequence[Record], client_id: str, attempts: int) -> None:
    """A command's few records: connected (a few tries), published, acknowledged, closed."""
    publisher = Publisher(connection, ack_timeout_s, client_id=client_id)
    try:
        await publisher.start(attempts=attempts)
        await publisher.publish(records)
    finally:
        await publisher.stop()
