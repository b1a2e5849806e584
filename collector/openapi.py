"""GET /openapi.json: the collector's API as an OpenAPI 3.1 description.

Integrators and API fuzzers read it. The message schemas are generated from the wire models
in schemas/wire.py, so the description cannot drift from what the collector validates; the
bounds come from the collector's own settings, so it describes this installation.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import Response

from infra.config import Settings
from schemas.wire import Context, IdentifyMessage, PageMessage, TrackMessage

OPENAPI_VERSION = "3.1.0"
REF = "#/components/schemas/{model}"
MESSAGE_MODELS: dict[str, type[BaseModel]] = {"track": TrackMessage, "page": PageMessage, "identify": IdentifyMessage}
# The error codes each status carries in its JSON body, as the collector answers them.
ERROR_CODES: dict[int, tuple[str, ...]] = {
    400: ("invalid_json", "invalid_gzip", "invalid_shape", "invalid_authorization", "invalid_message", "invalid_messages"),
    401: ("missing_write_key", "unknown_write_key"),
    403: ("origin_not_allowed",),
    413: ("payload_too_large", "too_many_messages", "output_too_large"),
    415: ("unsupported_encoding",),
    500: ("internal",),
    503: ("kafka_unavailable",),
}
STATUS_MEANINGS = {
    400: "The body is not gzip, not JSON, not an object, or holds no valid message.",
    401: "No write key, or one that matches no site.",
    403: "The page's Origin is not allowed by the write key's site.",
    413: "The body, the batch or what its messages would produce is over a bound.",
    415: "A Content-Encoding other than gzip or identity.",
    429: "Over a rate limit; retry after the seconds that Retry-After says.",
    500: "A fault of the collector's own; never caused by what a request holds.",
    503: "Kafka did not acknowledge in time: nothing was stored; retry after Retry-After.",
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before sending again.", "schema": {"type": "integer"}}}


def _visitor_rule(schema: dict[str, Any]) -> dict[str, Any]:
    """What the wire models check in code: a message names its visitor, anonymous or known."""
    named = [{"required": [field], "properties": {field: {"type": "string", "minLength": 1}}} for field in ("anonymousId", "userId")]
    return {**schema, "anyOf": named}


def message_schemas() -> dict[str, Any]:
    """The wire models as JSON Schema, each referring to the others under components."""
    models = [(model, "validation") for model in (*MESSAGE_MODELS.values(), Context)]
    _, generated = models_json_schema(models, by_alias=True, ref_template=REF)
    schemas: dict[str, Any] = generated["$defs"]
    for model in MESSAGE_MODELS.values():
        schemas[model.__name__] = _visitor_rule(schemas[model.__name__])
    mapping = {kind: REF.format(model=model.__name__) for kind, model in MESSAGE_MODELS.items()}
    schemas["Message"] = {
        "oneOf": [{"$ref": ref} for ref in mapping.values()],
        "discriminator": {"propertyName": "type", "mapping": mapping},
    }
    return schemas


def request_schemas(settings: Settings) -> dict[str, Any]:
    """The bodies of the four endpoints: a batch, and one message whose type the path implies."""
    schemas = message_schemas()
    schemas["BatchRequest"] = {
        "type": "object",
        "additionalProperties": True,
        "required": ["batch"],
        "properties": {
            "batch": {"type": "array", "maxItems": settings.limits.max_messages, "items": {"$ref": REF.format(model="Message")}},
            "context": {"$ref": REF.format(model="Context"), "description": "Merged into every message's own context."},
            "sentAt": {"type": "string", "format": "date-time", "description": "When the SDK sent the batch."},
            "writeKey": {"type": "string", "description": "The write key, when not sent as Basic credentials."},
        },
    }
    for kind, model in MESSAGE_MODELS.items():
        single = dict(schemas[model.__name__])
        single["required"] = [field for field in single.get("required", []) if field != "type"]
        schemas[f"{kind.capitalize()}Request"] = {**single, "title": f"{kind.capitalize()}Request"}
    return schemas


def answer_schemas() -> dict[str, Any]:
    refused = {
        "type": "object",
        "properties": {"index": {"type": "integer", "minimum": 0}, "reason": {"type": "string"}},
        "required": ["index", "reason"],
    }
    return {
        "RefusedMessage": refused,
        "Accepted": {
            "type": "object",
            "required": ["success"],
            "properties": {
                "success": {"type": "boolean", "description": "False only when no message was accepted."},
                "accepted": {"type": "integer", "minimum": 0},
                "rejected": {"type": "integer", "minimum": 0},
                "ignored": {"type": "integer", "minimum": 0, "description": "Messages left untracked at the browser's request."},
                "reason": {"type": "string", "enum": ["do_not_track"]},
                "errors": {"type": "array", "items": {"$ref": REF.format(model="RefusedMessage")}},
            },
        },
        "Error": {
            "type": "object",
            "required": ["success", "error", "detail"],
            "properties": {
                "success": {"const": False},
                "error": {"type": "string", "description": "A stable code for the refusal."},
                "detail": {"type": "string", "description": "What is wrong, for a person."},
                "field": {"type": "string", "description": "The field at fault, when one is."},
                "accepted": {"type": "integer", "const": 0},
                "rejected": {"type": "integer", "minimum": 1},
                "errors": {"type": "array", "items": {"$ref": REF.format(model="RefusedMessage")}},
            },
        },
    }


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def error_response(status: int, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"$ref": REF.format(model="Error")}
    if status in ERROR_CODES:
        schema = {"allOf": [schema, {"properties": {"error": {"enum": list(ERROR_CODES[status])}}}]}
    response: dict[str, Any] = {"description": STATUS_MEANINGS[status], "content": _json(schema)}
    if headers:
        response["headers"] = headers
    return response


def tracking_operation(kind: str, settings: Settings) -> dict[str, Any]:
    body = "BatchRequest" if kind == "batch" else f"{kind.capitalize()}Request"
    responses: dict[str, Any] = {
        "200": {
            "description": "Stored in Kafka: every message, or those listed as accepted (the others in `errors`).",
            "content": _json({"$ref": REF.format(model="Accepted")}),
        }
    }
    for status in (400, 401, 403, 413, 415, 429, 500, 503):
        responses[str(status)] = error_response(status, RETRY_AFTER if status in (429, 503) else None)
    return {
        "operationId": f"post_{kind}",
        "summary": f"Send {'a batch of messages' if kind == 'batch' else f'one {kind} call'} (Segment's HTTP Tracking API)",
        "security": [{"writeKey": []}, {}],
        "requestBody": {
            "required": True,
            "description": (
                f"JSON, whatever the Content-Type (browsers send text/plain), or gzip with Content-Encoding: gzip. "
                f"At most {settings.max_body_bytes} bytes, unzipped too; each message at most "
                f"{settings.limits.max_message_bytes} bytes with the batch's context, strings at most "
                f"{settings.limits.max_string_chars} characters, nested at most {settings.limits.max_depth} levels, "
                f"timestamps within {settings.limits.horizon_days} days back and {settings.limits.max_future_s:g} s ahead."
            ),
            "content": _json({"$ref": REF.format(model=body)}),
        },
        "responses": responses,
    }


def preflight_operation(kind: str) -> dict[str, Any]:
    return {
        "operationId": f"preflight_{kind}",
        "summary": "CORS preflight: allowed when some site accepts the Origin",
        "parameters": [{"name": "Origin", "in": "header", "required": False, "schema": {"type": "string"}}],
        "responses": {"204": {"description": "The origin may send."}, "403": {"description": "No site accepts the origin."}},
    }


def status_operation(summary: str, answers: dict[int, tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    responses = {str(status): {"description": text, "content": _json(schema)} for status, (text, schema) in answers.items()}
    return {"get": {"summary": summary, "responses": responses}}


def _status(*values: str) -> dict[str, Any]:
    return {"type": "object", "required": ["status"], "properties": {"status": {"enum": list(values)}, "kafka": {"type": "string"}}}


def service_paths() -> dict[str, Any]:
    script_headers = {"ETag": {"schema": {"type": "string"}}, "Cache-Control": {"schema": {"type": "string"}}}
    return {
        "/healthz": status_operation("The process answers", {200: ("Alive.", _status("ok"))}),
        "/readyz": status_operation(
            "Whether Kafka is reachable, so that events can be stored",
            {200: ("Ready.", _status("ready")), 503: ("Kafka is unreachable.", _status("not_ready"))},
        ),
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics of every collector worker",
                "responses": {"200": {"description": "The text exposition format.", "content": {"text/plain": {"schema": {"type": "string"}}}}},
            }
        },
        "/footfall.js": {
            "get": {
                "summary": "The tracking script, gzip when accepted, revalidated by ETag",
                "parameters": [
                    {"name": "Accept-Encoding", "in": "header", "required": False, "schema": {"type": "string"}},
                    {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": {"description": "The script.", "headers": script_headers, "content": {"text/javascript": {"schema": {"type": "string"}}}},
                    "304": {"description": "Unchanged since the ETag sent."},
                    "404": {"description": "The script has not been built.", "content": _json({"$ref": REF.format(model="Error")})},
                },
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "This description",
                "responses": {"200": {"description": "OpenAPI 3.1.", "content": _json({"type": "object"})}},
            }
        },
    }


def describe(settings: Settings) -> dict[str, Any]:
    """The whole description, for the collector as `settings` configure it."""
    paths: dict[str, Any] = {
        f"/v1/{kind}": {"post": tracking_operation(kind, settings), "options": preflight_operation(kind)}
        for kind in ("batch", *MESSAGE_MODELS)
    }
    paths.update(service_paths())
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "footfall collector",
            "version": "1",
            "description": "Segment's HTTP Tracking API: SDKs and footfall.js send page views, tracks and identifies.",
        },
        "paths": paths,
        "components": {
            "schemas": {**request_schemas(settings), **answer_schemas()},
            "securitySchemes": {
                "writeKey": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "The site's write key as the user name, the password empty (or `writeKey` in the body).",
                }
            },
        },
    }


def openapi_endpoint(settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    document = orjson.dumps(describe(settings))

    async def openapi_json(request: Request) -> Response:
        return Response(document, media_type="application/json")

    return openapi_json
