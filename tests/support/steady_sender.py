"""A well-behaved sender beside an attack or an outage: valid batches with unique messageIds
at a modest rate, each one sent again as it was after a 429 or 503 (waiting what Retry-After
says) or a dropped connection, as Segment's SDKs do; every answer noted with its time."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime

import httpx

from tests.support.nasty_requests import WRITE_KEY
from tests.support.pipeline import Pipeline

RETRIED_STATUSES = (429, 503)
NO_RETRY_AFTER_S = 1.0
MAX_RETRY_AFTER_S = 10.0


class SteadySender(threading.Thread):
    """Posts `batch_size` page views and tracks every `interval_s` until stop()."""

    def __init__(self, url: str, run: str, batch_size: int = 10, interval_s: float = 0.2):
        super().__init__(daemon=True, name="steady-sender")
        self.url = url
        self.run_id = run
        self.batch_size = batch_size
        self.interval_s = interval_s
        self.done = threading.Event()
        self.sent_ids: list[str] = []
        self.answers: Counter[int] = Counter()
        self.refused: list[str] = []  # answers no retry can mend: a valid batch must not get them
        self.timeline: list[tuple[float, int]] = []  # (time.monotonic(), status; 0: no answer)

    def batch(self, number: int) -> list[dict]:
        now = datetime.now(UTC).isoformat()
        messages = []
        for n in range(self.batch_size):
            base = {"messageId": f"{self.run_id}-{number}-{n}", "anonymousId": f"visitor-{n}-{self.run_id}", "timestamp": now}
            if n % 2:
                messages.append({**base, "type": "track", "event": "Steady", "properties": {"n": n}})
            else:
                messages.append({**base, "type": "page", "properties": {"path": f"/steady/{number}"}})
        return messages

    def deliver(self, client: httpx.Client, messages: list[dict]) -> bool:
        """Whether the batch was stored, sent again until it was or was refused outright."""
        while True:
            try:
                response = client.post("/v1/batch", json={"batch": messages, "sentAt": datetime.now(UTC).isoformat()})
            except httpx.TransportError:
                self.noted(0)
                wait = NO_RETRY_AFTER_S
            else:
                self.noted(response.status_code)
                if response.status_code == 200:
                    return True
                if response.status_code not in RETRIED_STATUSES:
                    self.refused.append(f"{response.status_code} {response.text[:300]}")
                    return False
                wait = min(float(response.headers.get("retry-after", NO_RETRY_AFTER_S)), MAX_RETRY_AFTER_S)
            time.sleep(wait)

    def noted(self, status: int) -> None:
        self.answers[status] += 1
        self.timeline.append((time.monotonic(), status))

    def longest_refusal_s(self) -> float:
        """The longest time from an answer other than 200 to the next 200: how long a
        client retrying as told could store nothing."""
        longest, refused_since = 0.0, None
        for at, status in self.timeline:
            if status != 200 and refused_since is None:
                refused_since = at
            elif status == 200 and refused_since is not None:
                longest, refused_since = max(longest, at - refused_since), None
        return longest

    def run(self) -> None:
        with httpx.Client(base_url=self.url, auth=(WRITE_KEY, ""), timeout=30) as client:
            number = 0
            while not self.done.is_set():
                messages = self.batch(number)
                if self.deliver(client, messages):
                    self.sent_ids.extend(message["messageId"] for message in messages)
                number += 1
                self.done.wait(self.interval_s)

    def stop(self) -> None:
        self.done.set()
        self.join()


def stored_counts(pipeline: Pipeline, run: str) -> dict[str, int]:
    """A sender's events in ClickHouse: rows once replays collapse, rows as written, and
    distinct event ids (its messageIds all start with the run)."""
    where = f"event_id LIKE '{run}-%'"
    final = pipeline.query(f"SELECT count() AS n FROM footfall.events FINAL WHERE {where}")[0]["n"]
    raw = pipeline.query(f"SELECT count() AS n, uniqExact(event_id) AS ids FROM footfall.events WHERE {where}")[0]
    return {"final": int(final), "rows": int(raw["n"]), "ids": int(raw["ids"])}
