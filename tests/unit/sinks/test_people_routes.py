"""The sink's /people routes: strict bodies, the export streamed, no erasure without Kafka."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from starlette.testclient import TestClient

from infra.clickhouse.embedded import EmbeddedClickHouse
from infra.clickhouse.migrations import migrate
from infra.config import Settings
from infra.keys import sink_token
from sinks.app import create_app
from sinks.service import Writer

EVENT = {"event_id": "e1", "site_id": "shop", "type": "page_view", "name": "Page Viewed", "ts": "2026-11-30 10:00:00.000",
         "received_at": "2026-11-30 10:00:00.000", "anonymous_id": "a'\\1", "user_id": "", "path": "/", "version": 1}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[TestClient, EmbeddedClickHouse]]:
    backend = EmbeddedClickHouse(tmp_path / "clickhouse")
    migrate(backend)
    backend.insert("footfall.events", [EVENT])
    # A port nothing listens on: Kafka is down.
    settings = Settings(state_dir=tmp_path, kafka_bootstrap="127.0.0.1:9", kafka_ack_timeout_s=1.0)
    headers = {"Authorization": f"Bearer {sink_token(settings)}"}
    yield TestClient(create_app(settings, Writer(backend)), base_url="http://127.0.0.1", headers=headers), backend
    backend.close()


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[]", b'{"site_id": "shop"}', b'{"site_id": "shop", "anonymous_id": "a", "sql": "1"}',
     b'{"site_id": "shop", "anonymous_id": 1}', b'{"site_id": "shop", "anonymous_id": "' + b"a" * 5000 + b'"}'],
)
def test_a_body_that_is_not_one_request_is_refused_with_the_reason(client, body: bytes) -> None:
    http, _ = client
    for route in ("/people/export", "/people/forget"):
        answer = http.post(route, content=body)
        assert answer.status_code == 400 and answer.json()["error"], (route, answer.text)


def test_the_export_streams_the_persons_document(client) -> None:
    http, _ = client
    answer = http.post("/people/export", json={"site_id": "shop", "anonymous_id": "a'\\1"})
    assert answer.status_code == 200
    document = orjson.loads(answer.content)
    assert [row["event_id"] for row in document["tables"]["events"]] == ["e1"]
    assert document["summary"]["events"] == 1


def test_without_kafka_nothing_is_erased_and_the_answer_says_why(client) -> None:
    http, backend = client
    answer = http.post("/people/forget", json={"site_id": "shop", "anonymous_id": "a'\\1"})
    assert answer.status_code == 503 and "replay" in answer.json()["error"]
    assert backend.query("SELECT count() AS n FROM footfall.events")[0]["n"] == 1
    assert backend.query("SELECT count() AS n FROM footfall.erasure_audit")[0]["n"] == 0
