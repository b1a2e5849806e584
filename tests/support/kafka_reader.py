"""Reading back what landed in a Kafka topic, for assertions against the real broker."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import orjson

from infra.kafka.admin import read_records
from schemas.topics import Topic


@dataclass(frozen=True)
class Landed:
    partition: int
    key: bytes | None
    value: dict


def read_topic(bootstrap: str, topic: Topic) -> list[Landed]:
    """Every record in the topic now, its value decoded from JSON."""
    records = asyncio.run(read_records(bootstrap, topic))
    return [Landed(r.partition, r.key, orjson.loads(r.value)) for r in records]
