"""When a delivery is retried and when it is given up: pure decisions on an answer and on
the time spent, so the runtime only carries them out.

A timeout, a refused or broken connection, 408, 429 and any 5xx may pass: they are retried
with exponential backoff (infra.retry's one policy) until the retry time is spent. Any other
answer but a 2xx (a 4xx, a redirect) says the request itself is wrong and will stay so: it
is dead-lettered at once rather than retried for an hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from infra.retry import Backoff

RETRIED_STATUSES = frozenset({408, 429})


class Verdict(Enum):
    DELIVERED = "delivered"
    RETRY = "retry"
    REFUSED = "refused"


def judge(status: int | None) -> Verdict:
    """An answer's status (None: no answer, a timeout or a connection error)."""
    if status is None or status in RETRIED_STATUSES or status >= 500:
        return Verdict.RETRY
    if 200 <= status < 300:
        return Verdict.DELIVERED
    return Verdict.REFUSED


@dataclass(frozen=True)
class Schedule:
    """Waits doubling from `backoff.initial_s` to `backoff.max_s`, for `retry_s` in all."""

    backoff: Backoff
    retry_s: float

    def next_wait(self, attempts: int, elapsed_s: float) -> float | None:
        """The wait before the next attempt after `attempts` failed ones, `elapsed_s` after
        the first began; None once waiting would pass the retry time: give up."""
        wait = self.backoff.delay(attempts)
        return wait if elapsed_s + wait <= self.retry_s else None
