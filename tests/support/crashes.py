"""Crashing a part at one of its fault points (infra.faults) while planned traffic flows,
and proving it died there: a test that never got that far must fail, not pass."""

from __future__ import annotations

import signal
from collections import Counter
from collections.abc import Callable

import httpx

from footfall.demo import send
from footfall.local.processes import Started
from infra import faults
from schemas.topics import SESSIONISED
from tests.support.kafka_reader import read_topic
from tests.support.pipeline import Pipeline
from tests.support.planned_traffic import chunked
from tests.support.processes import exit_status
from tests.support.waiting import wait_for


def at_fault(point: str, visit: int) -> dict[str, str]:
    """The environment that makes a part kill itself the `visit`-th time it reaches `point`."""
    return {faults.FAULT_ENV: f"{point}:{visit}"}


def assert_killed_at_its_fault(part: Started) -> None:
    """Only the fault point ends a part with SIGKILL in these tests (the product stops its
    parts with SIGTERM), so that exit status is the proof that the point was reached."""
    status = exit_status(part)
    assert status == -signal.SIGKILL, f"{part.name} ended with status {status}, not by SIGKILL at its fault point; see {part.log}"


class ChunkedStream:
    """Planned traffic sent a chunk at a time, each chunk in one request and only once the
    chunks before it are in ClickHouse, so each makes batches of its own downstream and a
    part told to die at its n-th batch dies mid-stream, with chunks still to come."""

    def __init__(self, pipeline: Pipeline, messages: list[dict], suffix: str, chunks: int):
        self.pipeline = pipeline
        self.suffix = suffix
        self.chunks = chunked(messages, chunks)
        self.sent = 0  # chunks sent so far

    def _landed(self) -> object:
        """True once ClickHouse holds every event sent so far, else how many it holds."""
        expected = sum(len(chunk) for chunk in self.chunks[:self.sent])
        try:
            rows = self.pipeline.query(f"SELECT uniqExact(event_id) AS n FROM footfall.events WHERE anonymous_id LIKE '%{self.suffix}'")
        except httpx.TransportError as exc:  # the sink is the part dying
            return repr(exc)
        return True if rows[0]["n"] >= expected else f"{rows[0]['n']} of {expected} events"

    def send_until_dead(self, part: Callable[[], Started], timeout_s: float = 120) -> None:
        """Send chunk after chunk until `part()` dies; fail if every chunk landed first."""
        while self.sent < len(self.chunks):
            chunk = self.chunks[self.sent]
            send(chunk, self.pipeline.collector.url, batch_size=len(chunk))
            self.sent += 1
            wait_for(lambda: True if not part().alive() else self._landed(), timeout_s, f"chunk {self.sent} in ClickHouse")
            if not part().alive():
                assert self.sent < len(self.chunks), "the fault came with the last chunk: nothing was left to stream past it"
                return
        raise AssertionError(f"{part().name} processed every chunk without reaching its fault point; see {part().log}")

    def send_rest(self) -> None:
        for chunk in self.chunks[self.sent:]:
            send(chunk, self.pipeline.collector.url, batch_size=len(chunk))
        self.sent = len(self.chunks)


def republished(bootstrap: str, suffix: str) -> set[str]:
    """Ids of the run's events the workers published more than once: a batch whose outputs
    reached Kafka but whose states were not saved is processed, and published, again."""
    published = Counter(
        record.value["event"]["event_id"]
        for record in read_topic(bootstrap, SESSIONISED)
        if record.value["kind"] == "event" and (record.value["event"].get("anonymous_id") or "").endswith(suffix)
    )
    return {event_id for event_id, times in published.items() if times > 1}
