"""One simulated browser at the demo shop: its sessions of page views, scrolls, clicks,
engaged time, cart steps, identifies, orders and survey answers, as a browser SDK would
record them. A visitor who buys becomes a customer who comes back to buy again until,
one day, they no longer do: the repeat buying the lifetime value models describe (each
customer a purchase rate and a chance of dropping out after each purchase). Pure:
everything follows from the random generator it is given, on a clock of its own."""

from __future__ import annotations

import math
import random
import uuid
from typing import Any
from urllib.parse import urlencode

from footfall.demo import feedback
from footfall.demo.catalogue import (
    BLOG_PATHS,
    CAMPAIGNS,
    CURRENCY,
    DEVICES,
    GENDERS,
    INCOME_BANDS,
    LIBRARY,
    LOCALES,
    OCCUPATIONS,
    PAGES,
    PLACE_ORDER,
    PLANS,
    PRODUCT_PATHS,
    PRODUCTS,
    REFERRERS,
    SHOP,
    Link,
    ShopProduct,
)
from processors.analytics.profiles import CHECKOUT_STARTED_EVENT, ENGAGED_EVENT, PRODUCT_ADDED_EVENT
from schemas.surveys import SURVEY_EVENT
from schemas.wire import CLICK_EVENT, ORDER_COMPLETED_EVENT, SCROLL_EVENT

SECOND_MS = 1000
MINUTE_MS = 60 * SECOND_MS
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
# Sessions are told apart by 30 minutes of inactivity, the usual web-analytics convention.
# Between sessions: from comfortably past it to a few days.
SESSION_GAP_MS = (45 * MINUTE_MS, 3 * DAY_MS)
# Within a session: no pause comes near it.
LONGEST_PAUSE_MS = 12 * MINUTE_MS
# A customer's purchase rate per day is Gamma distributed (shape, scale: one purchase in
# ten days on average) and their chance of dropping out after a purchase Beta distributed
# (two in five on average), as BG/NBD assumes; the repeat orders of one customer are bounded.
PURCHASE_RATE = (2.0, 1 / 20)
DROPOUT = (2.0, 3.0)
MAX_REPEAT_ORDERS = 24
# The surveys a customer may answer after an order, each with the chance they do.
SURVEYS = (("csat", 0.5), ("ces", 0.4), ("nps", 0.35))

Timed = tuple[int, dict[str, Any]]
"""A message and the moment it happens, in milliseconds from the visitor's first event."""


