"""The demo traffic generator: deterministic, valid, sessions that sessionise as intended,
a plan that matches its messages; and the traffic it gives the benchmarks."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.enrich import RequestMeta, normalise
from collector.geo import Geolocator
from collector.parsing import validate_message
from footfall.demo.catalogue import LOCALES, PAGES, SHOP
from footfall.demo.simulation import KIND_OF, DemoPlan, first_messages, generate, kind_of, realistic_batch
from schemas.event import EventType
from tests.support.demo_traffic import NOW, at

TIMEOUT = timedelta(minutes=30)
LOCATE = Geolocator().locate
NETWORKS = {locale: (network, country) for locale, country, network in LOCALES}
EXPECTED_TYPE = {
    ("page", None): EventType.PAGE_VIEW,
    ("track", "Element Clicked"): EventType.CLICK,
    ("track", "Page Scrolled"): EventType.SCROLL,
    ("track", "Order Completed"): EventType.PURCHASE,
    ("identify", None): EventType.IDENTIFY,
    ("track", "Page Engaged"): EventType.TRACK,
    ("track", "Product Added"): EventType.TRACK,
    ("track", "Checkout Started"): EventType.TRACK,
    ("track", "Survey Responded"): EventType.TRACK,
}

seeds = st.integers(min_value=0, max_value=2**32)
nows = st.datetimes(min_value=datetime(2021, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC))
demo_settings = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def by_visitor(messages: list[dict]) -> dict[str, list[dict]]:
    visitors: dict[str, list[dict]] = defaultdict(list)
    for message in messages:
        visitors[message["anonymousId"]].append(message)
    return visitors


def split_sessions(events: list[dict]) -> list[list[dict]]:
    """A visitor's events cut wherever more than the timeout passes: what a sessioniser does."""
    sessions: list[list[dict]] = []
    for event in events:
        if sessions and at(event) - at(sessions[-1][-1]) <= TIMEOUT:
            sessions[-1].append(event)
        else:
            sessions.append([event])
    return sessions


def is_internal(referrer: str) -> bool:
    return referrer.startswith(SHOP)


@demo_settings
@given(now=nows, visitors=st.integers(0, 25), days=st.integers(1, 10), seed=seeds)
def test_the_same_arguments_give_the_same_messages(now, visitors, days, seed) -> None:
    first = generate(now, visitors=visitors, days=days, seed=seed)
    assert first == generate(now, visitors=visitors, days=days, seed=seed)


def test_another_seed_gives_other_visitors_and_ids() -> None:
    one, _ = generate(NOW, visitors=20, seed=1)
    two, _ = generate(NOW, visitors=20, seed=2)
    assert not {m["messageId"] for m in one} & {m["messageId"] for m in two}
    assert not {m["anonymousId"] for m in one} & {m["anonymousId"] for m in two}


@demo_settings
@given(now=nows, visitors=st.integers(1, 25), days=st.integers(1, 10), seed=seeds)
def test_every_message_is_valid_and_normalises_to_its_behaviour(now, visitors, days, seed) -> None:
    messages, _ = generate(now, visitors=visitors, days=days, seed=seed)
    meta = RequestMeta(site_id="demo", received_at=now, client_ip=None, user_agent=None)
    for message in messages:
        event = normalise(validate_message(message), meta, lambda: pytest.fail("every message carries a messageId"), LOCATE)
        assert event.type == EXPECTED_TYPE[(message["type"], message.get("event"))]
        assert event.event_id == message["messageId"]
        assert event.ts == at(message)  # no sentAt yet: the timestamp as it is
        assert event.anonymous_id == message["anonymousId"]
        assert event.browser and event.os and event.device in {"desktop", "mobile", "tablet"}
        network, country = NETWORKS[message["context"]["locale"]]
        assert event.ip and event.ip.startswith(network + ".") and event.ip.endswith(".0") and event.country == country
        assert event.library_name == "footfall-demo"
        assert event.path and event.url and event.url.startswith(SHOP + event.path)
    assert len({m["messageId"] for m in messages}) == len(messages)


