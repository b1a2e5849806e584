"""Reading back what landed in a Kafka topic, for assertions against the real broker."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from schemas.topics import Topic


@dataclass(frozen=True)
class Landed:
    partition: int
    key: bytes | None
    value: dict


async def _read_all(bootstrap: str, topic: Topic) -> list[Landed]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        partitions = [TopicPartition(topic.name, p) for p in range(topic.partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        landed: list[Landed] = []
        remaining = {tp for tp in partitions if ends[tp] > 0}
        while remaining:
            batches = await consumer.getmany(*remaining, timeout_ms=1000)
            for tp, records in batches.items():
                landed.extend(Landed(tp.partition, r.key, orjson.loads(r.value)) for r in records)
            remaining = {tp for tp in remaining if await consumer.position(tp) < ends[tp]}
        return landed
    finally:
        await consumer.stop()


def read_topic(bootstrap: str, topic: Topic) -> list[Landed]:
    """Every record in the topic now, from the first offset to the end offsets."""
    return asyncio.run(_read_all(bootstrap, topic))

