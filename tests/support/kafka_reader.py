"""Reading back what landed in a Kafka topic, for assertions against the real broker.

The product only ever consumes from the committed offsets on; tests and benchmarks need a
topic's whole content at one moment, which is this module's job.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import orjson
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from schemas.topics import Topic


@dataclass(frozen=True)
class Landed:
    """One record as a test compares it: its partition, key and decoded value."""

    partition: int
    key: bytes | None
    value: dict


async def read_records(bootstrap: str, topic: Topic) -> list[ConsumerRecord]:
    """Every record a topic holds now, from its first offsets to its end offsets."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic.name, p) for p in range(topic.partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[ConsumerRecord] = []
        remaining = {tp for tp in partitions if ends[tp] > 0}
        while remaining:
            for batch in (await consumer.getmany(*remaining, timeout_ms=1000, max_records=10_000)).values():
                records.extend(batch)
            remaining = {tp for tp in remaining if await consumer.position(tp) < ends[tp]}
        return records
    finally:
        await consumer.stop()


def read_topic(bootstrap: str, topic: Topic) -> list[Landed]:
    """Every record in the topic now, its value decoded from JSON."""
    records = asyncio.run(read_records(bootstrap, topic))
    return [Landed(r.partition, r.key, orjson.loads(r.value)) for r in records]
