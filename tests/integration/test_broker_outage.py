"""The broker stopped under load: 503s with Retry-After, then acceptance resumes, every
event that got a 2xx is in Kafka, and each event is in ClickHouse once although its batch
was sent again and again; and a worker and a sink that live through a long outage.

The senders behave as SDKs do: a batch answered 503 is sent again, the same body with the
same messageIds, after the Retry-After, until it is acknowledged. A 503 does not mean the
events were not stored (the collector stopped waiting for Kafka, but its producer delivers
them once the broker is back), so Kafka receives copies, which the pipeline must collapse.
Each batch also carries two events whose derived time (the moment of receipt minus the
wait `sentAt - timestamp`, collector.enrich.event_time) falls just before a UTC midnight
on the first attempt and after it on a resend: one across a day, one across a month (the
same midnight on the first of a month).
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from footfall.local.kafka_broker import Broker
from schemas import topics
from tests.support.kafka_reader import read_topic
from tests.support.pipeline import Pipeline, new_broker, start_pipeline
from tests.support.processes import kill
from tests.support.waiting import wait_for

ACK_TIMEOUT_S = 2
RETRY_AFTER = "5"
# How far before midnight a boundary event's first attempt lands: more than the time a
# request takes to reach the collector, less than a resend's delay (the Retry-After).
BEFORE_MIDNIGHT = timedelta(seconds=2.5)
# A sender gives up a batch it could not get acknowledged for this long (the test then fails).
GIVE_UP_S = 120


@dataclass(frozen=True)
class Answer:
    """One attempt to send a batch and what the collector answered (0: no answer)."""

    at: float
    status: int
    ids: tuple[str, ...]
    retry_after: str | None


def midnights(now: datetime) -> dict[str, datetime]:
    """The last UTC midnight, and the last one that began a month."""
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return {"day": day, "month": day.replace(day=1)}


class Senders:
    """Senders posting small batches with unique message ids, each resending a batch that
    was not acknowledged until it is, remembering every answer."""

    def __init__(self, url: str, senders: int = 3):
        self.url = url
        self.answers: list[Answer] = []
        self.abandoned: list[tuple[str, ...]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._send, args=(n,), daemon=True) for n in range(senders)]

    @staticmethod
    def batch(sender: int, sequence: int) -> dict:
        """Eight plain events and one event for each boundary, with `sentAt` the moment the
        batch is made, so a resend of the same body, received later, has later derived
        times: a boundary event's first attempt lands just before its midnight and a resend
        after it; a plain event stays at midday whenever the test runs."""
        now = datetime.now(UTC)
        plain = [
            {"type": "track", "event": "Load", "messageId": f"plain-{sender}-{sequence}-{i}", "anonymousId": f"v{sender}-{i}",
             "timestamp": (midnights(now)["day"] - timedelta(hours=12)).isoformat()}
            for i in range(8)
        ]
        crossing = [
            {"type": "track", "event": "Late", "messageId": f"{kind}-{sender}-{sequence}", "anonymousId": f"v{sender}-{kind}",
             "timestamp": (midnight - BEFORE_MIDNIGHT).isoformat()}
            for kind, midnight in midnights(now).items()
        ]
        return {"batch": plain + crossing, "sentAt": now.isoformat()}

    def _post(self, client: httpx.Client, body: dict) -> Answer:
        ids = tuple(message["messageId"] for message in body["batch"])
        try:
            response = client.post(f"{self.url}/v1/batch", json=body)
            answer = Answer(time.monotonic(), response.status_code, ids, response.headers.get("retry-after"))
        except httpx.HTTPError:
            answer = Answer(time.monotonic(), 0, ids, None)
        with self._lock:
            self.answers.append(answer)
        return answer

    def _send(self, sender: int) -> None:
        with httpx.Client(auth=("demo_key", ""), timeout=30) as client:
            sequence = 0
            while not self._stop.is_set():
                body = self.batch(sender, sequence)
                sequence += 1
                first = time.monotonic()
                # The same body again, as an SDK retries, even once told to stop.
                while (answer := self._post(client, body)).status != 200:
                    if time.monotonic() - first > GIVE_UP_S:
                        with self._lock:
                            self.abandoned.append(answer.ids)
                        return
                    time.sleep(float(answer.retry_after or 1))
                time.sleep(0.05)

    def __enter__(self) -> "Senders":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(GIVE_UP_S + 30)

    def statuses_since(self, moment: float) -> Counter:
        with self._lock:
            return Counter(answer.status for answer in self.answers if answer.at >= moment)

    def wait_for(self, status: int, since: float, timeout_s: float) -> None:
        wait_for(lambda: self.statuses_since(since)[status] >= 3 or self.statuses_since(since), timeout_s, f"three {status} answers")

    def sent(self, kind: str = "") -> set[str]:
        """The message ids sent, of one kind (plain, day, month) or all."""
        return {m for answer in self.answers for m in answer.ids if m.startswith(kind)}


def kill_and_restart(broker: Broker, senders: Senders, outage_s: float = 0) -> None:
    """With the senders running: the broker killed, down until 503s come back and at least
    `outage_s` seconds have passed, then started again, until 200s come back."""
    senders.wait_for(200, 0, 30)
    assert broker.process is not None
    kill(broker.process)
    stopped_at = time.monotonic()
    senders.wait_for(503, stopped_at, 30)
    wait_for(lambda: time.monotonic() - stopped_at >= outage_s, outage_s + 5, "the outage's end")
    broker.start()
    senders.wait_for(200, time.monotonic(), 90)


@dataclass
class Outage:
    pipeline: Pipeline
    senders: Senders
    in_kafka: list[dict]  # the events topic, record by record


@pytest.fixture(scope="module")
def outage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outage]:
    """A collector on a broker of its own; the broker killed under load and restarted; the
    senders stopped once every batch they made is acknowledged; then the worker and the
    sink started, and every event awaited in ClickHouse."""
    folder: Path = tmp_path_factory.mktemp("outage")
    broker: Broker = new_broker(folder / "broker")
    pipeline = start_pipeline(broker, folder / "stack", workers=0, sink=False, FOOTFALL_KAFKA_ACK_TIMEOUT_S=str(ACK_TIMEOUT_S))
    try:
        with Senders(pipeline.collector.url) as senders:
            kill_and_restart(broker, senders)
        assert not senders.abandoned, f"batches never acknowledged: {senders.abandoned}"
        pipeline.start_worker()
        pipeline.start_sink()
        wait_for(everything_stored(pipeline, senders), 120, "every event in ClickHouse")
        yield Outage(pipeline, senders, [record.value for record in read_topic(broker.bootstrap, topics.EVENTS)])
    finally:
        pipeline.stop()
        broker.stop()


def everything_stored(pipeline: Pipeline, senders: Senders) -> Callable[[], object]:
    """A check for `wait_for` that fails at once if a part of the pipeline has exited."""

    def check() -> object:
        parts = [pipeline.sink, *pipeline.workers]
        exited = [part.log for part in parts if not part.alive()]
        assert not exited, f"parts of the pipeline exited; see {exited}"
        seen = pipeline.query("SELECT uniqExact(event_id) AS n FROM footfall.events")[0]["n"]
        return seen == len(senders.sent()) or f"{seen} of {len(senders.sent())} events"

    return check


def times_stored(outage: Outage, kind: str = "") -> dict[str, list[str]]:
    """For each event of `kind` in footfall.events, the times of its rows under FINAL."""
    rows = outage.pipeline.query(
        f"SELECT event_id, groupArray(toString(ts)) AS times FROM footfall.events FINAL WHERE startsWith(event_id, '{kind}') GROUP BY event_id"
    )
    return {row["event_id"]: row["times"] for row in rows}


def assert_stored_once(outage: Outage, kind: str) -> None:
    stored = times_stored(outage, kind)
    twice = {event_id: times for event_id, times in stored.items() if len(times) > 1}
    assert not twice, f"{len(twice)} of {len(stored)} {kind} events stored more than once: {twice}"


def test_broker_outage_gives_503_then_recovers_without_losing_acknowledged_events(outage: Outage) -> None:
    answers = outage.senders.answers
    assert {answer.status for answer in answers} <= {200, 503}
    assert all(answer.retry_after == RETRY_AFTER for answer in answers if answer.status == 503)
    acknowledged = {m for answer in answers if answer.status == 200 for m in answer.ids}
    in_kafka = Counter(event["event_id"] for event in outage.in_kafka)
    assert acknowledged == outage.senders.sent(), "every batch was resent until acknowledged"
    assert acknowledged <= set(in_kafka), f"{len(acknowledged - set(in_kafka))} acknowledged events are missing"
    # Before the outage nothing was sent twice.
    first_failure = min(answer.at for answer in answers if answer.status == 503)
    before = {m for answer in answers if answer.status == 200 and answer.at < first_failure for m in answer.ids}
    assert before and all(in_kafka[m] == 1 for m in before)


def copies_by(outage: Outage, kind: str, period: slice) -> dict[str, set[str]]:
    """For each event of `kind` in Kafka, the periods (a slice of its ISO time) of its copies."""
    periods: dict[str, set[str]] = defaultdict(set)
    for event in outage.in_kafka:
        if event["event_id"].startswith(kind):
            periods[event["event_id"]].add(event["ts"][period])
    return periods


DAY, MONTH = slice(0, 10), slice(0, 7)


def test_batches_answered_503_reached_kafka_and_their_resends_too(outage: Outage) -> None:
    """What makes the next tests bite: events in Kafka twice, some of them with one copy
    before a midnight and one after it, across a day and across a month."""
    copies = Counter(event["event_id"] for event in outage.in_kafka)
    assert any(times > 1 for times in copies.values())
    for kind, period in (("day", DAY), ("month", MONTH)):
        assert any(len(periods) > 1 for periods in copies_by(outage, kind, period).values()), f"no {kind} event crossed its midnight"


def test_every_event_is_stored_and_a_resent_one_once(outage: Outage) -> None:
    assert set(times_stored(outage)) == outage.senders.sent()
    assert_stored_once(outage, "plain")


# ClickHouse collapses rows with the same sort key within one partition, and footfall.events
# is sorted by (site_id, toDate(ts), event_id) and partitioned by month: copies on two days
# would stay two rows, so the sessioniser publishes a copy it already holds no more.
@pytest.mark.parametrize("kind", ["day", "month"])
def test_an_event_whose_time_crosses_midnight_between_attempts_is_stored_once(outage: Outage, kind: str) -> None:
    assert_stored_once(outage, kind)


# A consumer's session (the sink's: aiokafka's default of 10 s) ends when it cannot reach the
# broker for that long; an outage twice as long ends the sessions of every part.
LONG_OUTAGE_S = 20


def test_the_worker_and_the_sink_outlive_an_outage_longer_than_their_sessions(tmp_path: Path) -> None:
    broker: Broker = new_broker(tmp_path / "broker")
    # Batches the sink keeps open for seconds: one is open, with offsets to commit, when the broker goes.
    pipeline = start_pipeline(
        broker, tmp_path / "stack", FOOTFALL_KAFKA_ACK_TIMEOUT_S=str(ACK_TIMEOUT_S), FOOTFALL_SINK_BATCH_S="5",
        FOOTFALL_PROCESSOR_SESSION_TIMEOUT_S="8",
    )
    try:
        with Senders(pipeline.collector.url) as senders:
            wait_for(lambda: pipeline.query("SELECT count() AS n FROM footfall.events")[0]["n"] > 0, 90, "the first events in ClickHouse")
            kill_and_restart(broker, senders, LONG_OUTAGE_S)
        wait_for(everything_stored(pipeline, senders), 120, "every event in ClickHouse")
    finally:
        pipeline.stop()
        broker.stop()
