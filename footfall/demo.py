"""Simulated shop traffic for a running collector: the engine behind `footfall demo`.

Two halves. `generate` is pure: from a seed and a moment it builds the journeys of N
visitors over the last D days (sessions of page views, clicks, scrolls, purchases and
identifies, as a browser SDK would send them) and says what it intended in a `DemoPlan`.
`send` posts any list of Segment messages to a collector's /v1/batch the way an SDK does:
in time order, in batches, with `sentAt` stamped at the moment of sending, retrying what
is worth retrying. `run_demo` does both.

Event time: the collector derives it as received_at - (sentAt - timestamp), so historical
events are sent with `timestamp` at the historical moment and `sentAt` at the real send
moment. They land at their intended time, shifted only by the request's transit time.
"""

from __future__ import annotations

import email.utils
import math
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from schemas.wire import CLICK_EVENT, ORDER_COMPLETED_EVENT, SCROLL_EVENT

SHOP = "https://shop.example.com"
CURRENCY = "EUR"
LIBRARY = {"name": "footfall-demo", "version": "0.1.0"}
SESSION_TIMEOUT = timedelta(minutes=30)
"""Sessions are told apart by this much inactivity (the usual web-analytics convention)."""

SECOND_MS = 1000
MINUTE_MS = 60 * SECOND_MS
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
# Between sessions: from comfortably past the timeout to a few days.
SESSION_GAP_MS = (45 * MINUTE_MS, 3 * DAY_MS)
# Within a session: no pause comes near the timeout.
LONGEST_PAUSE_MS = 12 * MINUTE_MS


# --- the shop ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Device:
    user_agent: str
    screen: tuple[int, int, float]  # width, height, pixel density
    viewport: tuple[int, int]
    tall: float  # how much longer a page is at this width than on a desktop


DEVICES: tuple[tuple[Device, int], ...] = (
    (Device("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/130.0.0.0 Safari/537.36", (1920, 1080, 1.0), (1903, 945), 1.0), 30),
    (Device("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.5 Safari/605.1.15", (1512, 982, 2.0), (1512, 860), 1.1), 14),
    (Device("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
            (1366, 768, 1.0), (1349, 657), 1.15), 8),
    (Device("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0", (1920, 1080, 1.0), (1903, 945), 1.0), 6),
    (Device("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.0 Mobile/15E148 Safari/604.1", (390, 844, 3.0), (390, 664), 2.6), 24),
    (Device("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/130.0.0.0 Mobile Safari/537.36", (412, 915, 2.625), (412, 783), 2.5), 13),
    (Device("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.0 Mobile/15E148 Safari/604.1", (820, 1180, 2.0), (820, 1106), 1.6), 5),
)

# Each locale's country, and a network registered in that country for its visitors'
# addresses, so the demo's events are placed where its visitors live.
LOCALES = (
    ("en-GB", "GB", "86.128"),
    ("en-US", "US", "73.0"),
    ("de-DE", "DE", "79.192"),
    ("fr-FR", "FR", "90.0"),
    ("nl-NL", "NL", "77.160"),
    ("es-ES", "ES", "80.24"),
)
PLANS = (("free", 6), ("pro", 3), ("team", 1))


@dataclass(frozen=True)
class Product:
    product_id: str
    slug: str
    name: str
    category: str
    price_cents: int


PRODUCTS = (
    Product("p-100", "merino-runner", "Merino Runner", "shoes", 11900),
    Product("p-101", "trail-boot", "Trail Boot", "shoes", 16900),
    Product("p-200", "wool-socks", "Wool Socks (3 pack)", "accessories", 2400),
    Product("p-201", "canvas-tote", "Canvas Tote", "accessories", 3500),
    Product("p-300", "rain-shell", "Rain Shell", "outerwear", 18900),
    Product("p-301", "down-vest", "Down Vest", "outerwear", 13900),
)
BLOG_POSTS = (
    ("launch-week", "Launch week: what we shipped"),
    ("how-we-source-wool", "How we source our wool"),
    ("shoe-care-guide", "A care guide for wool shoes"),
    ("summer-lookbook", "Summer lookbook"),
)


