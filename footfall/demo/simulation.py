"""The demo's traffic as data: from a seed, a moment and a size to the Segment messages a
population of visitors sends, and the plan they make up. Pure, so the demo, the tests and
the benchmarks all replay exactly the same visitors."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from footfall.demo.catalogue import CURRENCY
from footfall.demo.visitor import DAY_MS, Visitor
from processors.analytics.profiles import CHECKOUT_STARTED_EVENT, ENGAGED_EVENT, PRODUCT_ADDED_EVENT
from schemas.surveys import SURVEY_EVENT
from schemas.wire import CLICK_EVENT, ORDER_COMPLETED_EVENT, SCROLL_EVENT


@dataclass(frozen=True)
class DemoPlan:
    """What a generated demo contains, to compare with what lands."""

    visitors: int
    sessions: int
    page_views: int
    clicks: int
    scrolls: int
    purchases: int
    identifies: int
    engagements: int  # page views ended with their engaged time
    cart_adds: int
    checkouts: int
    survey_answers: int
    customers: int  # visitors who bought
    repeat_customers: int  # of them, those who bought on two days or more
    revenue: float  # the sum of the orders' revenue, in CURRENCY
    currency: str = CURRENCY

    @property
    def events(self) -> int:
        return sum(getattr(self, kind) for kind in KIND_OF.values())


KIND_OF = {"page": "page_views", CLICK_EVENT: "clicks", SCROLL_EVENT: "scrolls", ORDER_COMPLETED_EVENT: "purchases",
           "identify": "identifies", ENGAGED_EVENT: "engagements", PRODUCT_ADDED_EVENT: "cart_adds",
           CHECKOUT_STARTED_EVENT: "checkouts", SURVEY_EVENT: "survey_answers"}
# What a batch needs to exercise every path of the collector's enrichment.
BEHAVIOURS = frozenset({"page_views", "clicks", "scrolls", "purchases"})


def kind_of(message: dict[str, Any]) -> str:
    """Which count of the plan a message belongs to (KIND_OF): page_views, clicks, purchases …"""
    return KIND_OF[message["event"] if message["type"] == "track" else message["type"]]


def iso_millis(moment: datetime) -> str:
    """A moment as the demo's SDK writes it: ISO 8601 to the millisecond, "Z" for UTC."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def generate(
    now: datetime, visitors: int = 200, days: int = 7, seed: int = 1
) -> tuple[list[dict[str, Any]], DemoPlan]:
    """The messages of `visitors` simulated visitors over the `days` before `now`, in time
    order (milliseconds, UTC), and the plan they make up. Pure: the same arguments give
    the same messages, ids included. `sentAt` is left to the sender."""
    if visitors < 0:
        raise ValueError("visitors must be 0 or more")
    if days < 1:
        raise ValueError("days must be 1 or more")
    if now.tzinfo is None:
        raise ValueError("now must carry a time zone")
    end = now.astimezone(UTC).replace(microsecond=now.microsecond // 1000 * 1000)
    window_ms = days * DAY_MS
    timed: list[tuple[int, int, dict[str, Any]]] = []
    sessions = 0
    for index in range(visitors):
        # One generator per visitor: a visitor's journey does not depend on how many others there are.
        visitor = Visitor(random.Random(f"footfall-demo:{seed}:{index}"))
        visitor.journeys(window_ms)
        # Only the sessions that fit in the window; the later ones are dropped, never cut.
        kept = []
        for session in visitor.sessions:
            if session[-1][0] > window_ms:
                break
            kept.append(session)
        span = kept[-1][-1][0]
        start = visitor.rng.randint(0, window_ms - span)
        sessions += len(kept)
        for session in kept:
            for at, message in session:
                offset = start + at - window_ms  # in (-window, 0]
                message["timestamp"] = iso_millis(end + timedelta(milliseconds=offset))
                timed.append((offset, index, message))
    timed.sort(key=lambda item: (item[0], item[1]))
    messages = [message for _, _, message in timed]

    counts = Counter(kind_of(m) for m in messages)
    orders = [m for m in messages if kind_of(m) == "purchases"]
    buying_days = Counter(m["anonymousId"] for m in {(m["anonymousId"], m["timestamp"][:10]): m for m in orders}.values())
    revenue_cents = sum(round(m["properties"]["revenue"] * 100) for m in orders)
    plan = DemoPlan(
        visitors=visitors,
        sessions=sessions,
        **{kind: counts[kind] for kind in KIND_OF.values()},
        customers=len(buying_days),
        repeat_customers=sum(1 for days in buying_days.values() if days > 1),
        revenue=revenue_cents / 100,
    )
    return messages, plan


def first_messages(now: datetime, count: int, days: int = 7, seed: int = 1) -> list[dict[str, Any]]:
    """The first `count` messages, in time order, of a population just large enough to
    send them: the demo counted in events rather than visitors, for load tests."""
    if count < 0:
        raise ValueError("count must be 0 or more")
    visitors = count // 25 + 50  # a first guess, grown until the population sends enough
    while True:
        messages, _ = generate(now, visitors=visitors, days=days, seed=seed)
        if len(messages) >= count:
            return messages[:count]
        visitors = int(visitors * count / len(messages) * 1.1) + 1


def realistic_batch(now: datetime, size: int, seed: int = 1) -> list[dict[str, Any]]:
    """`size` consecutive messages of the demo's traffic, cut where the sender would cut
    them, that hold a page view, a click, a scroll and a purchase: one request body as a
    busy shop sends it."""
    if size < len(BEHAVIOURS):
        raise ValueError(f"a batch needs room for {len(BEHAVIOURS)} behaviours")
    messages = first_messages(now, size * 100, seed=seed)
    for start in range(0, len(messages), size):
        batch = messages[start:start + size]
        if {kind_of(m) for m in batch} >= BEHAVIOURS:
            return batch
    raise ValueError(f"no batch of {size} messages holds every behaviour")
