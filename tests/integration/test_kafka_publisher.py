"""Publishing a worker's batch in record batches, against the real broker: every record
lands once, on the partition Kafka's default partitioner gives its key, in the order it
was given, even when a partition's records fill several record batches."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict

import orjson

from footfall.local.kafka_broker import Broker
from infra.kafka.admin import ensure_topics
from infra.kafka.publisher import Publisher, Record, partition_for
from schemas.topics import DAY_MS, Topic
from tests.support.kafka_reader import read_topic

KEYS = 40
RECORDS = 3000  # about 1 KB each: several 256 KB record batches per partition


def test_a_large_batch_lands_once_in_order_on_each_keys_partition(kafka: Broker) -> None:
    topic = Topic(f"test.publishing.{uuid.uuid4().hex[:8]}", 6, DAY_MS, "records published in batches")
    records = [
        Record(topic.name, f"site:visitor-{n % KEYS}".encode(), orjson.dumps({"n": n, "padding": "x" * 1000}))
        for n in range(RECORDS)
    ]

    async def publish() -> None:
        await ensure_topics(kafka.connection, [topic])
        publisher = Publisher(kafka.connection, 30.0, client_id="footfall-test")
        await publisher.start()
        try:
            await publisher.publish_batched(records)
        finally:
            await publisher.stop()

    asyncio.run(publish())
    landed = read_topic(kafka.bootstrap, topic)
    assert sorted(r.value["n"] for r in landed) == list(range(RECORDS))
    partitions = list(range(topic.partitions))
    sequence_by_key: dict[bytes, list[int]] = defaultdict(list)
    for record in landed:
        assert record.key is not None
        assert record.partition == partition_for(record.key, partitions, [])
        sequence_by_key[record.key].append(record.value["n"])
    assert len(sequence_by_key) == KEYS
    # read_topic gives each partition in offset order: every key's records as published.
    assert all(sequence == sorted(sequence) for sequence in sequence_by_key.values())
