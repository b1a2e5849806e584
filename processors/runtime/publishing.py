"""A worker's outputs published until Kafka has stored them: a batch is acknowledged, and
its states saved, only after that, so while Kafka is away the worker waits and retries
with the one retry policy (infra.retry) rather than lose or reorder anything."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from infra.kafka.publisher import KafkaUnavailable, Publisher, Record
from infra.retry import Backoff, retry_async
from processors.analytics.analyse import CustomerOutputs
from processors.runtime import metrics

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
