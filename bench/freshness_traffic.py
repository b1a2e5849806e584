"""The freshness benchmark's load: the demo's visitors replayed at the present moment, posted
open-loop on a schedule, and the ledger of what happened to each batch."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson

from footfall.demo import generate
from footfall.demo.simulation import iso_millis


# --- the traffic ----------------------------------------------------------------------------


class Traffic:
    """The demo's visitors replayed at the present moment. `visitors` browse at once, each
    event from one picked at random; a visitor whose journey is over is replaced by the
    next journey, under new ids once every journey has been used."""

    def __init__(self, visitors: int, seed: int):
        messages, _ = generate(datetime.now(UTC), visitors=visitors, days=7, seed=seed)
        journeys: dict[str, list[dict[str, Any]]] = {}
        for message in messages:
            journeys.setdefault(message["anonymousId"], []).append(message)
        self.journeys = list(journeys.values())
        self.rng = random.Random(seed)
        self.started = 0
        # Each browsing visitor: its journey, how far it has got, and the suffix of its ids.
        self.browsing = [self._next_visitor() for _ in range(visitors)]

    def _next_visitor(self) -> list[Any]:
        journey = self.journeys[self.started % len(self.journeys)]
        lap = self.started // len(self.journeys)
        self.started += 1
        return [journey, 0, f"-{lap}" if lap else ""]

    def _message(self, event_id: str, timestamp: str, sent_at: str) -> dict[str, Any]:
        slot = self.rng.randrange(len(self.browsing))
        journey, position, suffix = self.browsing[slot]
        if position + 1 == len(journey):
            self.browsing[slot] = self._next_visitor()
        else:
            self.browsing[slot][1] = position + 1
        message = {**journey[position], "messageId": event_id, "timestamp": timestamp, "sentAt": sent_at}
        if suffix:
            message["anonymousId"] += suffix
            if "userId" in message:
                message["userId"] += suffix
        return message

    def body(self, token: str, number: int, size: int) -> bytes:
        """One batch as a browser SDK posts it; its events' ids are `token-number-index`.
        Each event waited up to half a second in the SDK's queue before it was sent."""
        now = datetime.now(UTC)
        sent_at = iso_millis(now)
        batch = [
            self._message(event_id(token, number, index), iso_millis(now - timedelta(milliseconds=self.rng.randint(0, 500))), sent_at)
            for index in range(size)
        ]
        return orjson.dumps({"batch": batch, "sentAt": sent_at})


def event_id(token: str, number: int, index: int) -> str:
    return f"{token}-{number:08d}-{index:02d}"


# --- sending ------------------------------------------------------------------------------


@dataclass
class Ledger:
    """What happened to each batch of one stream: when it was acknowledged, and when how
    many of its events were first seen in ClickHouse. Written by the sender (event loop)
    and the poller (its own thread); each key has one writer."""

    token: str
    size: int
    scheduled: int = 0  # batches handed to the sender so far
    acked: dict[int, float] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)
    seen: dict[int, list[tuple[float, int]]] = field(default_factory=dict)  # (first seen, how many more)
    seen_count: dict[int, int] = field(default_factory=dict)

    def complete(self, number: int) -> bool:
        return number in self.failed or self.seen_count.get(number, 0) >= self.size

    def visible(self) -> int:
        return sum(self.seen_count.get(number, 0) for number in self.acked)

    def all_visible(self) -> bool:
        return self.visible() >= len(self.acked) * self.size


async def send(traffic: Traffic, ledger: Ledger, url: str, seconds: float, rate: int) -> float:
    """Post a batch every size/rate seconds for `seconds`, each on its own schedule; returns
    the sending time."""
    interval = ledger.size / rate
    batches = round(seconds / interval)

    async def post(client: httpx.AsyncClient, number: int, body: bytes) -> None:
        try:
            answer = await client.post(f"{url}/v1/batch", content=body, headers={"Content-Type": "application/json"})
        except httpx.HTTPError as exc:
            ledger.failed[number] = repr(exc)
            return
        now = time.monotonic()
        if answer.status_code == 200 and answer.json().get("success") and "rejected" not in answer.json():
            ledger.acked[number] = now
        else:
            ledger.failed[number] = f"{answer.status_code} {answer.text[:200]}"

    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(auth=("demo_key", ""), timeout=30, limits=limits) as client:
        tasks = set()
        started = time.monotonic()
        for number in range(batches):
            delay = started + number * interval - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            body = traffic.body(ledger.token, number, ledger.size)
            ledger.scheduled = number + 1
            task = asyncio.create_task(post(client, number, body))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        elapsed = time.monotonic() - started
        if tasks:
            await asyncio.wait(tasks)
    return elapsed


