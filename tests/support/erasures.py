"""What a test of erasures needs of the real broker and engine: an erasure (or any record)
published to footfall.erasures as `footfall forget` publishes it, the latest record of each
key of a compacted topic, a consumer group sent back to the beginning of its topics (a
replay), whether it has caught up again, and rows deleted from the embedded engine while no
sink holds it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from infra.config import Settings
from infra.keys import keyed_hash, site_key
from infra.retry import Backoff, retry_async
from schemas.erasures import Erasure
from schemas.topics import ERASURES, Topic
from tests.support.kafka_reader import read_records

COMMIT_BACKOFF = Backoff(initial_s=0.5, max_s=2)


async def _publish(bootstrap: str, records: Sequence[tuple[bytes | None, bytes | None]]) -> None:
    # A producer of its own: footfall's publisher partitions by key, and a malformed record may have none.
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for key, value in records:
            await producer.send_and_wait(ERASURES.name, value=value, key=key)
    finally:
        await producer.stop()


def publish_records(bootstrap: str, records: Sequence[tuple[bytes | None, bytes | None]]) -> None:
    """Records of footfall.erasures as given, malformed ones included."""
    asyncio.run(_publish(bootstrap, records))


def publish_erasure(bootstrap: str, settings: Settings, site_id: str, ids: Sequence[str]) -> Erasure:
    """The erasure of the person with these ids, hashed with the site's key."""
    key = site_key(settings, site_id)
    erasure = Erasure(site_id=site_id, id_hashes=sorted({keyed_hash(key, id_) for id_ in ids}), requested_at=datetime.now(UTC))
    publish_records(bootstrap, [(erasure.key, erasure.model_dump_json().encode())])
    return erasure


def latest_by_key(bootstrap: str, topic: Topic) -> dict[bytes | None, bytes | None]:
    """Each key's latest value in the topic now (None: a tombstone), as compaction will keep it."""
    return {record.key: record.value for record in asyncio.run(read_records(bootstrap, topic))}


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


DELETE_SCRIPT = """
import sys
from pathlib import Path
from infra.clickhouse.embedded import EmbeddedClickHouse
engine = EmbeddedClickHouse(Path(sys.argv[1]))
for statement in sys.argv[2:]:
    engine.execute(statement)
engine.close()
"""


def run_in_engine(clickhouse_path: Path, statements: Sequence[str], cwd: Path) -> None:
    """Statements run by a process of their own on the embedded engine (one process may
    hold it at a time; this test process then holds nothing of it)."""
    subprocess.run([sys.executable, "-c", DELETE_SCRIPT, str(clickhouse_path), *statements], cwd=cwd, check=True, timeout=300)
