"""What a receiver gets: a body it can read, a signature it can check, and one delivery id
per change and hook, the same every time that change is sent."""

from __future__ import annotations

import hashlib
import hmac

import orjson

from infra.config import Webhook
from schemas.webhooks import DELIVERY_HEADER, SIGNATURE_HEADER
from webhooks.changes import Change
from webhooks.payloads import delivery, delivery_id, signature

HOOK = Webhook(url="https://crm.example/hooks/footfall", secret="s3cret-s3cret-s3cret", on=["segment_entered"])
CHANGE = Change("segment_entered", "shop", "anon-1", "U-1", "cart_abandoners", 1_767_225_600_123, "cart and no purchase", "shop\x00anon-1\x00v3")


def test_the_signature_is_the_published_hmac_sha256() -> None:
    # RFC 4231, test case 2, and GitHub's documented webhook example.
    assert signature("Jefe", b"what do ya want for nothing?") == "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert signature("It's a Secret to Everybody", b"Hello, World!") == "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_the_body_names_the_change_and_is_what_was_signed() -> None:
    sent = delivery(HOOK, CHANGE)
    body = orjson.loads(sent.body)
    assert body == {
        "id": sent.delivery_id, "event": "segment_entered", "site_id": "shop", "customer_id": "U-1", "anonymous_id": "anon-1",
        "segment": "cart_abandoners", "change": "entered", "at": "2026-01-01T00:00:00.123Z", "rule": "cart and no purchase",
    }
    expected = "sha256=" + hmac.new(HOOK.secret.encode(), sent.body, hashlib.sha256).hexdigest()
    assert sent.headers[SIGNATURE_HEADER] == expected
    assert sent.headers[DELIVERY_HEADER] == sent.delivery_id


def test_a_funnel_completion_names_the_funnel() -> None:
    completed = Change("funnel_completed", "shop", "anon-1", "anon-1", "checkout", 0, "{}", "x")
    body = orjson.loads(delivery(HOOK, completed).body)
    assert body["funnel"] == "checkout" and body["change"] == "completed" and "segment" not in body


def test_the_delivery_id_is_the_same_for_a_redelivery_and_differs_per_change_and_hook() -> None:
    assert delivery_id(HOOK, CHANGE) == delivery_id(HOOK, Change(*vars(CHANGE).values()))
    other_change = Change(*{**vars(CHANGE), "identity": "shop\x00anon-1\x00v4"}.values())
    other_hook = HOOK.model_copy(update={"url": "https://other.example/hook"})
    assert len({delivery_id(HOOK, CHANGE), delivery_id(HOOK, other_change), delivery_id(other_hook, CHANGE)}) == 3
