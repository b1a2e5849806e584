"""A live customer profile, as a pure function: (profile, event) → profile. It holds what
segment rules ask about, and every figure is independent of the order events arrive in,
since they arrive in any order and may be replayed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from processors.analytics import surveys
from processors.analytics.clv.summary import day_of_ms
from processors.analytics.evolve import evolve
from processors.sessionisation.sessions import campaign_of, referrer_host

ENGAGED_EVENT = "Page Engaged"
PRODUCT_ADDED_EVENT = "Product Added"
CHECKOUT_STARTED_EVENT = "Checkout Started"
CART_EVENTS = (PRODUCT_ADDED_EVENT, CHECKOUT_STARTED_EVENT)
# Event fields whose latest value (by event time) describes the customer now; geography is
# the collector's (collector.geo).
LATEST_FIELDS = ("user_id", "device", "browser", "os", "locale", "country", "region", "city")
RECENT_IDS_LIMIT = 512
RECENT_SESSIONS_LIMIT = 64


class Stamped(NamedTuple):
    """A value with the event that set it; the later event (by time, then id) wins.

    A named tuple: an event stamps several of them, and it is much cheaper to make than
    a frozen dataclass."""

    value: Any
    ts_ms: int
    event_id: str

    def key(self) -> tuple[int, str]:
        return self.ts_ms, self.event_id


@dataclass(frozen=True)
class ProductStats:
    """What one customer did with one product: added to cart, bought and spent."""

    added: int = 0
    purchased: float = 0.0
    revenue: float = 0.0


@dataclass(frozen=True)
class Acquisition:
    """Where the customer's earliest event came from: its campaign, else its referrer."""

    source: str
    medium: str
    campaign: str


@dataclass(frozen=True)
class CustomerProfile:
    """What is known of one visitor as a customer, kept up to date event by event."""

    site_id: str
    visitor: str
    first_seen_ms: int | None = None
    last_seen_ms: int | None = None
    events: int = 0
    sessions: int = 0
    page_views: int = 0
    engaged_ms: float = 0.0
    max_scroll_pct: float = 0.0
    purchases: int = 0
    revenue: float = 0.0
    first_purchase_ms: int | None = None
    last_purchase_ms: int | None = None
    cart_adds: int = 0
    last_cart_ms: int | None = None
    products: Mapping[str, ProductStats] = field(default_factory=dict)
    # LATEST_FIELDS by name, and traits as "traits.<name>".
    latest: Mapping[str, Stamped] = field(default_factory=dict)
    acquisition: Stamped | None = None  # value: Acquisition
    surveys: Mapping[str, surveys.Answer] = field(default_factory=dict)
    order_ids: frozenset[str] = frozenset()
    # Spend per UTC day with a purchase (days since the epoch): the lifetime value models
    # count a day's purchases as one transaction. At most one entry a day of the
    # collector's horizon.
    purchase_days: Mapping[int, float] = field(default_factory=dict)
    recent_sessions: tuple[str, ...] = ()
    recent_ids: tuple[str, ...] = ()

    @property
    def user_id(self) -> str | None:
        stamped = self.latest.get("user_id")
        return stamped.value if stamped else None

    @property
    def customer_id(self) -> str:
        """The user id once known, else the visitor's anonymous id."""
        return self.user_id or self.visitor

    @property
    def traits(self) -> dict[str, Any]:
        return {name[len("traits."):]: s.value for name, s in self.latest.items() if name.startswith("traits.")}

    def value(self, name: str) -> Any:
        """The latest value of one of LATEST_FIELDS, None if never seen."""
        stamped = self.latest.get(name)
        return stamped.value if stamped else None

    @property
    def is_anonymous(self) -> bool:
        """Never identified (no user id, no traits) and never bought: a visitor's profile,
        which expires after a spell of inactivity; a customer's is kept."""
        return self.purchases == 0 and not any(name == "user_id" or name.startswith("traits.") for name in self.latest)


def _min(current: int | None, ts_ms: int) -> int:
    return ts_ms if current is None else min(current, ts_ms)


def _max(current: int | None, ts_ms: int) -> int:
    return ts_ms if current is None else max(current, ts_ms)


