"""Segment's own Python SDK, unchanged, sends through the collector into Kafka."""

from __future__ import annotations

import uuid

from segment.analytics.client import Client

from footfall.local.kafka_broker import Broker
from schemas import topics
from tests.support.kafka_reader import read_topic
from tests.support.pipeline import Collector


def test_segment_python_sdk_events_land_in_kafka(kafka: Broker, collector: Collector) -> None:
    run = uuid.uuid4().hex[:10]
    errors: list[Exception] = []
    client = Client(
        write_key="demo_key", host=collector.url, gzip=True, sync_mode=True, max_retries=1,
        on_error=lambda error, batch: errors.append(error),
    )
    client.identify(f"user-{run}", {"email_domain": "example.com", "age": 34})
    client.page(f"user-{run}", name="Pricing", properties={"url": "https://shop.example.com/pricing", "path": "/pricing"})
    client.track(f"user-{run}", "Order Completed", {"order_id": f"o-{run}", "revenue": 42.0, "currency": "usd"})
    client.track(f"user-{run}", "Video Played", {"length_s": 31})
    client.flush()
    assert errors == []

    landed = [r.value for r in read_topic(kafka.bootstrap, topics.EVENTS) if r.value.get("user_id") == f"user-{run}"]
    assert sorted(e["type"] for e in landed) == ["identify", "page_view", "purchase", "track"]
    assert all(e["library_name"] == "analytics-python" for e in landed)
    assert len({e["event_id"] for e in landed}) == 4
    purchase = next(e for e in landed if e["type"] == "purchase")
    assert (purchase["revenue"], purchase["currency"]) == (42.0, "USD")
    assert next(e for e in landed if e["type"] == "page_view")["path"] == "/pricing"
    assert next(e for e in landed if e["type"] == "identify")["traits"]["age"] == 34
