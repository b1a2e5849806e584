"""The broker stopped under load: 503s with Retry-After, then acceptance resumes, and every
event that got a 2xx is in Kafka."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from footfall.local.kafka_broker import Broker
from footfall.local.processes import stop
from schemas import topics
from tests.support.kafka_reader import read_topic
from tests.support.pipeline import new_broker, start_collector
from tests.support.processes import kill


class Load:
    """Senders posting small batches with unique message ids, remembering every answer."""

    def __init__(self, url: str, senders: int = 3):
        self.url = url
        self.answers: list[tuple[float, int, list[str], str | None]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._send, args=(n,), daemon=True) for n in range(senders)]

    def _send(self, sender: int) -> None:
        with httpx.Client(auth=("demo_key", ""), timeout=30) as client:
            sequence = 0
            while not self._stop.is_set():
                ids = [f"s{sender}-{sequence}-{i}" for i in range(10)]
                sequence += 1
                batch = [{"type": "track", "event": "Load", "messageId": m, "anonymousId": f"v{sender}-{i}"} for i, m in enumerate(ids)]
                try:
                    response = client.post(f"{self.url}/v1/batch", json={"batch": batch})
                    answer = (time.monotonic(), response.status_code, ids, response.headers.get("retry-after"))
                except httpx.HTTPError:
                    answer = (time.monotonic(), 0, ids, None)
                with self._lock:
                    self.answers.append(answer)
                time.sleep(0.05)

    def __enter__(self) -> "Load":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)

    def statuses_since(self, moment: float) -> Counter:
        with self._lock:
            return Counter(status for at, status, _, _ in self.answers if at >= moment)

    def wait_for(self, status: int, since: float, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.statuses_since(since)[status] >= 3:
                return
            time.sleep(0.2)
        raise AssertionError(f"no {status} answers within {timeout_s}s: {self.statuses_since(since)}")


def test_broker_outage_gives_503_then_recovers_without_losing_acknowledged_events(tmp_path: Path) -> None:
    broker: Broker = new_broker(tmp_path / "broker")
    collector = start_collector(broker.bootstrap, tmp_path / "collector", FOOTFALL_KAFKA_ACK_TIMEOUT_S="2")
    try:
        with Load(collector.url) as load:
            load.wait_for(200, 0, 30)
            assert broker.process is not None
            kill(broker.process)
            stopped_at = time.monotonic()
            load.wait_for(503, stopped_at, 30)
            broker.start()
            restarted_at = time.monotonic()
            load.wait_for(200, restarted_at, 90)

        assert set(load.statuses_since(0)) <= {200, 503}
        assert all(retry == "5" for _, status, _, retry in load.answers if status == 503)
        acknowledged = {m for _, status, ids, _ in load.answers if status == 200 for m in ids}
        in_kafka = [r.value["event_id"] for r in read_topic(broker.bootstrap, topics.EVENTS)]
        assert acknowledged <= set(in_kafka), f"{len(acknowledged - set(in_kafka))} acknowledged events are missing"
        # Before the outage nothing was sent twice.
        counts = Counter(in_kafka)
        first_failure = min(at for at, status, _, _ in load.answers if status == 503)
        before = {m for at, status, ids, _ in load.answers if status == 200 and at < first_failure for m in ids}
        assert before and all(counts[m] == 1 for m in before)
    finally:
        stop(collector.process)
        broker.stop()
