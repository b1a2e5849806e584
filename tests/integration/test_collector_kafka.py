"""The collector against the real broker: what is acknowledged is in Kafka, once, as sent."""

from __future__ import annotations

import gzip
import uuid
from datetime import datetime

import httpx
import orjson

from footfall.local.kafka_broker import Broker
from schemas import topics
from tests.support.kafka_reader import read_topic
from tests.support.pipeline import Collector

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
AUTH = ("demo_key", "")


def run_id() -> str:
    return uuid.uuid4().hex[:12]


def crafted_batch(run: str) -> list[dict]:
    visitor = f"anon-{run}"
    context = {
        "userAgent": IPHONE,
        "ip": "86.128.12.77",
        "page": {"url": "https://shop.example.com/p/1?utm_source=news&utm_medium=email&utm_campaign=fall", "path": "/p/1"},
    }
    return [
        {"type": "page", "messageId": f"{run}-page", "anonymousId": visitor, "context": context,
         "properties": {"title": "Shoe"}, "timestamp": "2026-11-22T10:00:00.000Z", "sentAt": "2026-11-22T10:00:02.000Z"},
        {"type": "track", "event": "Element Clicked", "messageId": f"{run}-click", "anonymousId": visitor, "context": context,
         "properties": {"selector": "#buy", "tag": "button", "text": "Buy", "x": 120, "y": 640, "page_width": 1280, "page_height": 3000}},
        {"type": "track", "event": "Page Scrolled", "messageId": f"{run}-scroll", "anonymousId": visitor, "context": context,
         "properties": {"depth": 75, "page_height": 3000}},
        {"type": "track", "event": "Order Completed", "messageId": f"{run}-order", "userId": f"user-{run}", "anonymousId": visitor,
         "context": context, "properties": {"order_id": f"o-{run}", "total": 59.5, "currency": "eur", "products": [{"product_id": "p1", "price": 59.5}]}},
        {"type": "identify", "messageId": f"{run}-identify", "userId": f"user-{run}", "anonymousId": visitor,
         "traits": {"plan": "pro"}, "context": context},
        {"type": "track", "event": "Newsletter Signup", "messageId": f"{run}-custom", "anonymousId": visitor,
         "properties": {"list": "weekly"}, "context": context},
    ]


def landed_for(bootstrap: str, run: str, topic: topics.Topic = topics.EVENTS) -> list:
    return [r for r in read_topic(bootstrap, topic) if run in orjson.dumps(r.value).decode()]


def test_every_accepted_event_is_in_kafka_once_with_key_and_fields(kafka: Broker, collector: Collector) -> None:
    run = run_id()
    response = httpx.post(f"{collector.url}/v1/batch", json={"batch": crafted_batch(run)}, auth=AUTH)
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True}

    landed = landed_for(kafka.bootstrap, run)
    by_id = {r.value["event_id"]: r for r in landed}
    assert len(landed) == len(by_id) == 6
    assert {r.value["type"] for r in landed} == {"page_view", "click", "scroll", "purchase", "identify", "track"}

    visitor_key = f"demo:anon-{run}".encode()
    assert by_id[f"{run}-page"].key == visitor_key
    # After identify the browser still sends its anonymous id: same key, same partition.
    assert by_id[f"{run}-order"].key == visitor_key
    assert {r.key for r in landed} == {visitor_key}
    assert len({r.partition for r in landed}) == 1

    page = by_id[f"{run}-page"].value
    assert page["path"] == "/p/1" and page["title"] == "Shoe"
    assert (page["utm_source"], page["utm_medium"], page["utm_campaign"]) == ("news", "email", "fall")
    assert (page["browser"], page["os"], page["device"]) == ("Mobile Safari", "iOS", "mobile")
    assert (page["ip"], page["country"]) == ("86.128.12.0", "GB")
    # Sent two seconds after it happened: the event time is two seconds before receipt.
    lag = datetime.fromisoformat(page["received_at"]) - datetime.fromisoformat(page["ts"])
    assert abs(lag.total_seconds() - 2.0) < 0.001

    click = by_id[f"{run}-click"].value
    assert (click["selector"], click["x"], click["y"], click["page_width"]) == ("#buy", 120, 640, 1280)
    assert by_id[f"{run}-scroll"].value["scroll_pct"] == 75
    order = by_id[f"{run}-order"].value
    assert (order["revenue"], order["currency"], order["order_id"]) == (59.5, "EUR", f"o-{run}")
    assert by_id[f"{run}-identify"].value["traits"] == {"plan": "pro"}
    assert by_id[f"{run}-custom"].value["name"] == "Newsletter Signup"
    assert all(b"86.128.12.77" not in orjson.dumps(r.value) for r in landed)


