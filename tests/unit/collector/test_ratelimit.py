"""Token buckets on a clock the tests move: what is admitted, what is refused and for how
long, how the workers share the limits, and how many buckets are kept."""

from __future__ import annotations

import pytest

from collector.ratelimit import ADDRESS, WRITE_KEY, RateLimiter, Refusal, TokenBuckets
from infra.config import RateLimits, Settings


def test_a_full_bucket_pays_its_burst_then_refills_at_its_rate() -> None:
    buckets = TokenBuckets(rate=10, burst=100, max_buckets=1000)
    assert buckets.wait_s("a", 100, now=0) == 0
    buckets.take("a", 100, now=0)
    assert buckets.wait_s("a", 1, now=0) == pytest.approx(0.1)
    assert buckets.wait_s("a", 50, now=2) == pytest.approx(3.0)  # 20 tokens back after 2 s
    assert buckets.tokens("a", now=1000) == 100  # never more than the burst
    assert buckets.wait_s("b", 100, now=0) == 0  # another key has a bucket of its own


def test_a_request_larger_than_the_burst_waits_for_a_full_bucket_and_leaves_a_debt() -> None:
    buckets = TokenBuckets(rate=10, burst=100, max_buckets=1000)
    buckets.take("a", 50, now=0)
    assert buckets.wait_s("a", 500, now=0) == pytest.approx(5.0)  # until the bucket is full, not for ever
    buckets.take("a", 500, now=5)
    assert buckets.tokens("a", now=5) == -400
    assert buckets.wait_s("a", 1, now=5) == pytest.approx(40.1)


def test_a_flood_of_fresh_keys_keeps_no_more_buckets_than_allowed() -> None:
    buckets = TokenBuckets(rate=1, burst=10, max_buckets=100)
    for n in range(10_000):
        buckets.take(f"k{n}", 5, now=n / 1_000_000)  # none has refilled: all would be kept
    assert len(buckets) == 100
    assert buckets.tokens("k9999", now=0.01) < 10  # the latest are the ones kept


def test_buckets_full_again_are_forgotten_since_they_hold_nothing() -> None:
    buckets = TokenBuckets(rate=100, burst=10, max_buckets=1000)
    for n in range(500):
        buckets.take(f"k{n}", 1, now=n)  # each refills within 0.01 s
    assert len(buckets) == 1


def limiter(workers: int = 1, **limits: float) -> RateLimiter:
    return RateLimiter(RateLimits(**limits), workers)


def test_both_buckets_are_charged_or_neither_and_the_refusal_names_the_limit() -> None:
    rates = limiter(address_rate=10, address_burst=100, write_key_rate=1000, write_key_burst=150)
    assert rates.admit("203.0.113.9", "key", 100, now=0) is None
    assert rates.admit("203.0.113.9", "key", 1, now=0) == Refusal(ADDRESS, 1)
    assert rates.buckets[WRITE_KEY].tokens("key", now=0) == 50  # the refused request cost nothing
    assert rates.admit("198.51.100.7", "key", 100, now=0) == Refusal(WRITE_KEY, 1)
    assert rates.admit("198.51.100.7", "other", 100, now=0) is None


def test_retry_after_is_whole_seconds_until_the_request_would_pass_and_at_least_one() -> None:
    rates = limiter(address_rate=10, address_burst=100)
    rates.admit("a", "key", 100, now=0)
    assert rates.admit("a", "key", 1, now=0) == Refusal(ADDRESS, 1)  # 0.1 s, rounded up
    assert rates.admit("a", "key", 25, now=0) == Refusal(ADDRESS, 3)  # 2.5 s
    assert rates.admit("a", "key", 25, now=2.5) is None


def test_each_worker_enforces_its_share_so_that_together_they_enforce_the_whole() -> None:
    workers = [limiter(workers=2, address_rate=100, address_burst=1000) for _ in range(2)]
    admitted = 0
    for n in range(4000):
        if workers[n % 2].admit("a", "key", 1, now=0) is None:
            admitted += 1
    assert admitted == 1000
    assert workers[0].buckets[ADDRESS].rate == 50 and workers[0].buckets[ADDRESS].burst == 500


def admitted_events(rates: RateLimiter, batch: int, requests_per_s: float, seconds: float) -> tuple[int, int]:
    """Requests of `batch` events from one address at a steady pace: (admitted, refused)."""
    admitted = refused = 0
    for n in range(int(requests_per_s * seconds)):
        if rates.admit("203.0.113.9", "key", batch, now=n / requests_per_s) is None:
            admitted += 1
        else:
            refused += 1
    return admitted, refused


def test_the_defaults_never_limit_a_backend_sending_a_busy_sites_traffic_in_500_message_batches() -> None:
    # Every collector worker a share: one keep-alive connection reaches one worker only.
    rates = RateLimiter(RateLimits(), Settings().collector_workers)
    # 2,000 events/s for ten minutes, then a backlog of 40 batches flushed back to back.
    assert admitted_events(rates, 500, 4, 600) == (2400, 0)
    assert [rates.admit("203.0.113.9", "key", 500, now=600 + n / 1000) for n in range(40)] == [None] * 40


def test_the_defaults_hold_a_flood_from_one_address_to_its_rate() -> None:
    rates = RateLimiter(RateLimits(), Settings().collector_workers)
    admitted, refused = admitted_events(rates, 100, 1000, 60)  # 100,000 events/s for a minute
    share = RateLimits().address_rate / Settings().collector_workers
    assert admitted * 100 <= RateLimits().address_burst / 2 + share * 60
    assert refused > 0.9 * (admitted + refused)


def test_limits_and_trusted_proxies_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOOTFALL_RATE_LIMITS__ADDRESS_RATE", "50")
    monkeypatch.setenv("FOOTFALL_RATE_LIMITS__TRUSTED_PROXIES", '["10.0.0.0/8", "::1"]')
    limits = Settings().rate_limits
    assert limits.address_rate == 50 and limits.write_key_rate == RateLimits().write_key_rate
    assert [str(network) for network in limits.trusted_proxies] == ["10.0.0.0/8", "::1/128"]


@pytest.mark.parametrize("field", ["address_rate", "write_key_rate"])
def test_a_rate_of_zero_is_refused_rather_than_blocking_everyone(field: str) -> None:
    with pytest.raises(ValueError):
        RateLimits(**{field: 0})
