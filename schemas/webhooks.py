"""The webhook contract with a site's receivers: the changes a hook can ask for, the headers
every delivery carries, and how the signature is written. Receivers code against these, so
they are defined once here, for the configuration and the deliverer alike."""

from __future__ import annotations

from typing import Literal

SEGMENT_ENTERED = "segment_entered"
SEGMENT_LEFT = "segment_left"
FUNNEL_COMPLETED = "funnel_completed"
WebhookEvent = Literal["segment_entered", "segment_left", "funnel_completed"]
WEBHOOK_EVENTS: tuple[str, ...] = (SEGMENT_ENTERED, SEGMENT_LEFT, FUNNEL_COMPLETED)

# `sha256=<hex HMAC-SHA256 of the body, keyed with the hook's secret>`, as GitHub signs.
SIGNATURE_HEADER = "X-Footfall-Signature"
SIGNATURE_PREFIX = "sha256="
# The same for every attempt and redelivery of one change to one hook: a receiver that
# has seen it already can drop it.
DELIVERY_HEADER = "X-Footfall-Delivery"
EVENT_HEADER = "X-Footfall-Event"
