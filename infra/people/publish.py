"""Telling the processors and the sink that a person is forgotten: the erasure record,
acknowledged by every in-sync replica before any row is deleted. Without it a replay of the
topics (still within their retention) would write the person back."""

from __future__ import annotations

import asyncio

from aiokafka.errors import KafkaError

from infra.config import Settings
from infra.kafka.publisher import KafkaUnavailable, Record, publish_once
from infra.people.finding import Refused
from schemas.erasures import Erasure
from schemas.topics import ERASURES

# Connecting: one try a second, as the publisher does, for a few seconds only: whoever
# asks for an erasure is waiting for the answer.
CONNECT_ATTEMPTS = 3


class ErasureNotPublished(Refused):
    """Kafka did not acknowledge the erasure record, so nothing was deleted."""


def erasure_record(erasure: Erasure) -> Record:
    return Record(ERASURES.name, erasure.key, erasure.model_dump_json().encode())


def publish_erasure(settings: Settings, erasure: Erasure) -> None:
    """Publish and wait for the acknowledgement (on an event loop of its own, so that it
    serves a command and a worker thread of the sink alike); ErasureNotPublished if Kafka
    does not acknowledge."""
    try:
        asyncio.run(publish_once(
            settings.kafka, settings.kafka_ack_timeout_s, [erasure_record(erasure)], "footfall-erasure", CONNECT_ATTEMPTS,
        ))
    except (KafkaError, KafkaUnavailable, OSError) as exc:
        raise ErasureNotPublished(
            f"Kafka at {settings.kafka_bootstrap} did not acknowledge the erasure record ({exc or type(exc).__name__}); "
            "nothing was deleted: without the record a replay would bring the person back. Start Kafka and try again."
        ) from None
