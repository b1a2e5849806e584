"""What one delivery sends: the JSON body, its signature and the headers, built without I/O.

The delivery id is derived from the change and the hook, never drawn at random, so every
attempt and every redelivery after a crash carries the same id and a receiver can tell a
change it has already acted on.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from infra.config import Webhook
from schemas.webhooks import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, SIGNATURE_PREFIX
from webhooks.changes import Change

USER_AGENT = "footfall-webhooks/1"


@dataclass(frozen=True)
class Delivery:
    """One change for one hook: where it goes and exactly what is sent."""

    url: str
    delivery_id: str
    event: str
    body: bytes
    headers: dict[str, str]


def delivery_id(hook: Webhook, change: Change) -> str:
    """A UUID-shaped digest of the hook's address and the change's identity."""
    digest = hashlib.sha256(f"{hook.url}\x00{change.identity}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16]))


def signature(secret: str, body: bytes) -> str:
    """`sha256=` and the hex HMAC-SHA256 of the body keyed with the hook's secret."""
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def iso_time(moment_ms: int) -> str:
    return datetime.fromtimestamp(moment_ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def body(change: Change, identifier: str) -> bytes:
    return orjson.dumps({
        "id": identifier,
        "event": change.event,
        "site_id": change.site_id,
        "customer_id": change.customer_id,
        "anonymous_id": change.anonymous_id,
        change.kind: change.subject,
        "change": change.event.rsplit("_", 1)[1],
        "at": iso_time(change.at_ms),
        "rule": change.rule,
    })


def delivery(hook: Webhook, change: Change) -> Delivery:
    identifier = delivery_id(hook, change)
    content = body(change, identifier)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature(hook.secret, content),
        DELIVERY_HEADER: identifier,
        EVENT_HEADER: change.event,
    }
    return Delivery(hook.url, identifier, change.event, content, headers)
