"""Topic creation and broker health, through Kafka's own admin protocol."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from schemas.topics import ALL_TOPICS, Topic

TOPIC_ALREADY_EXISTS = 36


async def ensure_topics(bootstrap: str, wanted: Iterable[Topic] = ALL_TOPICS) -> list[str]:
    """Create the topics that do not exist yet; returns the names created. Re-runnable."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="footfall-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [topic for topic in wanted if topic.name not in existing]
        if not missing:
            return []
        new = [
            NewTopic(topic.name, num_partitions=topic.partitions, replication_factor=1, topic_configs=topic.config)
            for topic in missing
        ]
        response = await admin.create_topics(new)
        for name, code, *rest in response.topic_errors:
            if code not in (0, TOPIC_ALREADY_EXISTS):
                raise RuntimeError(f"creating topic {name} failed with Kafka error {code}: {rest}")
        return [topic.name for topic in missing]
    finally:
        await admin.close()


async def _broker_answers(bootstrap: str, timeout_s: float) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="footfall-health", request_timeout_ms=int(timeout_s * 1000))
    try:
        async with asyncio.timeout(timeout_s):
            await admin.start()
            await admin.describe_cluster()
            return True
    except (TimeoutError, KafkaError, OSError):
        return False
    finally:
        await admin.close()


def broker_answers(bootstrap: str, timeout_s: float = 3.0) -> bool:
    """Whether the broker answers an admin request now (not merely accepts connections)."""
    return asyncio.run(_broker_answers(bootstrap, timeout_s))


def create_topics(bootstrap: str) -> list[str]:
    """ensure_topics for callers without an event loop."""
    return asyncio.run(ensure_topics(bootstrap))


async def _topic_size(bootstrap: str, topic: Topic) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        ends = await consumer.end_offsets([TopicPartition(topic.name, p) for p in range(topic.partitions)])
        return sum(ends.values())
    finally:
        await consumer.stop()


def topic_size(bootstrap: str, topic: Topic) -> int:
    """How many records a topic has ever received: its partitions' end offsets added up."""
    return asyncio.run(_topic_size(bootstrap, topic))