@demo_settings
@given(now=nows, visitors=st.integers(1, 25), days=st.integers(1, 10), seed=seeds)
def test_sessions_split_on_the_timeout_exactly_where_the_visitor_arrived(now, visitors, days, seed) -> None:
    """A session starts with a page view from outside the shop (a referrer, a campaign or
    none) and continues with pages reached from the previous one. Cutting each visitor's
    events at 30 minutes of inactivity must find exactly those sessions: so gaps within a
    session are under the timeout and gaps between sessions over it."""
    messages, plan = generate(now, visitors=visitors, days=days, seed=seed)
    sessions = 0
    for events in by_visitor(messages).values():
        for session in split_sessions(events):
            sessions += 1
            landing, rest = session[0], session[1:]
            assert landing["type"] == "page"
            assert not is_internal(landing["properties"]["referrer"])
            previous_url = landing["properties"]["url"]
            for earlier, later in zip(session, rest):
                assert timedelta(0) < at(later) - at(earlier) < TIMEOUT
                if later["type"] == "page":
                    assert later["properties"]["referrer"] == previous_url
                    previous_url = later["properties"]["url"]
        for before, after in zip(events, events[1:]):
            gap = at(after) - at(before)
            assert gap != TIMEOUT  # never on the boundary, where sessionisers may disagree
            if after["type"] == "page" and not is_internal(after["properties"]["referrer"]):
                assert gap > TIMEOUT
    assert sessions == plan.sessions


@demo_settings
@given(now=nows, visitors=st.integers(0, 25), days=st.integers(1, 10), seed=seeds)
def test_the_plan_counts_what_the_messages_contain(now, visitors, days, seed) -> None:
    messages, plan = generate(now, visitors=visitors, days=days, seed=seed)
    kinds = Counter((m["type"], m.get("event")) for m in messages)
    orders = [m["properties"] for m in messages if m.get("event") == "Order Completed"]
    assert plan == DemoPlan(
        visitors=len({m["anonymousId"] for m in messages}),
        sessions=plan.sessions,  # checked against the sessionised messages above
        page_views=kinds[("page", None)],
        clicks=kinds[("track", "Element Clicked")],
        scrolls=kinds[("track", "Page Scrolled")],
        purchases=kinds[("track", "Order Completed")],
        identifies=kinds[("identify", None)],
        engagements=kinds[("track", "Page Engaged")],
        cart_adds=kinds[("track", "Product Added")],
        checkouts=kinds[("track", "Checkout Started")],
        survey_answers=kinds[("track", "Survey Responded")],
        customers=plan.customers,  # checked in the test of repeat buying
        repeat_customers=plan.repeat_customers,
        revenue=pytest.approx(sum(o["revenue"] for o in orders), abs=0.005),
        currency="EUR",
    )
    assert plan.visitors == visitors
    assert plan.events == len(messages) == sum(kinds.values())
    assert set(kinds) <= set(EXPECTED_TYPE)
    for order in orders:
        total = sum(p["price"] * p["quantity"] for p in order["products"])
        assert order["revenue"] == pytest.approx(total) and order["currency"] == "EUR"
    assert len({o["order_id"] for o in orders}) == len(orders)


@demo_settings
@given(now=nows, visitors=st.integers(1, 25), days=st.integers(1, 10), seed=seeds)
def test_timestamps_are_in_the_last_days_in_time_order_to_the_millisecond(now, visitors, days, seed) -> None:
    messages, _ = generate(now, visitors=visitors, days=days, seed=seed)
    moments = [at(m) for m in messages]
    assert moments == sorted(moments)
    assert all(now - timedelta(days=days) <= moment <= now for moment in moments)
    assert all(moment.microsecond % 1000 == 0 and moment.tzinfo is not None for moment in moments)
    assert all(m["timestamp"].endswith("Z") and "sentAt" not in m for m in messages)


@demo_settings
@given(now=nows, visitors=st.integers(1, 25), seed=seeds)
def test_visitors_keep_their_user_id_from_the_moment_they_identify(now, visitors, seed) -> None:
    messages, plan = generate(now, visitors=visitors, seed=seed)
    identified = 0
    for events in by_visitor(messages).values():
        identifies = [i for i, m in enumerate(events) if m["type"] == "identify"]
        assert len(identifies) <= 1
        first = identifies[0] if identifies else len(events)
        assert all("userId" not in m for m in events[:first])
        user_ids = {m.get("userId") for m in events[first:]}
        assert len(user_ids) <= 1 and None not in user_ids
        if identifies:
            identified += 1
            traits = events[first]["traits"]
            assert set(traits) >= {"plan", "age", "gender", "occupation", "income_band", "country"}
            assert 18 <= traits["age"] <= 99 and traits["country"] == NETWORKS[events[first]["context"]["locale"]][1]
            assert first > 0, "an identify comes partway through, after a page view"
    assert identified == plan.identifies


