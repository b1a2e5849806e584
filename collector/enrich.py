"""From a validated Segment message to footfall's normalised event, without any I/O.

Enrichment adds what the server knows and the device does not: when the event really
happened on the server's clock, what the user agent is, and where the visitor is: the
place is looked up from the full address, and only the anonymised address is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, ValidationError

from collector.bots import is_bot
from collector.geo import Place
from collector.parsing import describe_error
from collector.privacy import anonymise_ip
from collector.useragent import UNKNOWN, AgentBudget, parse_user_agent
from schemas.event import Event, EventType
from schemas.wire import (
    CLICK_EVENT,
    ORDER_COMPLETED_EVENT,
    RESERVED_PROPERTIES,
    SCROLL_EVENT,
    ClickProperties,
    IdentifyMessage,
    Message,
    OrderProperties,
    PageContext,
    PageMessage,
    ScrollProperties,
    TrackMessage,
)

TRACK_TYPES = {
    CLICK_EVENT: EventType.CLICK,
    SCROLL_EVENT: EventType.SCROLL,
    ORDER_COMPLETED_EVENT: EventType.PURCHASE,
}
PAGE_VIEW_NAME = "Page Viewed"
IDENTIFY_NAME = "Identify"


@dataclass(frozen=True)
class RequestMeta:
    """What the collector knows about the request that carried a message."""

    site_id: str
    received_at: datetime
    client_ip: str | None
    user_agent: str | None
    # Shared by the request's messages: how many new user agents it may still have parsed.
    agents: AgentBudget = field(default_factory=AgentBudget)


def event_time(received_at: datetime, timestamp: datetime | None, sent_at: datetime | None) -> datetime:
    """The device's timestamp moved onto the server's clock.

    A device clock can be hours off, but the same error sits in both `timestamp` and
    `sentAt`, so their difference (how long the event waited on the device) is right; it is
    subtracted from the moment the server received the batch. An event stamped after its
    own batch was sent cannot have waited a negative time: like Segment, it is placed at
    the moment of receipt. Without `sentAt` the timestamp is taken as sent; the collector
    then refuses one outside its horizon (collector.limits).
    """
    if timestamp is None:
        return received_at
    if sent_at is None:
        return timestamp if timestamp.tzinfo else timestamp.replace(tzinfo=received_at.tzinfo)
    waited = _aware(sent_at, received_at) - _aware(timestamp, received_at)
    try:
        return received_at - max(waited, timedelta(0))
    except OverflowError:
        raise ValueError("timestamp: so long before sentAt that on the server's clock it falls off the calendar") from None


def _aware(moment: datetime, reference: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=reference.tzinfo)


def _campaign_from_url(url: str | None) -> dict[str, str]:
    if not url or "utm_" not in url:
        return {}
    query = parse_qs(urlsplit(url).query)
    return {key: values[0] for key, values in query.items() if key.startswith("utm_") and values}


def _typed_properties(model: type[BaseModel], properties: dict[str, Any]) -> Any:
    try:
        return model.model_validate(properties)
    except ValidationError as exc:
        raise ValueError(describe_error(exc, within="properties")) from None


NO_PAGE_PROPERTIES = PageContext()  # read, never changed


def _page_properties(message: Message) -> PageContext:
    """A page call's own url, path, referrer and title, typed as the context's page is
    (empty for other calls): its properties are otherwise free, and a list where a referrer
    belongs must be refused here, not met by the sessioniser."""
    if not isinstance(message, PageMessage):
        return NO_PAGE_PROPERTIES
    return _typed_properties(PageContext, message.properties)


def _behaviour_fields(message: Message) -> dict[str, Any]:
    """The flat fields of a reserved behaviour: coordinates, depth, revenue."""
    if not isinstance(message, TrackMessage) or message.event not in RESERVED_PROPERTIES:
        return {}
    props = _typed_properties(RESERVED_PROPERTIES[message.event], message.properties)
    if isinstance(props, ClickProperties):
        return props.model_dump(
            include={"selector", "tag", "text", "x", "y", "page_width", "page_height", "viewport_width", "viewport_height"}
        )
    if isinstance(props, ScrollProperties):
        return {"scroll_pct": props.depth, "page_height": props.page_height}
    assert isinstance(props, OrderProperties)
    revenue = props.revenue if props.revenue is not None else props.total
    return {"revenue": revenue, "currency": props.currency.upper() if props.currency else None, "order_id": props.order_id}


def _type_and_name(message: Message) -> tuple[EventType, str]:
    if isinstance(message, PageMessage):
        return EventType.PAGE_VIEW, message.name or PAGE_VIEW_NAME
    if isinstance(message, IdentifyMessage):
        return EventType.IDENTIFY, IDENTIFY_NAME
    return TRACK_TYPES.get(message.event, EventType.TRACK), message.event


def normalise(
    message: Message,
    meta: RequestMeta,
    fallback_event_id: Callable[[], str],
    locate: Callable[[str | None], Place],
) -> Event:
    """The normalised event for one message; ValueError names a bad reserved property.

    `fallback_event_id` is called only when an SDK sent no messageId; a message that did
    carry one keeps it, so its retries map to the same event_id downstream. `locate` places
    an IP address (collector.geo).
    """
    context = message.context
    page = context.page
    own = _page_properties(message)
    url = own.url or (page.url if page else None)
    campaign = context.campaign
    from_url = _campaign_from_url(url)
    user_agent = context.user_agent or meta.user_agent
    described = meta.agents.allows(user_agent)
    agent = parse_user_agent(user_agent) if described else UNKNOWN
    screen = context.screen
    library = context.library
    event_type, name = _type_and_name(message)
    properties = message.properties if isinstance(message, (TrackMessage, PageMessage)) else {}
    ip = context.ip or meta.client_ip
    place = locate(ip)

    # Every field is already validated or derived here, so a second validation pass
    # would only cost time on every event.
    return Event.model_construct(
        event_id=message.message_id or fallback_event_id(),
        site_id=meta.site_id,
        type=event_type,
        name=name,
        ts=event_time(meta.received_at, message.timestamp, message.sent_at),
        received_at=meta.received_at,
        client_ts=message.timestamp,
        sent_at=message.sent_at,
        anonymous_id=message.anonymous_id,
        user_id=message.user_id,
        url=url,
        path=own.path or (page.path if page else None) or (urlsplit(url).path if url else None),
        referrer=own.referrer or (page.referrer if page else None),
        title=own.title or (page.title if page else None),
        browser=agent.browser,
        browser_version=agent.browser_version,
        os=agent.os,
        os_version=agent.os_version,
        device=agent.device,
        bot=described and is_bot(user_agent),
        ip=anonymise_ip(ip),
        country=place.country,
        region=place.region,
        city=place.city,
        locale=context.locale,
        screen_width=screen.width if screen else None,
        screen_height=screen.height if screen else None,
        utm_source=(campaign.source if campaign else None) or from_url.get("utm_source"),
        utm_medium=(campaign.medium if campaign else None) or from_url.get("utm_medium"),
        utm_campaign=(campaign.name if campaign else None) or from_url.get("utm_campaign"),
        utm_term=(campaign.term if campaign else None) or from_url.get("utm_term"),
        utm_content=(campaign.content if campaign else None) or from_url.get("utm_content"),
        library_name=library.name if library else None,
        library_version=library.version if library else None,
        properties=properties,
        traits=message.traits if isinstance(message, IdentifyMessage) else {},
        **_behaviour_fields(message),
    )
