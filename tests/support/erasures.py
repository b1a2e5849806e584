"""What a test of erasures needs of the real broker and pipeline: records published as
given (malformed erasures, unreadable records), the latest record of each key of a
compacted topic and whether the changelogs end in tombstones, and a replay: the worker and
the sink stopped, their consumer groups sent back to the beginning of their topics, both
started again and awaited until they have read everything once more."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from footfall.local.processes import Started, stop
from infra.retry import Backoff, retry_async
from schemas.topics import (
    CUSTOMERS, DEAD_LETTER, EVENTS, FUNNEL_PROGRESS, PROFILES_CHANGELOG, SEGMENT_CHANGES, SESSIONISED, SESSIONISER_APP_ID,
    SESSIONS, VISITORS_CHANGELOG, Topic,
)
from sinks.sink import GROUP_ID as SINK_GROUP
from tests.support.kafka_reader import read_records
from tests.support.pipeline import Pipeline
from tests.support.waiting import wait_for

COMMIT_BACKOFF = Backoff(initial_s=0.5, max_s=2)
SINK_TOPICS = (SESSIONISED, SESSIONS, DEAD_LETTER, SEGMENT_CHANGES, CUSTOMERS, FUNNEL_PROGRESS)
REPLAY_TIMEOUT_S = 180


async def _publish(bootstrap: str, topic: Topic, records: Sequence[tuple[bytes | None, bytes | None]]) -> None:
    # A producer of its own: footfall's publisher partitions by key, and a malformed record may have none.
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for key, value in records:
            await producer.send_and_wait(topic.name, value=value, key=key)
    finally:
        await producer.stop()


def publish_records(bootstrap: str, topic: Topic, records: Sequence[tuple[bytes | None, bytes | None]]) -> None:
    """Records of `topic` as given, malformed ones included."""
    asyncio.run(_publish(bootstrap, topic, records))


def latest_by_key(bootstrap: str, topic: Topic) -> dict[bytes | None, bytes | None]:
    """Each key's latest value in the topic now (None: a tombstone), as compaction will keep it."""
    return {record.key: record.value for record in asyncio.run(read_records(bootstrap, topic))}


def tombstoned(bootstrap: str, keys: Sequence[bytes], kept: bytes) -> object:
    """A check for `wait_for`: True once the visitor and profile changelogs end in a
    tombstone for each of `keys`, and still hold a state under `kept`."""
    latest = {topic.name: latest_by_key(bootstrap, topic) for topic in (VISITORS_CHANGELOG, PROFILES_CHANGELOG)}
    state = {name: {key: (key in values, values.get(key) is None) for key in [*keys, kept]} for name, values in latest.items()}
    done = all(state[name][key] == (True, True) for name in state for key in keys)
    return True if done and all(values.get(kept) is not None for values in latest.values()) else state


async def _group_offsets(bootstrap: str, group: str, topics: Sequence[Topic], reset: bool) -> dict[TopicPartition, tuple[int, int]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic.name, p) for topic in topics for p in range(topic.partitions)]
        consumer.assign(partitions)
        if reset:
            await retry_async(lambda: consumer.commit({tp: 0 for tp in partitions}), KafkaError, COMMIT_BACKOFF, attempts=30)
        ends = await consumer.end_offsets(partitions)
        return {tp: (await consumer.committed(tp) or 0, ends[tp]) for tp in partitions}
    finally:
        await consumer.stop()


def replay_from_the_start(bootstrap: str, group: str, topics: Sequence[Topic]) -> None:
    """The group's committed offsets set to the beginning (its members stopped): its next
    member reads every record the topics still hold."""
    asyncio.run(_group_offsets(bootstrap, group, topics, reset=True))


def group_caught_up(bootstrap: str, group: str, topics: Sequence[Topic]) -> object:
    """A check for `wait_for`: True once the group committed every partition's end offset."""
    behind = {f"{tp.topic}:{tp.partition}": (done, end) for tp, (done, end) in asyncio.run(_group_offsets(bootstrap, group, topics, reset=False)).items() if done < end}
    return True if not behind else behind


def replay_worker_and_sink(pipeline: Pipeline) -> Started:
    """The pipeline's (one) worker and its sink replaced by new ones that read every record
    their topics still hold, awaited until both have caught up; the new worker."""
    bootstrap = pipeline.kafka.bootstrap
    stop(pipeline.workers[0])
    stop(pipeline.sink)
    replay_from_the_start(bootstrap, SESSIONISER_APP_ID, (EVENTS,))
    replay_from_the_start(bootstrap, SINK_GROUP, SINK_TOPICS)
    worker = pipeline.start_worker()
    pipeline.start_sink()
    wait_for(lambda: group_caught_up(bootstrap, SESSIONISER_APP_ID, (EVENTS,)), REPLAY_TIMEOUT_S, "the worker's replay")
    wait_for(lambda: group_caught_up(bootstrap, SINK_GROUP, SINK_TOPICS), REPLAY_TIMEOUT_S, "the sink's replay")
    return worker