def random_uuid(rng: random.Random) -> str:
    """A version-4 UUID drawn from `rng`, so ids repeat with the seed."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


class Visitor:
    """One browser's journeys, on a clock of milliseconds from its first event."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.anonymous_id = random_uuid(rng)
        self.device = rng.choices([d for d, _ in DEVICES], [w for _, w in DEVICES])[0]
        self.locale, self.country, network = rng.choice(LOCALES)
        self.ip = f"{network}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        self.will_identify = rng.random() < 1 / 3
        # How the visitor shops and feels: how much dearer things attract them (a product's
        # weight is its price to this power: bargain hunters below 0), how many products
        # they usually buy at once, their satisfaction (0 to 1), and what matters to them most.
        self.taste = [p.price_cents ** rng.uniform(-6, 6) for p in PRODUCTS]
        self.basket = rng.choices((1, 2, 3), (6, 3, 1))[0]
        self.mood = rng.betavariate(5, 2)
        self.concern = pick(rng, feedback.CONCERNS)
        self.orders = 0
        self.user_id: str | None = None
        self.clock = 0
        self.sessions: list[list[Timed]] = []
        self._session: list[Timed] = []
        # The page being looked at: its context, the deepest point scrolled to.
        self._page: dict[str, Any] = {}
        self._campaign: dict[str, str] | None = None
        self._depth = 0
        self._viewed_at = 0
        self._cart: list[ShopProduct] = []

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
        message: dict[str, Any] = {"type": kind, "messageId": random_uuid(self.rng), "anonymousId": self.anonymous_id}
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
        self._viewed_at = self.clock
        self.emit("page", name=page.title, properties=dict(self._page))

    def leave(self) -> None:
        """Ends the page view as the tracker does: the time the page was visible and in use."""
        self.wait(200, 1500)
        in_view = self.clock - self._viewed_at
        self.emit("track", event=ENGAGED_EVENT, properties={"engaged_ms": round(in_view * self.rng.uniform(0.45, 0.95))})

    def cart_step(self, next_path: str) -> None:
        """From a product page to the cart the product goes in it; from the cart to the checkout, checkout starts."""
        path = self._page["path"]
        if next_path == "/cart" and path in PRODUCT_PATHS:
            product = PRODUCTS[PRODUCT_PATHS.index(path)]
            self._cart.append(product)
            self.wait(SECOND_MS, 3 * SECOND_MS)
            self.emit("track", event=PRODUCT_ADDED_EVENT, properties={
                "product_id": product.product_id, "sku": product.slug, "name": product.name,
                "category": product.category, "price": product.price_cents / 100, "quantity": 1, "currency": CURRENCY,
            })
        elif next_path == "/checkout" and path == "/cart":
            self.wait(SECOND_MS, 3 * SECOND_MS)
            self.emit("track", event=CHECKOUT_STARTED_EVENT, properties={
                "products": len(self._cart), "value": sum(p.price_cents for p in self._cart) / 100, "currency": CURRENCY,
            })

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

    def click(self, link: Link) -> None:
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
            "plan": pick(rng, PLANS),
            "age": rng.randint(18, 72),
            "gender": pick(rng, GENDERS),
            "occupation": pick(rng, OCCUPATIONS),
            "income_band": pick(rng, INCOME_BANDS),
            "country": self.country,
            "locale": self.locale,
        })

    def order(self) -> None:
        """What is in the cart, topped up to the visitor's usual basket."""
        rng = self.rng
        chosen = list(dict.fromkeys(self._cart)) or [self.favourite(PRODUCTS)]
        while len(chosen) < self.basket:
            chosen.append(self.favourite([p for p in PRODUCTS if p not in chosen]))
        products = [(product, rng.choices((1, 2), (5, 1))[0]) for product in chosen]
        self._cart = []
        self.orders += 1
        revenue_cents = sum(p.price_cents * q for p, q in products)
        self.click(PLACE_ORDER)
        self.wait(SECOND_MS, 6 * SECOND_MS)
        self.emit("track", event=ORDER_COMPLETED_EVENT, properties={
            "order_id": f"order-{rng.getrandbits(40):010x}",
            "revenue": revenue_cents / 100,
            "currency": CURRENCY,
            "products": [{"product_id": p.product_id, "sku": p.slug, "name": p.name, "category": p.category,
                          "price": p.price_cents / 100, "quantity": q} for p, q in products],
        })

    def favourite(self, products: tuple[ShopProduct, ...] | list[ShopProduct]) -> ShopProduct:
        """One of the products, as this visitor's taste weighs them."""
        return self.rng.choices(products, [self.taste[PRODUCTS.index(p)] for p in products])[0]

    def answer_surveys(self) -> None:
        """After an order, the surveys the shop shows: each answered or not."""
        rng = self.rng
        for survey, chance in SURVEYS:
            if rng.random() < chance:
                self.wait(5 * SECOND_MS, 60 * SECOND_MS)
                self.emit("track", event=SURVEY_EVENT,
                          properties=feedback.answer(rng, survey, self.mood, self.concern, self.locale))

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
            route += [PRODUCT_PATHS[PRODUCTS.index(self.favourite(PRODUCTS))], "/cart", "/checkout"]
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
            self.cart_step(next_path)
            self.leave()
            self.wait(SECOND_MS, 5 * SECOND_MS)
            self.view(next_path, self._page["url"])
        if kind == "purchase":
            self.order()
            self.answer_surveys()
        self.leave()
        self.sessions.append(self._session)

    def journeys(self, horizon_ms: int) -> None:
        """A few visits; then, for a customer, orders again and again until they drop out
        or the clock passes `horizon_ms`."""
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
        if self.orders:
            self.buy_again(horizon_ms)

    def buy_again(self, horizon_ms: int) -> None:
        rng = self.rng
        rate_per_day = rng.gammavariate(*PURCHASE_RATE)
        dropout = rng.betavariate(*DROPOUT)
        for _ in range(MAX_REPEAT_ORDERS):
            if self.clock > horizon_ms or rng.random() < dropout:
                return
            self.clock += max(SESSION_GAP_MS[0], round(rng.expovariate(rate_per_day) * DAY_MS))
            self.session("purchase", identify_here=False)


def pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    """One of the values, by its weight."""
    return rng.choices([value for value, _ in weighted], [weight for _, weight in weighted])[0]
