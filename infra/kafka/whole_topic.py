"""A topic every process reads whole, on its own: outside any consumer group, every partition
from its first record. Erasures and lifetime value fits are read so, since every worker and
sink needs all of them, not a share."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from infra.kafka.connection import KafkaConnection
from infra.retry import Backoff
from schemas.topics import Topic

# While the broker starts, or the topic is not there yet.
CONNECT_BACKOFF = Backoff(initial_s=0.5, max_s=5)


def partitions_of(topic: Topic) -> list[TopicPartition]:
    return [TopicPartition(topic.name, partition) for partition in range(topic.partitions)]


async def from_the_beginning(connection: KafkaConnection, topic: Topic, client_id: str) -> AIOKafkaConsumer:
    """A started consumer of every partition of `topic`, at its first records; stopped
    again when the broker refuses, so a retry leaves no consumer behind."""
    consumer = AIOKafkaConsumer(client_id=client_id, enable_auto_commit=False, **connection.client_options())
    try:
        await consumer.start()
        consumer.assign(partitions_of(topic))
        await consumer.seek_to_beginning(*partitions_of(topic))
        return consumer
    except KafkaError:
        await consumer.stop()
        raise
