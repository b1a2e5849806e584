"""Turning an HTTP request body into Segment messages, without any I/O.

Request-level faults (not gzip, not JSON, wrong shape, too big, unknown key) raise
RequestError, which the handler turns into a status and a JSON body. Message-level faults
inside a batch do not fail the request: the message is set aside with its reason, so the
valid ones are still accepted.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import ValidationError

from schemas.wire import MESSAGE, MESSAGE_TYPES, Message

BATCH_ENDPOINT = "batch"


class RequestError(Exception):
    """A request that cannot be accepted at all, with the status that says why."""

    def __init__(
        self,
        status: int,
        error: str,
        detail: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        **more: Any,
    ):
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail
        self.field = field
        self.headers = headers or {}
        # Further fields of the answer's body, such as the limit a 429 names.
        self.more = more

    def body(self) -> dict[str, Any]:
        answer: dict[str, Any] = {"success": False, "error": self.error, "detail": self.detail, **self.more}
        if self.field is not None:
            answer["field"] = self.field
        return answer


def too_large(limit: int) -> RequestError:
    return RequestError(413, "payload_too_large", f"the body is over the limit of {limit} bytes")


def decode_body(body: bytes, content_encoding: str | None, limit: int) -> bytes:
    """The body as sent, unzipped when it says gzip; the limit holds after unzipping too,
    so a small compressed body cannot expand into an unbounded one."""
    if len(body) > limit:
        raise too_large(limit)
    encoding = (content_encoding or "identity").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        raise RequestError(415, "unsupported_encoding", f"Content-Encoding {encoding!r} is not supported; use gzip")
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        plain = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise RequestError(400, "invalid_gzip", f"the body says gzip but is not gzip data: {exc}") from None
    if len(plain) > limit or inflater.unconsumed_tail:
        raise too_large(limit)
    if not inflater.eof:
        raise RequestError(400, "invalid_gzip", "the gzip data ends early")
    if inflater.unused_data:
        # No SDK sends several gzip members; bytes after the first would go unread.
        raise RequestError(400, "invalid_gzip", "the body holds data after the end of its gzip stream")
    return plain


def parse_json_object(body: bytes) -> dict[str, Any]:
    if not body:
        raise RequestError(400, "invalid_json", "the body is empty; send a JSON object")
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RequestError(400, "invalid_json", f"the body is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise RequestError(400, "invalid_shape", "the body must be a JSON object")
    return payload


def write_key_from(authorization: str | None, payload: dict[str, Any]) -> str | None:
    """The write key: the HTTP Basic user name (Segment SDKs), else `writeKey` in the body."""
    if authorization:
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() == "basic" and credentials:
            try:
                user = base64.b64decode(credentials.strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                raise RequestError(400, "invalid_authorization", "the Basic credentials are not base64") from None
            key = user.partition(":")[0]
            if key:
                return key
    key = payload.get("writeKey")
    return key if isinstance(key, str) and key else None


@dataclass(frozen=True)
class Carried:
    """The messages a request carries, and what a batch shares with each of them."""

    messages: list[Any]
    shared_context: dict[str, Any]
    sent_at: Any = None

    def merged(self, index: int) -> Any:
        """Message `index` with the batch's `context` and `sentAt` filling in what it leaves
        out: Segment SDKs put `sentAt` (and sometimes `context`) on the batch."""
        message = self.messages[index]
        if not isinstance(message, dict) or (not self.shared_context and self.sent_at is None):
            return message
        own = message.get("context")
        merged = {**message, "context": {**self.shared_context, **own} if isinstance(own, dict) else self.shared_context}
        if self.sent_at is not None and merged.get("sentAt") is None:
            merged["sentAt"] = self.sent_at
        return merged


def carried_messages(endpoint: str, payload: dict[str, Any], max_messages: int) -> Carried:
    """`batch` for /v1/batch, else the body itself, whose type the endpoint implies
    (/v1/track carries a track call). A batch of more than `max_messages` is refused whole."""
    if endpoint != BATCH_ENDPOINT:
        return Carried([{**payload, "type": payload.get("type") or endpoint}], {})
    batch = payload.get("batch")
    if not isinstance(batch, list):
        raise RequestError(400, "invalid_shape", "`batch` must be a list of messages", field="batch")
    if len(batch) > max_messages:
        raise RequestError(
            413, "too_many_messages", f"the batch holds {len(batch)} messages, over the limit of {max_messages}", field="batch"
        )
    shared = payload.get("context")
    return Carried(batch, shared if isinstance(shared, dict) else {}, payload.get("sentAt"))


def describe_error(error: ValidationError, within: str | None = None) -> str:
    """The first problem, named by its field path: `properties.x: Input should be a number`.
    `within` names the part of the message that was validated on its own."""
    first = error.errors(include_url=False)[0]
    location = [str(part) for part in first["loc"]]
    if location and location[0] in MESSAGE_TYPES:
        location = location[1:]  # the discriminator's tag, not a field the sender wrote
    if within:
        location.insert(0, within)
    message = first["msg"].removeprefix("Value error, ")
    return f"{'.'.join(location)}: {message}" if location else message


@dataclass(frozen=True)
class Rejected:
    index: int
    reason: str
    raw: Any


def validate_message(raw: Any) -> Message:
    """One Segment message, or ValueError with a reason that names the field."""
    if not isinstance(raw, dict):
        raise ValueError("a message must be a JSON object")
    kind = raw.get("type")
    if kind not in MESSAGE_TYPES:
        raise ValueError(f"type: must be one of {', '.join(MESSAGE_TYPES)}, got {kind!r}")
    try:
        return MESSAGE.validate_python(raw)
    except ValidationError as exc:
        raise ValueError(describe_error(exc)) from None


def validate_messages(raws: Iterable[tuple[int, Any]]) -> tuple[list[tuple[int, Message]], list[Rejected]]:
    """Each (index, message) validated on its own: the invalid ones set aside with their reason."""
    accepted: list[tuple[int, Message]] = []
    rejected: list[Rejected] = []
    for index, raw in raws:
        try:
            accepted.append((index, validate_message(raw)))
        except ValueError as exc:
            rejected.append(Rejected(index, str(exc), raw))
    return accepted, rejected
