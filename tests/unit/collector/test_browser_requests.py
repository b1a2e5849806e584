"""What a browser's requests look like to the collector: footfall.js posts its batches as
text/plain (no CORS preflight) with the write key in the body, and browsers may say they do
not want to be tracked."""

from __future__ import annotations

from collections.abc import Iterable

import orjson
import pytest
from starlette.testclient import TestClient

from collector.app import create_app
from collector.privacy import declines_tracking
from infra.kafka.publisher import Record
from infra.config import DEMO_SITE, Settings
from schemas import topics

ORIGIN = "http://localhost:3000"


class RecordingPublisher:
    """Stands in for Kafka in these unit tests: it acknowledges and keeps what it was sent."""

    def __init__(self) -> None:
        self.records: list[Record] = []

    async def publish(self, records: Iterable[Record]) -> None:
        self.records.extend(records)


def batch_body(write_key: str = "demo_key") -> bytes:
    message = {"type": "track", "event": "Signed Up", "anonymousId": "a-1", "messageId": "m-1"}
    return orjson.dumps({"writeKey": write_key, "sentAt": "2026-11-20T09:00:00Z", "batch": [message]})


def post(publisher: RecordingPublisher, headers: dict[str, str], settings: Settings | None = None):
    client = TestClient(create_app(settings or Settings(), publisher))  # type: ignore[arg-type]
    return client.post("/v1/batch", content=batch_body(), headers={"Origin": ORIGIN, **headers})


def test_text_plain_batch_with_the_write_key_in_the_body_is_accepted() -> None:
    publisher = RecordingPublisher()
    answer = post(publisher, {"Content-Type": "text/plain;charset=UTF-8"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"success": True}
    assert answer.headers["access-control-allow-origin"] == ORIGIN
    [record] = publisher.records
    assert record.topic == topics.EVENTS.name
    assert orjson.loads(record.value)["event_id"] == "m-1"


@pytest.mark.parametrize("signal", [{"DNT": "1"}, {"Sec-GPC": "1"}])
def test_do_not_track_and_gpc_are_honoured_by_default(signal: dict[str, str]) -> None:
    publisher = RecordingPublisher()
    answer = post(publisher, {"Content-Type": "text/plain", **signal})
    assert answer.status_code == 200
    assert answer.json() == {"success": True, "accepted": 0, "ignored": 1, "reason": "do_not_track"}
    assert publisher.records == []


def test_a_site_may_choose_to_track_despite_do_not_track() -> None:
    publisher = RecordingPublisher()
    site = DEMO_SITE.model_copy(update={"respect_dnt": False})
    answer = post(publisher, {"DNT": "1", "Sec-GPC": "1"}, Settings(sites=[site]))
    assert answer.json() == {"success": True}
    assert len(publisher.records) == 1


def test_declines_tracking_reads_only_an_explicit_1() -> None:
    assert declines_tracking({"dnt": "1"})
    assert declines_tracking({"sec-gpc": " 1"})
    assert not declines_tracking({"dnt": "0"})
    assert not declines_tracking({})
