"""Posts Segment messages to a collector's /v1/batch the way an SDK does: in time order, in
batches, each attempt stamped with the moment it is sent, and what is worth retrying
retried under the shared backoff policy. Progress goes to a callback, so how it is shown
stays with the caller."""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from footfall.demo.simulation import iso_millis
from infra.retry import Backoff

SentNote = Callable[[int, int], None]
"""Told before the first batch and after each one: the events sent so far, of how many."""

# Kafka briefly away (5xx) or a rate limit reached (429): the same batch, sent again later.
RETRY_STATUSES = frozenset({429, 502, 503, 504})


class SendError(RuntimeError):
    """The collector refused a batch, or could not be reached after the retries."""

    def __init__(self, message: str, status: int | None = None, body: str | None = None):
        super().__init__(message)
        self.status = status
        self.body = body


@dataclass(frozen=True)
class SendSummary:
    """What the collector made of the messages sent."""

    accepted: int  # events the collector acknowledged
    rejected: int  # events it set aside as invalid (dead-lettered); 0 for the demo's own
    batches: int  # batches acknowledged
    retries: int  # attempts repeated after a 503 or a connection error
    seconds: float
    errors: tuple[str, ...] = ()  # the first few reasons for rejected events


def retry_after_seconds(header: str | None, default: float, longest: float) -> float:
    """The wait a Retry-After asks for (seconds or an HTTP date), within [0, longest]."""
    wait = default
    if header:
        header = header.strip()
        try:
            wait = float(header)
        except ValueError:
            try:
                wait = (email.utils.parsedate_to_datetime(header) - datetime.now(UTC)).total_seconds()
            except (TypeError, ValueError):
                wait = default
    if not math.isfinite(wait):
        wait = default
    return min(max(wait, 0.0), longest)


def _batches(messages: Sequence[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(messages), size):
        yield list(messages[start:start + size])


def _time_order(messages: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    def moment(message: dict[str, Any]) -> datetime:
        stamp = message.get("timestamp")
        if not stamp:
            return datetime.max.replace(tzinfo=UTC)
        parsed = datetime.fromisoformat(stamp)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

    return sorted(messages, key=moment)


def _unwatched(sent: int, total: int) -> None:
    """The default progress note: nobody is watching."""


def send(
    messages: Sequence[dict[str, Any]],
    url: str,
    write_key: str = "demo_key",
    batch_size: int = 50,
    *,
    attempts: int = 8,
    longest_wait_s: float = 30.0,
    timeout_s: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
    on_sent: SentNote | None = None,
) -> SendSummary:
    """Posts the messages to `{url}/v1/batch` in time order, `batch_size` at a time, with
    the write key as the HTTP Basic user name. Every attempt stamps `sentAt` with the
    moment it is sent, so a retried batch still lands at its intended times.

    A 502/503/504 is retried after its Retry-After (at most `longest_wait_s`), a connection
    error after the backoff's pause, `attempts` tries in all per batch; any other status
    outside 2xx raises SendError at once."""
    if batch_size < 1:
        raise ValueError("batch_size must be 1 or more")
    if attempts < 1:
        raise ValueError("attempts must be 1 or more")
    ordered = _time_order(messages)
    endpoint = f"{url.rstrip('/')}/v1/batch"
    backoff = Backoff(max_s=longest_wait_s)
    accepted = rejected = batches = retries = sent = 0
    errors: list[str] = []
    note = on_sent or _unwatched
    started = time.monotonic()
    with httpx.Client(auth=(write_key, ""), timeout=timeout_s) as client:
        note(sent, len(ordered))
        for batch in _batches(ordered, batch_size):
            answer, tries = _post(client, endpoint, batch, attempts, backoff, sleep)
            retries += tries - 1
            batches += 1
            if "accepted" in answer:
                accepted += int(answer["accepted"])
                rejected += int(answer.get("rejected", 0))
                for error in answer.get("errors", []):
                    if len(errors) < 5:
                        errors.append(str(error.get("reason")))
            else:
                accepted += len(batch)
            sent += len(batch)
            note(sent, len(ordered))
    return SendSummary(accepted, rejected, batches, retries, time.monotonic() - started, tuple(errors))


def _post(
    client: httpx.Client,
    endpoint: str,
    batch: list[dict[str, Any]],
    attempts: int,
    backoff: Backoff,
    sleep: Callable[[float], None],
) -> tuple[dict[str, Any], int]:
    """One batch until acknowledged: the collector's answer and the number of tries."""
    failure = ""
    for attempt in range(1, attempts + 1):
        sent_at = iso_millis(datetime.now(UTC))
        # Per message, where the collector reads it; and for the whole batch, as Segment's SDKs put it.
        body = {"batch": [{**message, "sentAt": sent_at} for message in batch], "sentAt": sent_at}
        wait = backoff.delay(attempt)
        try:
            response = client.post(endpoint, json=body)
        except httpx.TransportError as exc:
            failure = f"could not reach the collector at {endpoint}: {exc!r}"
        else:
            if response.is_success:
                return _answer(response), attempt
            if response.status_code not in RETRY_STATUSES:
                raise SendError(
                    f"the collector refused a batch with {response.status_code}: {_reason(response)}",
                    status=response.status_code,
                    body=response.text,
                )
            failure = f"the collector answered {response.status_code}: {response.text[:300]}"
            # The collector knows how long it will be unavailable better than the backoff guesses.
            wait = retry_after_seconds(response.headers.get("retry-after"), wait, backoff.max_s)
        if attempt < attempts:
            sleep(wait)
    raise SendError(f"gave up on a batch after {attempts} attempts; last: {failure}")


def _answer(response: httpx.Response) -> dict[str, Any]:
    try:
        return response.json()
    except ValueError:
        return {}


def _reason(response: httpx.Response) -> str:
    try:
        answer = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    if isinstance(answer, dict) and "error" in answer:
        return f"{answer['error']} ({answer.get('detail', '')})"
    return response.text[:300]