def test_single_endpoints_gzip_and_body_write_key(kafka: Broker, collector: Collector) -> None:
    run = run_id()
    track = {"event": "Signed Up", "messageId": f"{run}-t", "userId": f"u-{run}", "writeKey": "demo_key"}
    page = {"name": "Home", "messageId": f"{run}-p", "anonymousId": f"a-{run}", "writeKey": "demo_key"}
    identify = {"messageId": f"{run}-i", "userId": f"u-{run}", "traits": {"age": 41}, "writeKey": "demo_key"}
    for endpoint, body in (("track", track), ("page", page), ("identify", identify)):
        response = httpx.post(
            f"{collector.url}/v1/{endpoint}",
            content=gzip.compress(orjson.dumps(body)),
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        )
        assert response.status_code == 200, response.text

    types = sorted(r.value["type"] for r in landed_for(kafka.bootstrap, run))
    assert types == ["identify", "page_view", "track"]


def test_partly_invalid_batch_accepts_the_valid_and_dead_letters_the_rest(kafka: Broker, collector: Collector) -> None:
    run = run_id()
    good = {"type": "track", "event": "Ok", "messageId": f"{run}-good", "anonymousId": f"a-{run}"}
    no_visitor = {"type": "track", "event": "Lost", "messageId": f"{run}-novisitor"}
    bad_click = {"type": "track", "event": "Element Clicked", "messageId": f"{run}-badclick", "anonymousId": f"a-{run}",
                 "properties": {"selector": "#x", "x": "left", "y": 1}}
    response = httpx.post(f"{collector.url}/v1/batch", json={"batch": [no_visitor, good, bad_click]}, auth=AUTH)

    assert response.status_code == 200
    answer = response.json()
    assert (answer["accepted"], answer["rejected"]) == (1, 2)
    assert [e["index"] for e in answer["errors"]] == [0, 2]
    assert "anonymousId or userId is required" in answer["errors"][0]["reason"]
    assert answer["errors"][1]["reason"].startswith("properties.x:")

    assert [r.value["event_id"] for r in landed_for(kafka.bootstrap, run)] == [f"{run}-good"]
    dead = landed_for(kafka.bootstrap, run, topics.DEAD_LETTER)
    assert len(dead) == 2
    reasons = {orjson.loads(d.value["raw"])["messageId"]: d.value["reason"] for d in dead}
    assert "anonymousId or userId" in reasons[f"{run}-novisitor"]
    assert reasons[f"{run}-badclick"].startswith("properties.x:")
    assert all(d.value["site_id"] == "demo" and d.value["endpoint"] == "batch" for d in dead)


def test_metrics_health_and_readiness(collector: Collector) -> None:
    assert httpx.get(f"{collector.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{collector.url}/readyz")
    assert ready.status_code == 200 and ready.json()["kafka"] == "reachable"
    httpx.post(f"{collector.url}/v1/track", json={"event": "M", "anonymousId": "m"}, auth=AUTH)
    text = httpx.get(f"{collector.url}/metrics").text
    assert 'footfall_collector_events_accepted_total{site="demo",type="track"}' in text
    assert 'footfall_collector_requests_total{endpoint="track",status="200"}' in text
    assert "footfall_collector_kafka_produce_duration_seconds_bucket" in text