@dataclass(frozen=True)
class Page:
    path: str
    title: str
    height: int  # on a desktop, in CSS pixels
    links: tuple[tuple[str, str, str, str], ...] = ()  # selector, tag, text, where it leads (or "")


NAV = (
    ('header nav a[href="/"]', "a", "Home", "/"),
    ('header nav a[href="/pricing"]', "a", "Pricing", "/pricing"),
    ('header nav a[href="/cart"]', "a", "Cart", "/cart"),
)
PAGES: dict[str, Page] = {
    "/": Page("/", "Wool & Co — shoes and outerwear", 3200, NAV + (
        ("main .hero a.btn-primary", "a", "Shop the range", f"/product/{PRODUCTS[0].slug}"),
        ('main .featured a[href^="/product/"]', "a", PRODUCTS[4].name, f"/product/{PRODUCTS[4].slug}"),
        ('main .stories a[href^="/blog/"]', "a", "Read the story", f"/blog/{BLOG_POSTS[1][0]}"),
        ("footer form.newsletter button", "button", "Subscribe", ""),
    )),
    "/pricing": Page("/pricing", "Membership pricing — Wool & Co", 2400, NAV + (
        ("main .plan--pro button.choose", "button", "Choose Pro", ""),
        ("main .faq details:nth-of-type(2) summary", "summary", "Can I cancel anytime?", ""),
        ("main .plans a.btn", "a", "Browse products", f"/product/{PRODUCTS[1].slug}"),
    )),
    "/cart": Page("/cart", "Your cart — Wool & Co", 1400, NAV + (
        ("main .cart a.checkout", "a", "Checkout", "/checkout"),
        ("main .cart button.quantity-plus", "button", "+", ""),
    )),
    "/checkout": Page("/checkout", "Checkout — Wool & Co", 1800, (
        ("form.checkout input#email", "input", "", ""),
        ("form.checkout button#place-order", "button", "Place order", ""),
        ("main a.back-to-cart", "a", "Back to cart", "/cart"),
    )),
}
for _product in PRODUCTS:
    PAGES[f"/product/{_product.slug}"] = Page(f"/product/{_product.slug}", f"{_product.name} — Wool & Co", 2800, NAV + (
        ("main .product button.add-to-cart", "button", "Add to cart", "/cart"),
        ("main .product .gallery img:nth-of-type(2)", "img", "", ""),
        ("main .product details.sizing summary", "summary", "Size guide", ""),
        ('main .related a[href^="/product/"]', "a", "You may also like", ""),
    ))
for _slug, _title in BLOG_POSTS:
    PAGES[f"/blog/{_slug}"] = Page(f"/blog/{_slug}", f"{_title} — Wool & Co", 5200, NAV + (
        ('article a[href^="/product/"]', "a", "Shop the look", f"/product/{PRODUCTS[2].slug}"),
        ("article .share button.copy-link", "button", "Copy link", ""),
    ))
PRODUCT_PATHS = tuple(f"/product/{p.slug}" for p in PRODUCTS)
BLOG_PATHS = tuple(f"/blog/{slug}" for slug, _ in BLOG_POSTS)

CAMPAIGNS = (
    # source, medium, name, landing path, referrer
    ("newsletter", "email", "spring_sale", PRODUCT_PATHS[4], None),
    ("google", "cpc", "brand_search", "/", "https://www.google.com/"),
    ("instagram", "social", "summer_lookbook", BLOG_PATHS[3], "https://l.instagram.com/"),
    ("partner_blog", "referral", "wool_guide", PRODUCT_PATHS[0], "https://outdoors.example.org/best-wool-shoes"),
)
REFERRERS = (
    ("https://www.google.com/", (PRODUCT_PATHS[0], PRODUCT_PATHS[1], BLOG_PATHS[2], "/")),
    ("https://duckduckgo.com/", (PRODUCT_PATHS[0], BLOG_PATHS[2])),
    ("https://news.ycombinator.com/", (BLOG_PATHS[1], BLOG_PATHS[0])),
    ("https://www.reddit.com/r/BuyItForLife/", (PRODUCT_PATHS[1], BLOG_PATHS[1])),
    ("https://t.co/", (BLOG_PATHS[3], PRODUCT_PATHS[4])),
)


