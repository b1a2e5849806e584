"""End offsets and the worker group's committed offsets, read with a Kafka client of its own
that never joins the group: asking Faust's consumer instead can hold up its fetch loop
during a rebalance and stop the agents."""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition

from infra.kafka.connection import KafkaConnection


class LagProbe:
    """Reads end and committed offsets with a Kafka client that shares nothing with the worker's consumer."""

    def __init__(self, connection: KafkaConnection, group_id: str):
        self._connection = connection
        self._group_id = group_id
        self._client: AIOKafkaConsumer | None = None

    async def _ready(self) -> AIOKafkaConsumer:
        """The client, made on first use: it belongs to the event loop of its first call."""
        if self._client is None:
            client = AIOKafkaConsumer(group_id=self._group_id, enable_auto_commit=False, **self._connection.client_options())
            await client.start()
            self._client = client
        return self._client

    async def end_offsets(self, partitions: Iterable[tuple[str, int]]) -> dict[tuple[str, int], int]:
        wanted = [TopicPartition(topic, partition) for topic, partition in partitions]
        if not wanted:
            return {}
        ends = await (await self._ready()).end_offsets(wanted)
        return {(tp.topic, tp.partition): offset for tp, offset in ends.items()}

    async def committed(self, topic: str, partition: int) -> int | None:
        """The group's committed offset: where a worker resumes a partition it has not yet
        taken a batch from."""
        return await (await self._ready()).committed(TopicPartition(topic, partition))

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.stop()