@demo_settings
@given(now=nows, visitors=st.integers(1, 25), seed=seeds)
def test_behaviours_carry_plausible_properties(now, visitors, seed) -> None:
    messages, _ = generate(now, visitors=visitors, seed=seed)
    for message in messages:
        properties = message.get("properties", {})
        context = message["context"]
        url = context["page"]["url"]
        utm = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        campaign = context.get("campaign")
        if campaign:
            assert utm == {"utm_source": campaign["source"], "utm_medium": campaign["medium"],
                           "utm_campaign": campaign["name"]}
        else:
            assert utm == {}
        if message.get("event") == "Element Clicked":
            assert properties["selector"]
            assert 0 <= properties["x"] <= properties["page_width"] == properties["viewport_width"]
            assert 0 <= properties["y"] <= properties["page_height"]
            assert properties["viewport_height"] <= properties["page_height"]
        if message.get("event") == "Page Scrolled":
            assert properties["depth"] in (25, 50, 75, 100)
    for events in by_visitor(messages).values():
        depths: list[int] = []
        for message in events:
            if message["type"] == "page":
                assert depths == sorted(set(depths)), "milestones are reached once, in order, per page"
                depths = []
            elif message.get("event") == "Page Scrolled":
                depths.append(message["properties"]["depth"])
        assert depths == sorted(set(depths))


def test_the_default_demo_has_every_ingredient() -> None:
    messages, plan = generate(NOW)
    assert (plan.visitors, plan.events) == (200, len(messages))
    assert all(getattr(plan, kind) > 0 for kind in ("page_views", "clicks", "scrolls", "purchases", "identifies",
                                                    "engagements", "cart_adds", "checkouts", "survey_answers"))
    assert 200 < plan.sessions <= 5 * 200
    assert 0.2 < plan.identifies / plan.visitors < 0.45
    sessions = [s for events in by_visitor(messages).values() for s in split_sessions(events)]
    bounces = [s for s in sessions if len(s) == 1]
    assert bounces and all(s[0]["type"] == "page" for s in bounces)
    landings = [s[0] for s in sessions]
    assert any("campaign" in m["context"] for m in landings)
    assert any(m["properties"]["referrer"] and "campaign" not in m["context"] for m in landings)
    assert len({m["context"]["userAgent"] for m in messages}) >= 4
    paths = {m["properties"]["path"] for m in messages if m["type"] == "page"}
    assert {"/", "/pricing", "/cart", "/checkout"} <= paths
    assert any(p.startswith("/blog/") for p in paths) and any(p.startswith("/product/") for p in paths)
    assert len({at(m).date() for m in messages}) >= 7
    # A visitor's journey does not depend on how many others there are.
    fewer, _ = generate(NOW, visitors=20)
    assert {m["messageId"] for m in fewer} < {m["messageId"] for m in messages}


def test_arguments_out_of_range_are_refused() -> None:
    with pytest.raises(ValueError):
        generate(NOW, visitors=-1)
    with pytest.raises(ValueError):
        generate(NOW, days=0)
    with pytest.raises(ValueError):
        generate(NOW.replace(tzinfo=None))


def test_every_link_of_the_shop_leads_to_one_of_its_pages() -> None:
    destinations = {link[3] for page in PAGES.values() for link in page.links if link[3]}
    assert destinations <= set(PAGES)
    assert all(path == page.path for path, page in PAGES.items())


@pytest.mark.parametrize("count", [0, 1, 500, 3000])
def test_first_messages_come_from_a_population_that_sends_enough(count: int) -> None:
    messages = first_messages(NOW, count, seed=3)
    assert len(messages) == count
    assert [at(m) for m in messages] == sorted(at(m) for m in messages)
    assert messages == first_messages(NOW, count, seed=3)
    assert len({m["messageId"] for m in messages}) == count
    assert {kind_of(m) for m in messages} <= set(KIND_OF.values())
    with pytest.raises(ValueError):
        first_messages(NOW, -1)


def test_a_realistic_batch_is_consecutive_traffic_with_every_behaviour() -> None:
    batch = realistic_batch(NOW, 50, seed=7)
    assert len(batch) == 50
    assert {kind_of(m) for m in batch} >= {"page_views", "clicks", "scrolls", "purchases"}
    stream = first_messages(NOW, 50 * 100, seed=7)
    start = stream.index(batch[0])
    assert start % 50 == 0 and stream[start:start + 50] == batch, "cut where the sender cuts"
    assert len({m["anonymousId"] for m in batch}) > 1, "a shop's traffic, not one visitor's"
    with pytest.raises(ValueError):
        realistic_batch(NOW, 3)
