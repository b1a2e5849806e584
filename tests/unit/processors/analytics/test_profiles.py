"""The customer profile without Kafka: what each kind of event adds, and that arrival
order and replays do not change the result."""

from __future__ import annotations

import random
from dataclasses import replace
from functools import reduce

from hypothesis import given, settings
from hypothesis import strategies as st

from processors.analytics.profiles import RECENT_IDS_LIMIT, Acquisition, CustomerProfile, ProductStats, update

DAY = 86_400_000
T0 = 1_800_000_000_000


def feed(events: list[tuple[dict, int]], profile: CustomerProfile | None = None) -> CustomerProfile:
    return reduce(lambda p, item: update(p, item[0], item[1]), events, profile or CustomerProfile("demo", "anon-1"))


def ev(event_id: str, type_: str = "track", name: str = "x", **fields) -> dict:
    return {"event_id": event_id, "type": type_, "name": name, "anonymous_id": "anon-1", **fields}


def order(event_id: str, order_id: str, revenue: float, products: list | None = None) -> dict:
    return ev(event_id, "purchase", "Order Completed", revenue=revenue, order_id=order_id, properties={"order_id": order_id, "products": products or []})


def test_activity_figures() -> None:
    profile = feed([
        (ev("1", "page_view", "Page Viewed", session_id="s1"), T0 + 5),
        (ev("2", "scroll", "Page Scrolled", scroll_pct=60.0, session_id="s1"), T0 + 6),
        (ev("3", "scroll", "Page Scrolled", scroll_pct=40.0, session_id="s1"), T0 + 7),
        (ev("4", name="Page Engaged", properties={"engaged_ms": 1500}, session_id="s1"), T0 + 8),
        (ev("5", name="Page Engaged", properties={"engaged_ms": 500}, session_id="s2"), T0 + 1),
        (ev("6", "page_view", "Page Viewed", session_id="s2"), T0 + 2),
    ])
    assert (profile.first_seen_ms, profile.last_seen_ms) == (T0 + 1, T0 + 8)
    assert (profile.events, profile.sessions, profile.page_views) == (6, 2, 2)
    assert (profile.engaged_ms, profile.max_scroll_pct) == (2000.0, 60.0)


def test_purchases_products_and_a_backfill_months_old() -> None:
    products = [{"product_id": "p1", "price": 10.0, "quantity": 2}, {"sku": "s2", "price": 5.0}, {"price": 1.0}]
    profile = feed([
        (order("1", "o1", 25.0, products), T0),
        (order("2", "o2", 30.0), T0 + 10 * DAY),
        (order("3", "o0", 40.0, [{"name": "Mug", "price": 40.0}]), T0 - 120 * DAY),
    ])
    assert (profile.purchases, profile.revenue) == (3, 95.0)
    assert (profile.first_purchase_ms, profile.last_purchase_ms) == (T0 - 120 * DAY, T0 + 10 * DAY)
    assert profile.products == {
        "p1": ProductStats(purchased=2.0, revenue=20.0),
        "s2": ProductStats(purchased=1.0, revenue=5.0),
        "Mug": ProductStats(purchased=1.0, revenue=40.0),
    }


def test_an_order_resent_under_a_new_message_id_counts_once() -> None:
    profile = feed([(order("1", "o1", 25.0), T0), (order("2", "o1", 25.0), T0 + 1)])
    assert (profile.purchases, profile.revenue) == (1, 25.0)


def test_cart_steps() -> None:
    profile = feed([
        (ev("1", name="Product Added", properties={"product_id": "p1"}), T0),
        (ev("2", name="Checkout Started"), T0 + 5),
        (ev("3", name="Product Added", properties={"product_id": "p1"}), T0 + 2),
    ])
    assert (profile.cart_adds, profile.last_cart_ms) == (2, T0 + 5)
    assert profile.products == {"p1": ProductStats(added=2)}


def test_traits_take_the_latest_value_by_event_time() -> None:
    profile = feed([
        (ev("1", "identify", "Identify", user_id="u1", traits={"gender": "f", "age": 30}), T0 + 10),
        (ev("2", "identify", "Identify", user_id="u1", traits={"age": 29, "plan": "pro"}), T0),
    ])
    assert profile.traits == {"gender": "f", "age": 30, "plan": "pro"}
    assert (profile.user_id, profile.customer_id) == ("u1", "u1")


def test_the_customer_is_the_anonymous_id_until_identified() -> None:
    assert feed([(ev("1", "page_view"), T0)]).customer_id == "anon-1"


def test_device_and_geography_when_the_event_has_them() -> None:
    profile = feed([
        (ev("1", "page_view", device="mobile", browser="Firefox", os="Android"), T0),
        (ev("2", "page_view", device="desktop", country="FR", region="IDF", city="Paris"), T0 + 1),
    ])
    assert [profile.value(name) for name in ("device", "browser", "os", "country", "region", "city")] == [
        "desktop", "Firefox", "Android", "FR", "IDF", "Paris"
    ]
    assert feed([(ev("1", "page_view"), T0)]).value("country") is None


