"""The collector's answer past a rate limit: 429 with the limit named and Retry-After, the
refusal counted, and other senders untouched."""

from __future__ import annotations

from collections.abc import Iterable

import orjson
from prometheus_client import REGISTRY
from starlette.testclient import TestClient

from collector.app import create_app
from infra.config import RateLimits, Settings, Site
from infra.kafka.publisher import Record

SHOP = Site(id="shop", write_key="shop_key", allowed_origins=["https://shop.example"])
BLOG = Site(id="blog", write_key="blog_key")


class Acknowledging:
    """Kafka's stand-in: acknowledges everything and counts the events."""

    def __init__(self) -> None:
        self.events = 0

    async def publish(self, records: Iterable[Record]) -> None:
        self.events += sum(record.topic == "footfall.events" for record in records)


def client(publisher: Acknowledging, peer: str = "203.0.113.1", **limits: object) -> TestClient:
    settings = Settings(sites=[SHOP, BLOG], collector_workers=1, rate_limits=RateLimits(**limits))
    return TestClient(create_app(settings, publisher), client=(peer, 50000))  # type: ignore[arg-type]


def batch(key: str, events: int, run: str) -> bytes:
    messages = [{"type": "track", "event": "Viewed", "anonymousId": run, "messageId": f"{run}-{n}"} for n in range(events)]
    return orjson.dumps({"writeKey": key, "batch": messages})


def refusals(site: str, limit: str) -> float:
    return REGISTRY.get_sample_value("footfall_collector_rate_limited_total", {"site": site, "limit": limit}) or 0.0


def test_past_its_burst_an_address_is_answered_429_naming_the_limit_with_retry_after() -> None:
    publisher = Acknowledging()
    http = client(publisher, address_rate=0.01, address_burst=100)
    before = refusals("shop", "address")
    assert http.post("/v1/batch", content=batch("shop_key", 100, "a")).status_code == 200
    answer = http.post("/v1/batch", content=batch("shop_key", 10, "b"), headers={"Origin": "https://shop.example"})
    assert answer.status_code == 429
    body = answer.json()
    assert (body["success"], body["error"], body["limit"], body["retry_after_s"]) == (False, "rate_limited", "address", 1000)
    assert answer.headers["retry-after"] == "1000"
    assert answer.headers["access-control-allow-origin"] == "https://shop.example"  # a page can read why
    assert refusals("shop", "address") == before + 1
    assert publisher.events == 100


def test_a_site_past_its_write_key_limit_leaves_other_sites_untouched() -> None:
    publisher = Acknowledging()
    http = client(publisher, write_key_rate=0.01, write_key_burst=50)
    before = refusals("shop", "write_key")
    statuses = [http.post("/v1/batch", content=batch("shop_key", 20, f"s{n}")).status_code for n in range(4)]
    assert statuses == [200, 200, 429, 429]
    answer = http.post("/v1/batch", content=batch("shop_key", 20, "s9"))
    assert answer.json()["limit"] == "write_key" and int(answer.headers["retry-after"]) >= 1
    assert http.post("/v1/batch", content=batch("blog_key", 50, "b")).status_code == 200
    assert refusals("shop", "write_key") == before + 3
    assert publisher.events == 90


def forwarded_statuses(http: TestClient) -> list[int]:
    """Two batches that together pass the address burst, said to be from two clients."""
    return [
        http.post("/v1/batch", content=batch("shop_key", 10, f"x{n}"), headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code
        for n in range(2)
    ]


def test_x_forwarded_for_names_the_client_only_from_a_trusted_proxy() -> None:
    limits = {"address_rate": 0.01, "address_burst": 10}
    assert forwarded_statuses(client(Acknowledging(), "10.0.0.2", **limits)) == [200, 429]
    assert forwarded_statuses(client(Acknowledging(), "10.0.0.2", trusted_proxies=["10.0.0.0/8"], **limits)) == [200, 200]
    assert forwarded_statuses(client(Acknowledging(), "203.0.113.1", trusted_proxies=["10.0.0.0/8"], **limits)) == [200, 429]


def test_requests_refused_for_their_content_cost_no_tokens() -> None:
    http = client(Acknowledging(), address_rate=0.01, address_burst=5)
    for _ in range(20):
        assert http.post("/v1/batch", content=b"{not json").status_code == 400
        assert http.post("/v1/batch", content=batch("nobody", 5, "n")).status_code == 401
    assert http.post("/v1/batch", content=batch("shop_key", 5, "ok")).status_code == 200
