"""One delivery against a real HTTP server on loopback: retried through 5xx and silence until
a 2xx, refused at once by a 4xx, given up once the retry time is spent."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from infra.config import Webhook
from infra.retry import Backoff
from tests.support.webhook_receiver import HANG, Receiver
from webhooks.changes import Change
from webhooks.delivery import Outcome, client, deliver
from webhooks.payloads import delivery
from webhooks.schedule import Schedule

TIMEOUT_S = 0.3
CHANGE = Change("segment_left", "shop", "a1", "a1", "buyers", 0, "", "a1\x00v1")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    plans = {
        "/recovers": lambda n: {1: 500, 2: 429, 3: HANG}.get(n, 204),
        "/gone": lambda n: 410,
        "/down": lambda n: 503,
    }
    running = Receiver(plans, hang_s=TIMEOUT_S * 4).start()
    yield running
    running.stop()


def send(receiver: Receiver, path: str, retry_s: float) -> Outcome:
    hook = Webhook(url=f"{receiver.url}{path}", secret="0123456789abcdef", on=["segment_left"])

    async def run() -> Outcome:
        async with client(TIMEOUT_S) as http:
            return await deliver(http, delivery(hook, CHANGE), "shop", Schedule(Backoff(initial_s=0.01, max_s=0.05), retry_s))

    return asyncio.run(run())


def test_failures_that_may_pass_are_retried_until_a_2xx(receiver: Receiver) -> None:
    outcome = send(receiver, "/recovers", retry_s=30)
    assert outcome.delivered and outcome.attempts == 4
    assert [r.status for r in receiver.snapshot()] == [500, 429, HANG, 204]
    assert len({r.headers["X-Footfall-Delivery"] for r in receiver.snapshot()}) == 1


def test_a_refusal_is_not_retried(receiver: Receiver) -> None:
    outcome = send(receiver, "/gone", retry_s=30)
    assert (outcome.delivered, outcome.attempts, outcome.reason, outcome.detail) == (False, 1, "refused", "HTTP 410")


def test_retrying_stops_when_the_retry_time_is_spent(receiver: Receiver) -> None:
    outcome = send(receiver, "/down", retry_s=0.2)
    assert not outcome.delivered and outcome.reason == "retry_time_spent" and outcome.detail == "HTTP 503"
    assert outcome.attempts == len(receiver.snapshot()) > 1


def test_no_receiver_at_all_is_a_connection_error_retried(receiver: Receiver) -> None:
    receiver.stop()
    outcome = send(receiver, "/down", retry_s=0.1)
    assert not outcome.delivered and outcome.reason == "retry_time_spent" and outcome.detail.startswith("connection error")
