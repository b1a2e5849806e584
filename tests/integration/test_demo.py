"""The demo against the real collector and broker: every intended event lands once, as
the behaviour it was meant to be, at the moment it was meant to happen."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from footfall.demo import generate, send
from footfall.local.kafka_broker import Broker
from schemas import topics
from tests.support.pipeline import Collector
from tests.support.kafka_reader import read_topic

# A seed of its own: message ids follow from the seed, and the topic is shared by the session's tests.
SEED = 90210
EXPECTED_TYPE = {
    ("page", None): "page_view",
    ("track", "Element Clicked"): "click",
    ("track", "Page Scrolled"): "scroll",
    ("track", "Order Completed"): "purchase",
    ("identify", None): "identify",
    ("track", "Page Engaged"): "track",
    ("track", "Product Added"): "track",
    ("track", "Checkout Started"): "track",
    ("track", "Survey Responded"): "track",
}


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_demo_traffic_lands_once_each_at_its_intended_time(kafka: Broker, collector: Collector) -> None:
    now = datetime.now(UTC)
    messages, plan = generate(now, visitors=20, days=7, seed=SEED)
    summary = send(messages, collector.url, write_key="demo_key", batch_size=50)

    assert (summary.accepted, summary.rejected, summary.errors) == (plan.events, 0, ())
    assert summary.batches == -(-plan.events // 50)

    intended = {m["messageId"]: m for m in messages}
    landed = [r for r in read_topic(kafka.bootstrap, topics.EVENTS) if r.value["event_id"] in intended]
    copies = Counter(r.value["event_id"] for r in landed)
    assert set(copies) == set(intended), "every message landed"
    assert set(copies.values()) == {1}, "and only once"

    # The sender posts in time order, 50 at a time: the batch each message went in.
    batch_of = {m["messageId"]: index // 50 for index, m in enumerate(messages)}
    stamps: dict[int, set[tuple[str, str]]] = defaultdict(set)
    partitions: dict[bytes, set[int]] = defaultdict(set)
    for record in landed:
        event = record.value
        message = intended[event["event_id"]]
        assert event["type"] == EXPECTED_TYPE[(message["type"], message.get("event"))]
        assert (event["anonymous_id"], event["user_id"]) == (message["anonymousId"], message.get("userId"))
        # The browser's anonymous id keys every event, before and after identify.
        assert (event["site_id"], record.key) == ("demo", f"demo:{message['anonymousId']}".encode())
        partitions[record.key].add(record.partition)

        # The device's clock said `timestamp` when it happened and `sentAt` when it sent;
        # the collector puts the event that long before it received the batch. So `ts` is
        # the intended moment moved by the request's transit time (received_at - sentAt),
        # which the server cannot tell from clock skew: exactly that, to the microsecond.
        happened = moment(message["timestamp"])
        sent_at, received_at, ts = moment(event["sent_at"]), moment(event["received_at"]), moment(event["ts"])
        assert moment(event["client_ts"]) == happened
        assert ts == received_at - (sent_at - happened)
        assert ts - happened == received_at - sent_at
        assert sent_at >= happened, "sentAt is stamped when sending, after every event it carries"
        stamps[batch_of[event["event_id"]]].add((event["sent_at"], event["received_at"]))

    # One sentAt and one receipt per request: the shift is the same for every event of a
    # batch, so the gaps between a batch's events are kept exactly.
    assert len(stamps) == summary.batches
    assert all(len(pairs) == 1 for pairs in stamps.values())
    assert len({received for pairs in stamps.values() for _, received in pairs}) == summary.batches

    assert len(partitions) == plan.visitors and all(len(p) == 1 for p in partitions.values())
    assert any(m.get("userId") for m in messages), "some visitors identified on the way"

    kinds = Counter(r.value["type"] for r in landed)
    intended_kinds = Counter({"page_view": plan.page_views, "click": plan.clicks, "scroll": plan.scrolls,
                              "purchase": plan.purchases, "identify": plan.identifies,
                              "track": plan.engagements + plan.cart_adds + plan.checkouts + plan.survey_answers})
    assert kinds == +intended_kinds  # unary plus: without kinds the plan has none of
    revenue = sum(r.value["revenue"] for r in landed if r.value["type"] == "purchase")
    assert revenue == pytest.approx(plan.revenue, abs=0.005)
    assert len({r.value["anonymous_id"] for r in landed}) == plan.visitors

    landings = [r.value for r in landed if r.value["type"] == "page_view"
                and intended[r.value["event_id"]]["context"].get("campaign")]
    for event in landings:
        campaign = intended[event["event_id"]]["context"]["campaign"]
        assert (event["utm_source"], event["utm_medium"], event["utm_campaign"]) == (
            campaign["source"], campaign["medium"], campaign["name"])
    assert all(r.value["ip"].endswith(".0") and r.value["library_name"] == "footfall-demo" for r in landed)
    earliest = min(moment(r.value["client_ts"]) for r in landed)
    assert now - timedelta(days=7) <= earliest
