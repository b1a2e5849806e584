"""The record a delivery given up on leaves in footfall.webhooks.dead: enough to see why and
to send it again by hand (the body exactly as signed; the secret is not in it)."""

from __future__ import annotations

import time

import orjson

from webhooks.delivery import Outcome
from webhooks.payloads import Delivery


def dead_letter(delivery: Delivery, site_id: str, outcome: Outcome) -> bytes:
    return orjson.dumps({
        "site_id": site_id,
        "url": delivery.url,
        "delivery_id": delivery.delivery_id,
        "event": delivery.event,
        "reason": outcome.reason,
        "last_error": outcome.detail,
        "attempts": outcome.attempts,
        "first_attempt_ms": outcome.first_attempt_ms,
        "dead_at_ms": int(time.time() * 1000),
        "body": delivery.body.decode(),
    })
