"""Every kind of bad request gets a clear status and a JSON body naming what is wrong."""

from __future__ import annotations

import gzip

import httpx
import orjson
import pytest

from tests.support.pipeline import Collector

AUTH = ("demo_key", "")


def post(collector: Collector, path: str, content: bytes, headers: dict[str, str] | None = None, auth=AUTH) -> httpx.Response:
    return httpx.post(f"{collector.url}{path}", content=content, headers=headers or {}, auth=auth)


@pytest.mark.parametrize(
    ("content", "headers", "status", "error", "detail_part"),
    [
        (b"{not json", {}, 400, "invalid_json", "not JSON"),
        (b"", {}, 400, "invalid_json", "empty"),
        (b"[1, 2]", {}, 400, "invalid_shape", "JSON object"),
        (b"plain text", {"Content-Encoding": "gzip"}, 400, "invalid_gzip", "not gzip"),
        (gzip.compress(b'{"batch": [')[:-4], {"Content-Encoding": "gzip"}, 400, "invalid_gzip", "gzip"),
        (b'{"batch": {"type": "track"}}', {}, 400, "invalid_shape", "`batch` must be a list"),
        (b'{"batch": []}', {"Content-Encoding": "br"}, 415, "unsupported_encoding", "gzip"),
    ],
)
def test_malformed_bodies_get_400(collector: Collector, content, headers, status, error, detail_part) -> None:
    response = post(collector, "/v1/batch", content, headers)
    assert response.status_code == status
    body = response.json()
    assert body["success"] is False and body["error"] == error
    assert detail_part in body["detail"]


def test_wrong_shape_names_the_field(collector: Collector) -> None:
    response = post(collector, "/v1/track", orjson.dumps({"anonymousId": "a"}))
    assert response.status_code == 400
    assert response.json()["detail"].startswith("event:")

    response = post(collector, "/v1/batch", orjson.dumps({"batch": []}) , {})
    assert response.status_code == 200

    response = post(collector, "/v1/batch", orjson.dumps({"batch": "nope"}))
    assert response.json()["field"] == "batch"


def test_unknown_or_missing_write_key_is_401(collector: Collector) -> None:
    body = orjson.dumps({"batch": []})
    unknown = post(collector, "/v1/batch", body, auth=("nobody", ""))
    assert unknown.status_code == 401 and unknown.json()["error"] == "unknown_write_key"
    missing = post(collector, "/v1/batch", body, auth=None)
    assert missing.status_code == 401 and missing.json()["error"] == "missing_write_key"


def test_body_over_the_limit_is_413(collector: Collector) -> None:
    big = orjson.dumps({"batch": [{"type": "track", "event": "x" * 100, "anonymousId": "a", "properties": {"pad": "y" * 10_000}}] * 60})
    assert len(big) > 512 * 1024
    assert post(collector, "/v1/batch", big).status_code == 413
    # The limit holds after unzipping too: a small gzip body cannot expand past it.
    bomb = gzip.compress(big)
    assert len(bomb) < 512 * 1024
    response = post(collector, "/v1/batch", bomb, {"Content-Encoding": "gzip"})
    assert response.status_code == 413 and response.json()["error"] == "payload_too_large"


def test_unknown_endpoint_is_404(collector: Collector) -> None:
    assert post(collector, "/v1/alias", b"{}").status_code == 404


def test_cors_is_decided_per_site(collector: Collector) -> None:
    local = {"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"}
    preflight = httpx.options(f"{collector.url}/v1/batch", headers=local)
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "http://localhost:3000"

    evil = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    assert httpx.options(f"{collector.url}/v1/batch", headers=evil).status_code == 403

    body = orjson.dumps({"batch": []})
    refused = post(collector, "/v1/batch", body, {"Origin": "https://evil.example"})
    assert refused.status_code == 403 and refused.json()["error"] == "origin_not_allowed"
    allowed = post(collector, "/v1/batch", body, {"Origin": "http://127.0.0.1:5500"})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "http://127.0.0.1:5500"
