"""A worker's outputs published until Kafka has stored them: a batch is acknowledged, and
its states saved, only after that, so while Kafka is away the worker waits and retries
with the one retry policy (infra.retry) rather than lose or reorder anything."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from datetime import datetime, timezone

from infra.kafka.publisher import KafkaUnavailable, Publisher, Record, dead_letter_record
from infra.retry import Backoff, retry_async
from processors.analytics.analyse import CustomerOutputs
from processors.runtime import metrics
from processors.sessionisation.sessionise import KeyValue
from schemas.event import InvalidMessage
from schemas.topics import EVENTS

log = logging.getLogger("footfall.sessioniser")
PUBLISH_BACKOFF = Backoff(initial_s=0.5, max_s=10.0)


async def publish_until_stored(publisher: Publisher, records: Sequence[Record], backoff: Backoff = PUBLISH_BACKOFF) -> None:
    """Publish, retrying for as long as Kafka is unavailable (records sent twice are
    collapsed downstream by event id and version); each retry is logged and counted."""

    def note(exc: BaseException, wait_s: float) -> None:
        log.warning("publishing %d records failed, retrying in %.1fs: %s", len(records), wait_s, exc)
        metrics.PUBLISH_RETRIES.inc()

    await retry_async(lambda: publisher.publish_batched(records), KafkaUnavailable, backoff, on_retry=note)


def customer_records(outputs: CustomerOutputs) -> list[Record]:
    """The analytics' records, as the publisher takes them."""
    return [Record(topic, key, value) for topic, key, value in outputs.records()]


def set_aside_records(malformed: Sequence[tuple[KeyValue, str]]) -> list[Record]:
    """A dead letter for each record that held no event, with its reason and a digest that
    tells it from the others, but not its content: nothing vouches for what a record the
    collector did not write holds, and the events topic keeps it for its retention."""
    now = datetime.now(timezone.utc)
    letters = []
    for (key, value), reason in malformed:
        site_id = metrics.site_of(key)
        log.warning("set aside a record of the events topic for site %r: %s", site_id, reason)
        metrics.MALFORMED_EVENTS.inc()
        letters.append(dead_letter_record(
            InvalidMessage(site_id=site_id, received_at=now, endpoint=EVENTS.name, reason=reason, raw=record_digest(key, value))
        ))
    return letters


def record_digest(key: bytes | None, value: bytes | None) -> str:
    digest = hashlib.sha256(b"%d:" % len(key or b"") + (key or b"") + (value or b""))
    return f"sha256:{digest.hexdigest()}"
