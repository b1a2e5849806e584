"""Token buckets per write key and per client address: who may send how much, without I/O.

Write keys are public, so a single sender can try to take the collector for itself; these
buckets answer it 429 while everyone else goes on. Each collector worker process keeps its
own buckets at its share of the configured rates, and keeps a bounded number of them.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

from infra.config import RateLimits

ADDRESS = "address"
WRITE_KEY = "write_key"
LIMIT_KINDS = (ADDRESS, WRITE_KEY)


class TokenBuckets:
    """A bucket per key that fills at `rate` tokens a second up to `burst`; at most
    `max_buckets` are kept, the least recently used forgotten first."""

    def __init__(self, rate: float, burst: float, max_buckets: int):
        self.rate = rate
        self.burst = burst
        self.max_buckets = max_buckets
        # key -> (tokens at that moment, moment); a key without a bucket has a full one.
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def tokens(self, key: str, now: float) -> float:
        held = self._buckets.get(key)
        if held is None:
            return self.burst
        tokens, at = held
        return min(self.burst, tokens + max(0.0, now - at) * self.rate)

    def wait_s(self, key: str, cost: float, now: float) -> float:
        """How long until `cost` tokens can be taken; 0 when they can be now.

        A cost over the burst waits only for a full bucket and then leaves it in debt, so a
        request larger than the burst is never refused for ever: the ones after it wait."""
        return max(0.0, min(cost, self.burst) - self.tokens(key, now)) / self.rate

    def take(self, key: str, cost: float, now: float) -> None:
        tokens = self.tokens(key, now) - cost
        self._buckets[key] = (tokens, now)
        self._buckets.move_to_end(key)
        self._forget_idle(now)

    def _forget_idle(self, now: float) -> None:
        """Drop the oldest buckets while they are full again (nothing is lost: a missing
        bucket is a full one) or while there are more than allowed."""
        while self._buckets:
            key, (tokens, at) = next(iter(self._buckets.items()))
            full = tokens + (now - at) * self.rate >= self.burst
            if not full and len(self._buckets) <= self.max_buckets:
                return
            del self._buckets[key]


@dataclass(frozen=True)
class Refusal:
    """Which limit a request broke and how many whole seconds until it would be admitted."""

    limit: str
    retry_after_s: int


class RateLimiter:
    """The collector's two kinds of bucket, at one worker's share of the configured rates."""

    def __init__(self, limits: RateLimits, workers: int):
        # Each of the `workers` processes answering on the port enforces 1/workers of every
        # rate and burst, so that together they enforce the whole.
        share = 1 / max(1, workers)
        self.buckets = {
            ADDRESS: TokenBuckets(limits.address_rate * share, limits.address_burst * share, limits.max_buckets),
            WRITE_KEY: TokenBuckets(limits.write_key_rate * share, limits.write_key_burst * share, limits.max_buckets),
        }

    def admit(self, address: str, write_key: str, cost: int, now: float) -> Refusal | None:
        """Charges both buckets `cost` tokens, or neither when one of them cannot pay yet."""
        keys = {ADDRESS: address, WRITE_KEY: write_key}
        waits = {kind: self.buckets[kind].wait_s(keys[kind], cost, now) for kind in LIMIT_KINDS}
        kind = max(waits, key=waits.__getitem__)
        if waits[kind] > 0:
            return Refusal(kind, max(1, math.ceil(waits[kind])))
        for kind, key in keys.items():
            self.buckets[kind].take(key, cost, now)
        return None
