"""The one retry policy: every loop that waits out an outage (Kafka, ClickHouse, the
collector) backs off the same way, exponentially up to a cap, so an outage is retried
quickly at first and never hammered."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")
RetryNote = Callable[[BaseException, float], None]


@dataclass(frozen=True)
class Backoff:
    """Waits that start at `initial_s` and double up to `max_s` (equal: a constant wait)."""

    initial_s: float = 0.5
    max_s: float = 10.0
    factor: float = 2.0

    def delay(self, retry: int) -> float:
        """The wait before retry number `retry` (1 for the first)."""
        return min(self.initial_s * self.factor ** (retry - 1), self.max_s)

    def next_wait(self, retry: int, exc: BaseException, attempts: int | None, on_retry: RetryNote) -> float:
        """The wait before trying again after `exc`, or `exc` raised once the attempts are spent."""
        if attempts is not None and retry >= attempts:
            raise exc
        wait = self.delay(retry)
        on_retry(exc, wait)
        return wait


def _no_note(exc: BaseException, wait: float) -> None:
    """The default retry note: nothing."""


async def retry_async(
    operation: Callable[[], Awaitable[T]],
    retry_on: type[BaseException] | tuple[type[BaseException], ...],
    backoff: Backoff,
    attempts: int | None = None,
    on_retry: RetryNote = _no_note,
) -> T:
    """Await `operation()` until it succeeds; an exception of `retry_on` is noted, waited out
    and retried, `attempts` times in all (None: for ever), then raised."""
    retry = 0
    while True:
        try:
            return await operation()
        except retry_on as exc:
            retry += 1
            await asyncio.sleep(backoff.next_wait(retry, exc, attempts, on_retry))


def retry_blocking(
    operation: Callable[[], T],
    retry_on: type[BaseException] | tuple[type[BaseException], ...],
    backoff: Backoff,
    attempts: int | None = None,
    on_retry: RetryNote = _no_note,
) -> T:
    """`retry_async` for code without an event loop (a CLI, a ClickHouse driver call)."""
    retry = 0
    while True:
        try:
            return operation()
        except retry_on as exc:
            retry += 1
            time.sleep(backoff.next_wait(retry, exc, attempts, on_retry))