def _number(value: Any, default: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    return float(value)


def product_key(product: Mapping[str, Any]) -> str | None:
    """A product's identity: Segment's product_id, else its sku, else its name."""
    for key in ("product_id", "sku", "name"):
        value = product.get(key)
        if value not in (None, ""):
            return str(value)
    return None


def acquisition_of(event: Mapping[str, Any]) -> Acquisition:
    """The event's campaign; else its referrer, unless that is the site itself; else direct."""
    campaign = campaign_of(event)
    if campaign:
        source, medium, name = campaign
        return Acquisition(source or "(not set)", medium or "(not set)", name)
    host = referrer_host(event.get("referrer"))
    if host and host != urlsplit(event.get("url") or "").hostname:
        return Acquisition(host, "referral", "")
    return Acquisition("direct", "none", "")


def _stamp_latest(latest: Mapping[str, Stamped], values: Mapping[str, Any], ts_ms: int, event_id: str) -> Mapping[str, Stamped]:
    changed = dict(latest)
    for name, value in values.items():
        if value is None:
            continue
        current = changed.get(name)
        if current is None or (ts_ms, event_id) > current.key():
            changed[name] = Stamped(value, ts_ms, event_id)
    return changed


def _products(current: Mapping[str, ProductStats], items: list[tuple[str, ProductStats]]) -> Mapping[str, ProductStats]:
    if not items:
        return current
    merged = dict(current)
    for key, stats in items:
        before = merged.get(key, ProductStats())
        merged[key] = ProductStats(
            before.added + stats.added, before.purchased + stats.purchased, before.revenue + stats.revenue
        )
    return merged


def _ordered_products(properties: Mapping[str, Any]) -> list[tuple[str, ProductStats]]:
    items = []
    for product in properties.get("products") or []:
        key = product_key(product) if isinstance(product, Mapping) else None
        if key is not None:
            quantity = _number(product.get("quantity"), 1.0)
            items.append((key, ProductStats(purchased=quantity, revenue=quantity * _number(product.get("price")))))
    return items


def _purchase(profile: CustomerProfile, event: Mapping[str, Any], ts_ms: int) -> CustomerProfile:
    order_id = event.get("order_id")
    if order_id and order_id in profile.order_ids:
        return profile
    revenue = _number(event.get("revenue"))
    day = day_of_ms(ts_ms)
    return evolve(
        profile,
        purchases=profile.purchases + 1,
        revenue=profile.revenue + revenue,
        purchase_days={**profile.purchase_days, day: profile.purchase_days.get(day, 0.0) + revenue},
        first_purchase_ms=_min(profile.first_purchase_ms, ts_ms),
        last_purchase_ms=_max(profile.last_purchase_ms, ts_ms),
        products=_products(profile.products, _ordered_products(event.get("properties") or {})),
        order_ids=profile.order_ids | {order_id} if order_id else profile.order_ids,
    )


def _cart(profile: CustomerProfile, event: Mapping[str, Any], ts_ms: int) -> CustomerProfile:
    added = event.get("name") == PRODUCT_ADDED_EVENT
    key = product_key(event.get("properties") or {}) if added else None
    return evolve(
        profile,
        cart_adds=profile.cart_adds + added,
        last_cart_ms=_max(profile.last_cart_ms, ts_ms),
        products=_products(profile.products, [(key, ProductStats(added=1))] if key else []),
    )


def _survey(profile: CustomerProfile, event: Mapping[str, Any], ts_ms: int) -> CustomerProfile:
    answer = surveys.parse_answer(event, ts_ms)
    if isinstance(answer, surveys.InvalidAnswer):
        return profile
    return evolve(profile, surveys={**profile.surveys, answer.survey: surveys.latest(profile.surveys.get(answer.survey), answer)})


def _behaviour(profile: CustomerProfile, event: Mapping[str, Any], ts_ms: int) -> CustomerProfile:
    """What the event's kind adds: a page view, scroll depth, engaged time, a purchase,
    a cart step, a survey answer or traits."""
    kind, name = event.get("type"), event.get("name")
    if kind == "page_view":
        return evolve(profile, page_views=profile.page_views + 1)
    if kind == "scroll":
        return evolve(profile, max_scroll_pct=max(profile.max_scroll_pct, _number(event.get("scroll_pct"))))
    if kind == "purchase":
        return _purchase(profile, event, ts_ms)
    if kind == "identify":
        traits = {f"traits.{key}": value for key, value in (event.get("traits") or {}).items()}
        return evolve(profile, latest=_stamp_latest(profile.latest, traits, ts_ms, event["event_id"]))
    if kind == "track" and name == ENGAGED_EVENT:
        engaged = max(0.0, _number((event.get("properties") or {}).get("engaged_ms")))
        return evolve(profile, engaged_ms=profile.engaged_ms + engaged)
    if kind == "track" and name in CART_EVENTS:
        return _cart(profile, event, ts_ms)
    if surveys.is_survey(event):
        return _survey(profile, event, ts_ms)
    return profile


def _activity(profile: CustomerProfile, event: Mapping[str, Any], ts_ms: int) -> CustomerProfile:
    """What every event adds: when the customer was seen, in which session, on what device,
    and (for their earliest event) how they came."""
    event_id = event["event_id"]
    session_id = event.get("session_id")
    new_session = bool(session_id) and session_id not in profile.recent_sessions
    acquisition = profile.acquisition
    if acquisition is None or (ts_ms, event_id) < acquisition.key():
        acquisition = Stamped(acquisition_of(event), ts_ms, event_id)
    return evolve(
        profile,
        first_seen_ms=_min(profile.first_seen_ms, ts_ms),
        last_seen_ms=_max(profile.last_seen_ms, ts_ms),
        events=profile.events + 1,
        sessions=profile.sessions + new_session,
        recent_sessions=(*profile.recent_sessions, session_id)[-RECENT_SESSIONS_LIMIT:] if new_session else profile.recent_sessions,
        latest=_stamp_latest(profile.latest, {name: event.get(name) for name in LATEST_FIELDS}, ts_ms, event_id),
        acquisition=acquisition,
        recent_ids=(*profile.recent_ids, event_id)[-RECENT_IDS_LIMIT:],
    )


def update(profile: CustomerProfile, event: Mapping[str, Any], ts_ms: int) -> CustomerProfile:
    """The profile with one more event; the same profile if the event was seen already.

    `event` is the normalised event as JSON (schemas.event.Event), with the `session_id`
    sessionisation gave it earlier in the same batch.
    """
    if event["event_id"] in profile.recent_ids:
        return profile
    return _behaviour(_activity(profile, event, ts_ms), event, ts_ms)