# --- what the generator intends ---------------------------------------------------------


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
    revenue: float  # the sum of the orders' revenue, in CURRENCY
    currency: str = CURRENCY

    @property
    def events(self) -> int:
        return self.page_views + self.clicks + self.scrolls + self.purchases + self.identifies


KIND_OF = {"page": "page_views", CLICK_EVENT: "clicks", SCROLL_EVENT: "scrolls", ORDER_COMPLETED_EVENT: "purchases",
           "identify": "identifies"}


def kind_of(message: dict[str, Any]) -> str:
    """Which count of the plan a message belongs to: page_views, clicks, scrolls, purchases, identifies."""
    return KIND_OF[message["event"] if message["type"] == "track" else message["type"]]


# --- one visitor --------------------------------------------------------------------------


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


class _Visitor:
    """One browser's journeys, on a clock of milliseconds from its first event."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.anonymous_id = _uuid(rng)
        self.device = rng.choices([d for d, _ in DEVICES], [w for _, w in DEVICES])[0]
        self.locale, self.country, network = rng.choice(LOCALES)
        self.ip = f"{network}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        self.will_identify = rng.random() < 1 / 3
        self.user_id: str | None = None
        self.clock = 0
        self.sessions: list[list[tuple[int, dict[str, Any]]]] = []
        self._session: list[tuple[int, dict[str, Any]]] = []
        # The page being looked at: its context, the deepest point scrolled to.
        self._page: dict[str, Any] = {}
        self._campaign: dict[str, str] | None = None
        self._depth = 0

    # the clock
    def wait(self, low_ms: int, high_ms: int) -> None:
        self.clock += self.rng.randint(low_ms, high_ms)

    def dwell(self) -> None:
        """A pause on a page: mostly seconds, sometimes minutes of reading, never near the timeout."""
        if self.rng.random() < 0.1:
            self.wait(2 * MINUTE_MS, LONGEST_PAUSE_MS)
        else:
            self.wait(2 * SECOND_MS, 90 * SECOND_MS)

    # messages
    def emit(self, kind: str, **fields: Any) -> None:
        context: dict[str, Any] = {
            "page": dict(self._page),
            "userAgent": self.device.user_agent,
            "ip": self.ip,
            "locale": self.locale,
            "screen": dict(zip(("width", "height", "density"), self.device.screen)),
            "library": dict(LIBRARY),
        }
        if self._campaign:
            context["campaign"] = dict(self._campaign)
        message: dict[str, Any] = {"type": kind, "messageId": _uuid(self.rng), "anonymousId": self.anonymous_id}
        if self.user_id:
            message["userId"] = self.user_id
        message.update(fields)
        message["context"] = context
        self._session.append((self.clock, message))

    def view(self, path: str, referrer: str | None, campaign: tuple[str, str, str] | None = None) -> None:
        page = PAGES[path]
        url = f"{SHOP}{path}"
        search = ""
        self._campaign = None
        if campaign:
            source, medium, name = campaign
            search = "?" + urlencode({"utm_source": source, "utm_medium": medium, "utm_campaign": name})
            url += search
            self._campaign = {"source": source, "medium": medium, "name": name}
        self._page = {"path": path, "url": url, "title": page.title, "referrer": referrer or "", "search": search}
        self._depth = 0
        self.emit("page", name=page.title, properties=dict(self._page))

    def page_height(self) -> int:
        page = PAGES[self._page["path"]]
        return max(round(page.height * self.device.tall), self.device.viewport[1])

    def scroll(self, deepest: int) -> None:
        for depth in (25, 50, 75, 100):
            if depth > deepest:
                break
            if depth <= self._depth:
                continue
            self.wait(2 * SECOND_MS, 40 * SECOND_MS)
            self._depth = depth
            self.emit("track", event=SCROLL_EVENT, properties={"depth": depth, "page_height": self.page_height()})

    def click(self, link: tuple[str, str, str, str]) -> None:
        selector, tag, text, _ = link
        width, height = self.device.viewport
        page_height = self.page_height()
        reached = min(page_height, height + self._depth * (page_height - height) // 100)
        self.wait(SECOND_MS, 45 * SECOND_MS)
        self.emit("track", event=CLICK_EVENT, properties={
            "selector": selector, "tag": tag, "text": text,
            "x": self.rng.randint(8, width - 8), "y": self.rng.randint(40, reached - 1),
            "page_width": width, "page_height": page_height, "viewport_width": width, "viewport_height": height,
        })

    def read(self, next_path: str | None) -> None:
        """Time on the current page: scrolling, a click or two, maybe the link to the next page."""
        rng = self.rng
        self.dwell()
        self.scroll(rng.choices((0, 25, 50, 75, 100), (2, 3, 3, 2, 2))[0])
        links = PAGES[self._page["path"]].links
        for _ in range(rng.choices((0, 1, 2), (5, 4, 1))[0]):
            self.click(rng.choice([link for link in links if not link[3]] or links))
        if next_path:
            leading = [link for link in links if link[3] == next_path]
            if leading and rng.random() < 0.7:
                self.click(leading[0])

    def identify(self) -> None:
        rng = self.rng
        self.user_id = f"user-{rng.getrandbits(48):012x}"
        self.wait(2 * SECOND_MS, 30 * SECOND_MS)
        self.emit("identify", traits={
            "plan": rng.choices([p for p, _ in PLANS], [w for _, w in PLANS])[0],
            "age": rng.randint(18, 72),
            "country": self.country,
            "locale": self.locale,
        })

    def order(self) -> None:
        rng = self.rng
        products = []
        for product in rng.sample(PRODUCTS, rng.choices((1, 2, 3), (6, 3, 1))[0]):
            quantity = rng.choices((1, 2), (5, 1))[0]
            products.append((product, quantity))
        revenue_cents = sum(p.price_cents * q for p, q in products)
        self.click(PAGES["/checkout"].links[1])
        self.wait(SECOND_MS, 6 * SECOND_MS)
        self.emit("track", event=ORDER_COMPLETED_EVENT, properties={
            "order_id": f"order-{rng.getrandbits(40):010x}",
            "revenue": revenue_cents / 100,
            "currency": CURRENCY,
            "products": [{"product_id": p.product_id, "sku": p.slug, "name": p.name, "category": p.category,
                          "price": p.price_cents / 100, "quantity": q} for p, q in products],
        })

    # sessions
    def landing(self) -> tuple[str, str | None, tuple[str, str, str] | None]:
        rng = self.rng
        roll = rng.random()
        if roll < 0.25:
            source, medium, name, path, referrer = rng.choice(CAMPAIGNS)
            return path, referrer, (source, medium, name)
        if roll < 0.6:
            referrer, paths = rng.choice(REFERRERS)
            return rng.choice(paths), referrer, None
        return rng.choice(("/", "/", "/", "/pricing")), None, None

    def next_path(self, path: str) -> str:
        rng = self.rng
        if path.startswith("/product/"):
            options = {"/cart": 3, "/": 1, "/pricing": 1, **{p: 1 for p in PRODUCT_PATHS if p != path}}
        elif path.startswith("/blog/"):
            options = {PRODUCT_PATHS[2]: 2, "/": 2, **{p: 1 for p in BLOG_PATHS if p != path}}
        elif path == "/cart":
            options = {"/checkout": 2, PRODUCT_PATHS[0]: 1, "/": 1}
        elif path == "/checkout":
            options = {"/cart": 1, "/": 1}
        else:
            options = {"/pricing": 2, **{p: 2 for p in PRODUCT_PATHS}, **{p: 1 for p in BLOG_PATHS}}
            options.pop(path, None)
        return rng.choices(list(options), list(options.values()))[0]

    def session(self, kind: str, identify_here: bool) -> None:
        rng = self.rng
        self._session = []
        path, referrer, campaign = self.landing()
        self.view(path, referrer, campaign)
        if kind == "bounce":
            self.sessions.append(self._session)
            return
        if kind == "purchase":
            route = [self.next_path(path) for _ in range(rng.randint(0, 2))]
            route += [rng.choice(PRODUCT_PATHS), "/cart", "/checkout"]
        else:
            route = []
            for _ in range(rng.randint(1, 6)):
                route.append(self.next_path(route[-1] if route else path))
        identify_after = rng.randrange(len(route) + 1) if identify_here else -1
        for step, next_path in enumerate([*route, None]):
            self.read(next_path)
            if step == identify_after:
                self.identify()
            if next_path is None:
                break
            self.wait(SECOND_MS, 5 * SECOND_MS)
            self.view(next_path, self._page["url"])
        if kind == "purchase":
            self.order()
        self.sessions.append(self._session)

    def journeys(self) -> None:
        rng = self.rng
        count = rng.choices((1, 2, 3, 4, 5), (40, 25, 17, 10, 8))[0]
        identify_at = rng.randrange(count) if self.will_identify else -1
        for index in range(count):
            if index:
                low, high = SESSION_GAP_MS
                self.clock += round(math.exp(rng.uniform(math.log(low), math.log(high))))
            buying = 0.25 if self.user_id else 0.12
            kind = rng.choices(("bounce", "browse", "purchase"), (0.3, 0.7 - buying, buying))[0]
            if index == identify_at and kind == "bounce":
                kind = "browse"
            self.session(kind, identify_here=index == identify_at)


# --- the generator ------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
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
        visitor = _Visitor(random.Random(f"footfall-demo:{seed}:{index}"))
        visitor.journeys()
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
                message["timestamp"] = _iso(end + timedelta(milliseconds=offset))
                timed.append((offset, index, message))
    timed.sort(key=lambda item: (item[0], item[1]))
    messages = [message for _, _, message in timed]

    counts = Counter(kind_of(m) for m in messages)
    revenue_cents = sum(round(m["properties"]["revenue"] * 100) for m in messages if kind_of(m) == "purchases")
    plan = DemoPlan(
        visitors=visitors,
        sessions=sessions,
        page_views=counts["page_views"],
        clicks=counts["clicks"],
        scrolls=counts["scrolls"],
        purchases=counts["purchases"],
        identifies=counts["identifies"],
        revenue=revenue_cents / 100,
    )
    return messages, plan


# --- the sender ---------------------------------------------------------------------------


class SendError(RuntimeError):
    """The collector refused a batch, or could not be reached after the retries."""

    def __init__(self, message: str, status: int | None = None, body: str | None = None):
        super().__init__(message)
        self.status = status
        self.body = body


@dataclass(frozen=True)
class SendSummary:
    accepted: int  # events the collector acknowledged
    rejected: int  # events it set aside as invalid (dead-lettered); 0 for the demo's own
    batches: int  # batches acknowledged
    retries: int  # attempts repeated after a 503 or a connection error
    seconds: float
    errors: tuple[str, ...] = ()  # the first few reasons for rejected events


@dataclass(frozen=True)
class DemoResult:
    plan: DemoPlan
    sent: SendSummary


RETRY_STATUSES = {502, 503, 504}


def retry_after_seconds(header: str | None, default: float, longest: float) -> float:
    """The wait a Retry-After asks for (seconds or an HTTP date), within [0, longest]."""
    wait = default
    if header:
        header = header.strip()
        try:
            wait = float(header)
        except ValueError:
            try:
                wait = (email.utils.parsedate_to_datetime(header) - datetime.now(UTC)).total_seconds()
            except (TypeError, ValueError):
                wait = default
    if not math.isfinite(wait):
        wait = default
    return min(max(wait, 0.0), longest)


def _batches(messages: Sequence[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(messages), size):
        yield list(messages[start:start + size])


def _time_order(messages: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    def moment(message: dict[str, Any]) -> datetime:
        stamp = message.get("timestamp")
        if not stamp:
            return datetime.max.replace(tzinfo=UTC)
        parsed = datetime.fromisoformat(stamp)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

    return sorted(messages, key=moment)


def send(
    messages: Sequence[dict[str, Any]],
    url: str,
    write_key: str = "demo_key",
    batch_size: int = 50,
    progress: bool = False,
    *,
    attempts: int = 8,
    longest_wait_s: float = 30.0,
    timeout_s: float = 30.0,
    console: Console | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SendSummary:
    """Posts the messages to `{url}/v1/batch` in time order, `batch_size` at a time, with
    the write key as the HTTP Basic user name. Every attempt stamps `sentAt` with the
    moment it is sent, so a retried batch still lands at its intended times.

    A 502/503/504 is retried after its Retry-After (at most `longest_wait_s`), a connection
    error after a growing pause, `attempts` tries in all per batch; any other status
    outside 2xx raises SendError at once."""
    if batch_size < 1:
        raise ValueError("batch_size must be 1 or more")
    if attempts < 1:
        raise ValueError("attempts must be 1 or more")
    ordered = _time_order(messages)
    endpoint = f"{url.rstrip('/')}/v1/batch"
    accepted = rejected = batches = retries = 0
    errors: list[str] = []
    started = time.monotonic()
    bar = Progress(
        TextColumn("[bold]sending events[/bold]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, disable=not progress,
    )
    with bar, httpx.Client(auth=(write_key, ""), timeout=timeout_s) as client:
        task = bar.add_task("events", total=len(ordered))
        for batch in _batches(ordered, batch_size):
            answer, tries = _post(client, endpoint, batch, attempts, longest_wait_s, sleep)
            retries += tries - 1
            batches += 1
            if "accepted" in answer:
                accepted += int(answer["accepted"])
                rejected += int(answer.get("rejected", 0))
                for error in answer.get("errors", []):
                    if len(errors) < 5:
                        errors.append(str(error.get("reason")))
            else:
                accepted += len(batch)
            bar.advance(task, len(batch))
    return SendSummary(accepted, rejected, batches, retries, time.monotonic() - started, tuple(errors))


def _post(
    client: httpx.Client,
    endpoint: str,
    batch: list[dict[str, Any]],
    attempts: int,
    longest_wait_s: float,
    sleep: Callable[[float], None],
) -> tuple[dict[str, Any], int]:
    """One batch until acknowledged: the collector's answer and the number of tries."""
    failure = ""
    for attempt in range(1, attempts + 1):
        sent_at = _iso(datetime.now(UTC))
        # Per message, where the collector reads it; and for the whole batch, as Segment's SDKs put it.
        body = {"batch": [{**message, "sentAt": sent_at} for message in batch], "sentAt": sent_at}
        backoff = min(0.5 * 2 ** (attempt - 1), longest_wait_s)
        try:
            response = client.post(endpoint, json=body)
        except httpx.TransportError as exc:
            failure = f"could not reach the collector at {endpoint}: {exc!r}"
            if attempt < attempts:
                sleep(backoff)
            continue
        if response.is_success:
            try:
                return response.json(), attempt
            except ValueError:
                return {}, attempt
        if response.status_code in RETRY_STATUSES:
            failure = f"the collector answered {response.status_code}: {response.text[:300]}"
            if attempt < attempts:
                sleep(retry_after_seconds(response.headers.get("retry-after"), backoff, longest_wait_s))
            continue
        raise SendError(
            f"the collector refused a batch with {response.status_code}: {_reason(response)}",
            status=response.status_code,
            body=response.text,
        )
    raise SendError(f"gave up on a batch after {attempts} attempts; last: {failure}")


def _reason(response: httpx.Response) -> str:
    try:
        answer = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    if isinstance(answer, dict) and "error" in answer:
        return f"{answer['error']} ({answer.get('detail', '')})"
    return response.text[:300]


def run_demo(
    url: str, write_key: str = "demo_key", visitors: int = 200, days: int = 7, seed: int = 1, progress: bool = True
) -> DemoResult:
    """Generates the demo traffic ending now and sends it to the collector at `url`."""
    messages, plan = generate(datetime.now(UTC), visitors=visitors, days=days, seed=seed)
    sent = send(messages, url, write_key=write_key, progress=progress)
    return DemoResult(plan, sent)