def test_acquisition_is_the_earliest_events_campaign_or_referrer() -> None:
    campaign = ev("1", "page_view", utm_source="news", utm_medium="email", utm_campaign="fall")
    referred = ev("2", "page_view", referrer="https://www.search.example/q", url="https://shop.example/")
    assert feed([(referred, T0 + 1), (campaign, T0)]).acquisition.value == Acquisition("news", "email", "fall")
    assert feed([(campaign, T0 + 1), (referred, T0)]).acquisition.value == Acquisition("www.search.example", "referral", "")
    internal = ev("3", "page_view", referrer="https://shop.example/a", url="https://shop.example/b")
    assert feed([(internal, T0)]).acquisition.value == Acquisition("direct", "none", "")


def test_survey_answers_keep_the_latest_and_ignore_invalid_ones() -> None:
    def survey(event_id: str, kind: str, score) -> dict:
        return ev(event_id, name="Survey Responded", properties={"survey": kind, "score": score})

    profile = feed([(survey("1", "nps", 9), T0 + 5), (survey("2", "nps", 3), T0), (survey("3", "csat", 6), T0 + 9)])
    assert profile.surveys["nps"].score == 9
    assert "csat" not in profile.surveys


# --- order independence and replays ---------------------------------------------------

KINDS = st.sampled_from(["page", "scroll", "engaged", "order", "cart", "identify", "other"])


@st.composite
def event_lists(draw) -> list[tuple[dict, int]]:
    items = []
    for i, kind in enumerate(draw(st.lists(KINDS, max_size=25))):
        ts = T0 + draw(st.integers(-200, 200)) * DAY // 10
        session = {"session_id": f"s{draw(st.integers(0, 5))}"}
        context = {"device": draw(st.sampled_from(["mobile", "desktop"])), "utm_source": draw(st.sampled_from([None, "a", "b"]))}
        if kind == "page":
            event = ev(f"e{i}", "page_view", **session, **context)
        elif kind == "scroll":
            event = ev(f"e{i}", "scroll", scroll_pct=float(draw(st.integers(0, 100))), **session)
        elif kind == "engaged":
            event = ev(f"e{i}", name="Page Engaged", properties={"engaged_ms": draw(st.integers(0, 10_000))}, **session)
        elif kind == "order":
            event = order(f"e{i}", f"o{i}", draw(st.integers(0, 50_000)) / 100, [{"product_id": f"p{i % 3}", "price": 2.0}])
        elif kind == "cart":
            event = ev(f"e{i}", name="Product Added", properties={"product_id": f"p{i % 3}"}, **session)
        elif kind == "identify":
            event = ev(f"e{i}", "identify", "Identify", user_id=draw(st.sampled_from(["u1", "u2"])), traits={"k": draw(st.integers(0, 3))})
        else:
            event = ev(f"e{i}", name="Something", **session, **context)
        items.append((event, ts))
    return items


def comparable(profile: CustomerProfile) -> CustomerProfile:
    """The profile without its replay bookkeeping, whose order is arrival order by design;
    revenue, each purchase day's spend and engaged time rounded, as float sums depend on the order of addition."""
    products = {key: replace(stats, revenue=round(stats.revenue, 6)) for key, stats in profile.products.items()}
    return replace(
        profile,
        recent_ids=tuple(sorted(profile.recent_ids)),
        recent_sessions=tuple(sorted(profile.recent_sessions)),
        revenue=round(profile.revenue, 6),
        products=products,
        purchase_days={day: round(spent, 6) for day, spent in profile.purchase_days.items()},
    )


@settings(max_examples=200, deadline=None)
@given(events=event_lists(), seed=st.randoms())
def test_arrival_order_does_not_matter(events: list[tuple[dict, int]], seed: random.Random) -> None:
    shuffled = list(events)
    seed.shuffle(shuffled)
    assert comparable(feed(shuffled)) == comparable(feed(events))


@settings(max_examples=200, deadline=None)
@given(events=event_lists(), seed=st.randoms())
def test_a_replay_changes_nothing(events: list[tuple[dict, int]], seed: random.Random) -> None:
    once = feed(events)
    replayed = seed.sample(events, k=len(events) // 2)
    assert feed(replayed, once) == once


def test_replays_are_recognised_within_the_recent_window_only() -> None:
    pages = [(ev(f"e{i}", "page_view"), T0 + i) for i in range(RECENT_IDS_LIMIT + 1)]
    profile = feed(pages)
    assert update(profile, *pages[-1]) == profile
    assert update(profile, *pages[0]).page_views == RECENT_IDS_LIMIT + 2
