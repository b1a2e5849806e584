"""The normalised internal event: what the collector writes to Kafka, one record each.

Every later stage (sessioniser, segments, funnels, the ClickHouse sink) reads this one
shape, so the Segment dialect is dealt with once, at the edge. Fields are flat where
analysts query them (heatmap coordinates, revenue, campaign) and the rest stays in
`properties`/`traits` as JSON.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict


class EventType(StrEnum):
    PAGE_VIEW = "page_view"
    CLICK = "click"
    SCROLL = "scroll"
    PURCHASE = "purchase"
    IDENTIFY = "identify"
    TRACK = "track"


class Event(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_id: str
    site_id: str
    type: EventType
    name: str
    # The event's time on the server's clock: the device's timestamp corrected for its
    # clock skew (received_at - (sent_at - timestamp)); received_at when none was sent.
    ts: datetime
    received_at: datetime
    client_ts: datetime | None = None
    sent_at: datetime | None = None
    anonymous_id: str | None = None
    user_id: str | None = None

    url: str | None = None
    path: str | None = None
    referrer: str | None = None
    title: str | None = None

    selector: str | None = None
    tag: str | None = None
    text: str | None = None
    x: float | None = None
    y: float | None = None
    page_width: float | None = None
    page_height: float | None = None
    viewport_width: float | None = None
    viewport_height: float | None = None
    scroll_pct: float | None = None

    revenue: float | None = None
    currency: str | None = None
    order_id: str | None = None

    browser: str | None = None
    browser_version: str | None = None
    os: str | None = None
    os_version: str | None = None
    device: str | None = None
    # Sent by a crawler or a headless browser (collector.bots). Such events are stored, but
    # left out of the analytics unless their site counts bots (Site.count_bots).
    bot: bool = False
    # Anonymised before anything is stored: IPv4 without its last octet, IPv6 without
    # its last 80 bits. The raw address never leaves the collector's request handler.
    ip: str | None = None
    # Where the full address placed the visitor (collector.geo): an ISO country code, the
    # region and city only when a MaxMind City database is configured.
    country: str | None = None
    region: str | None = None
    city: str | None = None
    locale: str | None = None
    screen_width: int | None = None
    screen_height: int | None = None

    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None

    library_name: str | None = None
    library_version: str | None = None

    properties: dict[str, Any] = {}
    traits: dict[str, Any] = {}

    @property
    def visitor_id(self) -> str:
        """The visitor the event belongs to: the anonymous id the browser keeps, else the
        user id. A browser sends the same anonymous id before and after identify, so a
        visitor who logs in mid-session stays one visitor, in one partition, in order."""
        return self.anonymous_id or self.user_id or ""

    @property
    def kafka_key(self) -> bytes:
        """Site and visitor: one visitor's events share a partition and so stay in order."""
        return visitor_key(self.site_id, self.visitor_id)


def visitor_key(site_id: str, visitor_id: str) -> bytes:
    return f"{site_id}:{visitor_id}".encode()


class InvalidMessage(BaseModel):
    """A message the collector could not accept, kept with its reason for the dead-letter topic."""

    site_id: str
    received_at: datetime
    endpoint: str
    reason: str
    raw: str
