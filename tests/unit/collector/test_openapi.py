"""The collector's OpenAPI description is valid OpenAPI 3.1, names exactly the routes the app
has, allows only messages the collector's validation accepts, refuses what it refuses, and
documents every answer the collector gives with the body it really has."""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterable
from typing import Any

import orjson
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from starlette.routing import Route
from starlette.testclient import TestClient

from collector.app import ENDPOINTS, create_app
from collector.openapi import ERROR_CODES, describe
from collector.parsing import validate_message
from infra.config import Settings
from infra.kafka.publisher import KafkaUnavailable, Record

SETTINGS = Settings()
DOCUMENT = describe(SETTINGS)
AUTH = {"Authorization": "Basic " + base64.b64encode(b"demo_key:").decode()}


class StubPublisher:
    """Stands in for Kafka: acknowledges, or fails as it was told to."""

    def __init__(self, failure: Exception | None = None):
        self.failure = failure

    async def publish(self, records: Iterable[Record]) -> None:
        if self.failure is not None:
            raise self.failure


def client(failure: Exception | None = None) -> TestClient:
    return TestClient(create_app(SETTINGS, StubPublisher(failure)), raise_server_exceptions=False)  # type: ignore[arg-type]


def validator(schema: dict[str, Any]) -> Draft202012Validator:
    """A JSON Schema validator for `schema`, its references resolved within the description."""
    root = {**schema, "components": DOCUMENT["components"]}
    return Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)


def test_the_description_is_valid_openapi() -> None:
    validate(DOCUMENT)


def test_it_names_exactly_the_routes_the_app_has() -> None:
    app = create_app(SETTINGS, StubPublisher())  # type: ignore[arg-type]
    routes = set()
    for route in app.routes:
        assert isinstance(route, Route)
        paths = [route.path.replace("{endpoint}", name) for name in ENDPOINTS] if "{endpoint}" in route.path else [route.path]
        routes |= {(path, method.lower()) for path in paths for method in route.methods or () if method != "HEAD"}
    described = {(path, method) for path, operations in DOCUMENT["paths"].items() for method in operations}
    assert described == routes


def test_the_app_serves_it() -> None:
    answer = client().get("/openapi.json")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    assert answer.json() == DOCUMENT


def test_the_batch_bound_is_the_configured_one() -> None:
    described = describe(Settings(limits={"max_messages": 7}))["components"]["schemas"]["BatchRequest"]
    assert described["properties"]["batch"]["maxItems"] == 7


@pytest.mark.parametrize("kind", ["track", "page", "identify"])
def test_every_message_the_description_allows_the_collector_accepts(kind: str) -> None:
    operation = schemathesis.openapi.from_dict(DOCUMENT)[f"/v1/{kind}"]["POST"]

    @seed(12)
    @settings(max_examples=80, database=None, phases=[Phase.generate], deadline=None, suppress_health_check=list(HealthCheck))
    @given(operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    def accepted(case: Any) -> None:
        validate_message({"type": kind, **case.body})

    accepted()


REFUSED_MESSAGES = [
    {"type": "track", "event": "E"},  # no visitor
    {"type": "track", "event": "E", "anonymousId": ""},
    {"type": "track", "anonymousId": "a"},  # no event
    {"type": "track", "event": "e" * 201, "anonymousId": "a"},
    {"type": "page", "anonymousId": "a" * 201},
    {"type": "page", "anonymousId": "a", "properties": []},
    {"type": "page", "anonymousId": "a", "context": "x"},
    {"type": "identify", "userId": "u", "traits": "x"},
    {"type": "identify", "userId": "u", "timestamp": "yesterday"},
    {"type": "alias", "userId": "u"},
    ["not", "a", "message"],
]


@pytest.mark.parametrize("message", REFUSED_MESSAGES, ids=lambda message: orjson.dumps(message).decode()[:60])
def test_what_the_collector_refuses_the_description_refuses(message: Any) -> None:
    with pytest.raises(ValueError):
        validate_message(message)
    assert not validator({"$ref": "#/components/schemas/Message"}).is_valid(message)


def batch(*messages: dict) -> bytes:
    return orjson.dumps({"batch": list(messages)})


VALID = {"type": "track", "event": "E", "anonymousId": "a", "messageId": "m"}
TOO_MANY = b'{"batch":[' + b",".join([b'{"type":"page","anonymousId":"a"}'] * (SETTINGS.limits.max_messages + 1)) + b"]}"
WIDE = orjson.dumps({"batch": [{"type": "page", "anonymousId": "a"}] * 400, "context": {"page": {"title": "t" * 8000, "path": "p" * 8000}}})
# One request for each answer the collector gives: (path, body, extra headers, publisher failure).
ANSWERS = {
    "200 accepted": ("/v1/batch", batch(VALID), {}, None),
    "200 partial": ("/v1/batch", batch(VALID, {"type": "track"}), {}, None),
    "200 do_not_track": ("/v1/batch", batch(VALID), {"DNT": "1"}, None),
    "invalid_json": ("/v1/batch", b"{", {}, None),
    "invalid_gzip": ("/v1/batch", b"not gzip", {"Content-Encoding": "gzip"}, None),
    "invalid_shape": ("/v1/batch", b'{"batch": 1}', {}, None),
    "invalid_authorization": ("/v1/batch", batch(VALID), {"Authorization": "Basic !"}, None),
    "invalid_message": ("/v1/track", b'{"anonymousId": "a"}', {}, None),
    "invalid_messages": ("/v1/batch", batch({"type": "track"}), {}, None),
    "missing_write_key": ("/v1/batch", batch(VALID), {"Authorization": ""}, None),
    "unknown_write_key": ("/v1/batch", batch(VALID), {"Authorization": "Basic " + base64.b64encode(b"nobody:").decode()}, None),
    "origin_not_allowed": ("/v1/batch", batch(VALID), {"Origin": "https://evil.example"}, None),
    "payload_too_large": ("/v1/batch", gzip.compress(b" " * (SETTINGS.max_body_bytes + 1)), {"Content-Encoding": "gzip"}, None),
    "too_many_messages": ("/v1/batch", TOO_MANY, {}, None),
    "output_too_large": ("/v1/batch", WIDE, {}, None),
    "unsupported_encoding": ("/v1/batch", batch(VALID), {"Content-Encoding": "br"}, None),
    "internal": ("/v1/batch", batch(VALID), {}, RuntimeError("a fault of the collector's own")),
    "kafka_unavailable": ("/v1/batch", batch(VALID), {}, KafkaUnavailable("no acknowledgement")),
}


def test_every_documented_error_code_has_a_request_here() -> None:
    documented = {code for codes in ERROR_CODES.values() for code in codes}
    assert documented == {name for name in ANSWERS if not name.startswith("200")}


@pytest.mark.parametrize("name", list(ANSWERS))
def test_each_answer_is_documented_with_its_body(name: str) -> None:
    path, body, headers, failure = ANSWERS[name]
    answer = client(failure).post(path, content=body, headers={**AUTH, **headers})
    responses = DOCUMENT["paths"][path]["post"]["responses"]
    assert str(answer.status_code) in responses, answer.text
    documented = responses[str(answer.status_code)]
    errors = sorted(validator(documented["content"]["application/json"]["schema"]).iter_errors(answer.json()), key=str)
    assert not errors, f"{answer.status_code} {answer.text}: {errors[0].message}"
    if not name.startswith("200"):
        assert answer.json()["error"] == name
    if answer.status_code in (429, 503):
        assert "Retry-After" in documented["headers"] and "retry-after" in answer.headers
