"""Delivering one change to one hook over HTTP: attempts with backoff until a 2xx, a
refusal, or the retry time spent. The decisions are webhooks.schedule's; this is the I/O.

A receiver is another party's server: its answer's body is never read (a hostile one could
stream gigabytes), redirects are not followed, and each attempt is bounded by the timeout.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import httpx

from webhooks import metrics
from webhooks.payloads import Delivery
from webhooks.schedule import Schedule, Verdict, judge

log = logging.getLogger("footfall.webhooks")


@dataclass(frozen=True)
class Outcome:
    """How a delivery ended: delivered, or given up with the reason."""

    delivered: bool
    attempts: int
    reason: str  # "" when delivered; "refused" or "retry_time_spent"
    detail: str  # the last answer or error
    first_attempt_ms: int


async def attempt(client: httpx.AsyncClient, delivery: Delivery) -> tuple[int | None, str]:
    """One POST: the status (None if no answer came) and what to say of it."""
    try:
        async with client.stream("POST", delivery.url, content=delivery.body, headers=delivery.headers) as response:
            return response.status_code, f"HTTP {response.status_code}"
    except httpx.TimeoutException as exc:
        return None, f"timeout: {type(exc).__name__}"
    except httpx.HTTPError as exc:
        return None, f"connection error: {type(exc).__name__}: {exc}"[:500]


def _result(status: int | None, detail: str, verdict: Verdict) -> str:
    if status is None:
        return "timeout" if detail.startswith("timeout") else "connection_error"
    return {Verdict.DELIVERED: "success", Verdict.RETRY: "retried_status", Verdict.REFUSED: "refused_status"}[verdict]


async def deliver(client: httpx.AsyncClient, delivery: Delivery, site_id: str, schedule: Schedule) -> Outcome:
    """Try until the receiver takes it, refuses it, or the retry time is spent."""
    started, first_ms, attempts = time.monotonic(), int(time.time() * 1000), 0
    while True:
        attempts += 1
        status, detail = await attempt(client, delivery)
        verdict = judge(status)
        metrics.ATTEMPTS.labels(site_id, _result(status, detail, verdict)).inc()
        if verdict is Verdict.DELIVERED:
            metrics.LATENCY.observe(time.monotonic() - started)
            return Outcome(True, attempts, "", detail, first_ms)
        if verdict is Verdict.REFUSED:
            return Outcome(False, attempts, "refused", detail, first_ms)
        wait = schedule.next_wait(attempts, time.monotonic() - started)
        if wait is None:
            return Outcome(False, attempts, "retry_time_spent", detail, first_ms)
        log.warning("delivery %s to %s failed (%s), attempt %d; retrying in %.1fs", delivery.delivery_id, delivery.url, detail, attempts, wait)
        metrics.RETRYING.inc()
        try:
            await asyncio.sleep(wait)
        finally:
            metrics.RETRYING.dec()


def client(timeout_s: float) -> httpx.AsyncClient:
    """One client for every receiver: connections kept alive per host, no redirects, no
    proxy or credentials from the environment."""
    return httpx.AsyncClient(timeout=httpx.Timeout(timeout_s), follow_redirects=False, trust_env=False)
