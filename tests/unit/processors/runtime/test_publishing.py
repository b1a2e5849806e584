"""A worker's outputs are published until Kafka stores them: each failure is logged,
counted and waited out, and the same records are sent again."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import pytest

from infra.kafka.publisher import KafkaUnavailable, Record
from infra.retry import Backoff
from processors.runtime import metrics
from processors.runtime.publishing import publish_until_stored

RECORDS = [Record("footfall.sessions", b"shop:v1", b"{}"), Record("footfall.customers", b"shop:v1", b"{}")]


class Flaky:
    """A publisher whose first `failures` publishes find Kafka away."""

    def __init__(self, failures: int):
        self.failures = failures
        self.sent: list[list[Record]] = []

    async def publish_batched(self, records: Sequence[Record]) -> None:
        self.sent.append(list(records))
        if len(self.sent) <= self.failures:
            raise KafkaUnavailable("no broker")


def test_a_publish_is_retried_until_kafka_stores_it(caplog: pytest.LogCaptureFixture) -> None:
    publisher = Flaky(failures=2)
    retries_before = metrics.PUBLISH_RETRIES._value.get()
    with caplog.at_level(logging.WARNING, "footfall.sessioniser"):
        asyncio.run(publish_until_stored(publisher, RECORDS, Backoff(initial_s=0.001, max_s=0.002)))  # type: ignore[arg-type]
    assert publisher.sent == [RECORDS] * 3
    assert metrics.PUBLISH_RETRIES._value.get() - retries_before == 2
    assert [r.getMessage() for r in caplog.records] == [
        "publishing 2 records failed, retrying in 0.0s: no broker",
        "publishing 2 records failed, retrying in 0.0s: no broker",
    ]
