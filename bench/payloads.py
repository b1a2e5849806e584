"""Realistic Segment batches for load tests: page views, clicks, scrolls and purchases
with the context a browser SDK sends."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36",
)
PATHS = ("/", "/pricing", "/docs", "/blog/launch", "/product/shoes", "/cart", "/checkout")


def message(rng: random.Random, visitor: str, now: datetime) -> dict[str, Any]:
    path = rng.choice(PATHS)
    url = f"https://shop.example.com{path}"
    base: dict[str, Any] = {
        "messageId": str(uuid.UUID(int=rng.getrandbits(128))),
        "anonymousId": visitor,
        "timestamp": (now - timedelta(milliseconds=rng.randint(0, 3000))).isoformat(),
        "context": {
            "page": {"path": path, "url": url, "title": path.strip("/") or "home", "referrer": "https://www.google.com/"},
            "userAgent": rng.choice(USER_AGENTS),
            "ip": f"203.0.113.{rng.randint(1, 254)}",
            "locale": "en-GB",
            "screen": {"width": 1920, "height": 1080},
            "library": {"name": "footfall.js", "version": "0.1.0"},
            "campaign": {"source": "newsletter", "medium": "email", "name": "autumn"},
        },
    }
    kind = rng.random()
    if kind < 0.4:
        return {**base, "type": "page", "properties": {"path": path, "url": url}}
    if kind < 0.75:
        props = {"selector": "main > div.card:nth-of-type(2) > a.btn", "tag": "a", "text": "Buy now",
                 "x": rng.randint(0, 1900), "y": rng.randint(0, 4000), "page_width": 1920, "page_height": 4200,
                 "viewport_width": 1920, "viewport_height": 1080}
        return {**base, "type": "track", "event": "Element Clicked", "properties": props}
    if kind < 0.95:
        return {**base, "type": "track", "event": "Page Scrolled", "properties": {"depth": rng.choice((25, 50, 75, 100)), "page_height": 4200}}
    order = {"order_id": str(uuid.UUID(int=rng.getrandbits(128))), "revenue": round(rng.uniform(5, 300), 2),
             "currency": "EUR", "products": [{"product_id": "sku-1", "price": 20.0, "quantity": 1}]}
    return {**base, "type": "track", "event": "Order Completed", "properties": order}


def batch(rng: random.Random, size: int = 50, visitors: int = 1000) -> dict[str, Any]:
    now = datetime.now(UTC)
    messages = [message(rng, f"visitor-{rng.randrange(visitors)}", now) for _ in range(size)]
    return {"batch": messages, "sentAt": now.isoformat()}
