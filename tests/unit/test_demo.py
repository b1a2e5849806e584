"""The demo traffic generator: deterministic, valid, sessions that sessionise as intended,
a plan that matches its messages; and the sender against a real local HTTP server."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.enrich import RequestMeta, normalise
from collector.geo import Geolocator
from collector.parsing import validate_message
from footfall.demo import LOCALES, SHOP, DemoPlan, SendError, generate, retry_after_seconds, send
from footfall.local.processes import free_port
from schemas.event import EventType

NOW = datetime(2026, 11, 22, 12, 0, 0, 123456, tzinfo=UTC)
TIMEOUT = timedelta(minutes=30)
LOCATE = Geolocator().locate
NETWORKS = {locale: (network, country) for locale, country, network in LOCALES}
EXPECTED_TYPE = {
    ("page", None): EventType.PAGE_VIEW,
    ("track", "Element Clicked"): EventType.CLICK,
    ("track", "Page Scrolled"): EventType.SCROLL,
    ("track", "Order Completed"): EventType.PURCHASE,
    ("identify", None): EventType.IDENTIFY,
}

seeds = st.integers(min_value=0, max_value=2**32)
nows = st.datetimes(min_value=datetime(2021, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC))
demo_settings = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def at(message: dict) -> datetime:
    return datetime.fromisoformat(message["timestamp"])


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
            assert set(traits) >= {"plan", "age", "country"} and 18 <= traits["age"] <= 99
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
    assert all(getattr(plan, kind) > 0 for kind in ("page_views", "clicks", "scrolls", "purchases", "identifies"))
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


# --- the sender, against a real HTTP server on a free port ---------------------------------


class Scripted(ThreadingHTTPServer):
    """Answers /v1/batch from a script of (status, headers, body), then 200; records requests."""

    def __init__(self, script: list[tuple[int, dict[str, str], dict]]):
        super().__init__(("127.0.0.1", 0), Handler)
        self.script = list(script)
        self.requests: list[tuple[str, str | None, dict]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: Scripted

    def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.server.lock:
            self.server.requests.append((self.path, self.headers.get("Authorization"), body))
            status, headers, answer = self.server.script.pop(0) if self.server.script else (200, {}, {"success": True})
        data = json.dumps(answer).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", "Content-Length": str(len(data)), **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server_with() -> Iterator:
    servers: list[Scripted] = []

    def start(script: list[tuple[int, dict[str, str], dict]]) -> Scripted:
        server = Scripted(script)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_sender_posts_batches_in_time_order_with_the_write_key_and_sent_at(server_with) -> None:
    messages, plan = generate(NOW, visitors=5, seed=3)
    server = server_with([])
    summary = send(list(reversed(messages)), server.url, write_key="shop_key", batch_size=7)

    assert (summary.accepted, summary.rejected, summary.retries) == (len(messages), 0, 0)
    assert summary.batches == len(server.requests) == -(-len(messages) // 7)
    assert {path for path, _, _ in server.requests} == {"/v1/batch"}
    assert {auth for _, auth, _ in server.requests} == {"Basic c2hvcF9rZXk6"}  # "shop_key:"
    posted = [m for _, _, body in server.requests for m in body["batch"]]
    assert [m["messageId"] for m in posted] == [m["messageId"] for m in messages]
    assert all(len(body["batch"]) <= 7 for _, _, body in server.requests)
    for _, _, body in server.requests:
        stamps = {m["sentAt"] for m in body["batch"]}
        assert stamps == {body["sentAt"]}
        assert all(at(m) <= datetime.fromisoformat(body["sentAt"]) for m in body["batch"])
    assert all("sentAt" not in m for m in messages), "the caller's messages are left as they were"


def test_sender_retries_a_503_after_its_retry_after_and_restamps_sent_at(server_with) -> None:
    messages, _ = generate(NOW, visitors=2, seed=4)
    unavailable = (503, {"Retry-After": "7"}, {"success": False, "error": "kafka_unavailable"})
    server = server_with([unavailable, unavailable])
    waits: list[float] = []

    def pause(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(0.005)  # enough for the clock to move on, so a fresh sentAt differs

    summary = send(messages, server.url, batch_size=len(messages), sleep=pause, longest_wait_s=5)

    assert waits == [5, 5]  # Retry-After honoured, within the bound
    assert (summary.accepted, summary.batches, summary.retries) == (len(messages), 1, 2)
    bodies = [body for _, _, body in server.requests]
    assert len(bodies) == 3
    unstamped = [[{k: v for k, v in m.items() if k != "sentAt"} for m in body["batch"]] for body in bodies]
    assert unstamped[0] == unstamped[1] == unstamped[2] == messages
    stamps = [datetime.fromisoformat(body["sentAt"]) for body in bodies]
    assert stamps[0] < stamps[1] < stamps[2], "each attempt is stamped when it is sent"


def test_sender_reports_what_the_collector_rejected(server_with) -> None:
    messages, _ = generate(NOW, visitors=1, seed=5)
    partial = (200, {}, {"success": True, "accepted": len(messages) - 1, "rejected": 1,
                         "errors": [{"index": 0, "reason": "properties.x: Input should be a number"}]})
    server = server_with([partial])
    summary = send(messages, server.url, batch_size=len(messages))
    assert (summary.accepted, summary.rejected) == (len(messages) - 1, 1)
    assert summary.errors == ("properties.x: Input should be a number",)


@pytest.mark.parametrize("status", [400, 401, 403, 413])
def test_sender_stops_at_once_on_a_client_error(server_with, status: int) -> None:
    messages, _ = generate(NOW, visitors=3, seed=6)
    server = server_with([(status, {}, {"success": False, "error": "unknown_write_key", "detail": "no site"})])
    with pytest.raises(SendError, match=f"refused a batch with {status}: unknown_write_key") as raised:
        send(messages, server.url, batch_size=10, sleep=lambda s: pytest.fail("a client error is not retried"))
    assert raised.value.status == status
    assert len(server.requests) == 1


def test_sender_retries_connection_errors_then_gives_up_clearly() -> None:
    messages, _ = generate(NOW, visitors=1, seed=7)
    waits: list[float] = []
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(SendError, match="gave up on a batch after 4 attempts; last: could not reach"):
        send(messages, url, attempts=4, sleep=waits.append)
    assert waits == [0.5, 1.0, 2.0]


def test_retry_after_is_read_as_seconds_or_a_date_and_bounded() -> None:
    assert retry_after_seconds("5", 1.0, 30.0) == 5.0
    assert retry_after_seconds("600", 1.0, 30.0) == 30.0
    assert retry_after_seconds("-3", 1.0, 30.0) == 0.0
    assert retry_after_seconds(None, 1.5, 30.0) == 1.5
    assert retry_after_seconds("soon", 1.5, 30.0) == 1.5
    assert retry_after_seconds("nan", 1.5, 30.0) == 1.5
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", 1.5, 30.0) == 0.0  # already past
