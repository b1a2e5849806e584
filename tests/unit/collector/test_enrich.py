from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector.enrich import RequestMeta, event_time, normalise
from collector.geo import Geolocator
from collector.parsing import validate_message
from schemas.event import EventType

RECEIVED = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)
META = RequestMeta(site_id="demo", received_at=RECEIVED, client_ip="192.0.2.44", user_agent="curl/8.0")
moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC))
offsets = st.timedeltas(min_value=timedelta(days=-2), max_value=timedelta(days=2))
LOCATE = Geolocator().locate
waits = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=6))


@given(happened=moments, clock_error=offsets, waited=waits, transit=st.timedeltas(timedelta(0), timedelta(seconds=5)))
def test_device_clock_error_cancels_out(happened, clock_error, waited, transit) -> None:
    """Whatever the device clock's error, the derived time is the receive time minus the
    time the event waited on the device."""
    timestamp = happened + clock_error
    sent_at = happened + waited + clock_error
    received = happened + waited + transit
    assert event_time(received, timestamp, sent_at) == happened + transit


def test_an_event_stamped_after_its_batch_was_sent_is_placed_at_receipt() -> None:
    sent_at = RECEIVED - timedelta(hours=3)  # the device clock is three hours slow
    assert event_time(RECEIVED, sent_at + timedelta(days=400), sent_at) == RECEIVED
    assert event_time(RECEIVED, sent_at - timedelta(seconds=2), sent_at) == RECEIVED - timedelta(seconds=2)


def test_an_event_that_waited_millennia_is_refused_not_raised() -> None:
    with pytest.raises(ValueError, match="falls off the calendar"):
        event_time(RECEIVED, datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC))


def test_event_time_without_both_clocks() -> None:
    assert event_time(RECEIVED, None, None) == RECEIVED
    stamped = RECEIVED - timedelta(minutes=3)
    assert event_time(RECEIVED, stamped, None) == stamped
    assert event_time(RECEIVED, stamped.replace(tzinfo=None), None) == stamped


def norm(message: dict, meta: RequestMeta = META):
    return normalise(validate_message(message), meta, lambda: "fallback-id", LOCATE)


def test_reserved_names_become_behaviour_types_with_flat_fields() -> None:
    click = norm({"type": "track", "event": "Element Clicked", "anonymousId": "a",
                  "properties": {"selector": "a.buy", "tag": "a", "text": "Buy", "x": 3, "y": 4, "viewport_width": 800}})
    assert (click.type, click.selector, click.x, click.y, click.viewport_width) == (EventType.CLICK, "a.buy", 3, 4, 800)
    scroll = norm({"type": "track", "event": "Page Scrolled", "anonymousId": "a", "properties": {"depth": 50}})
    assert (scroll.type, scroll.scroll_pct) == (EventType.SCROLL, 50)
    order = norm({"type": "track", "event": "Order Completed", "userId": "u", "properties": {"order_id": "o1", "revenue": 10, "total": 12}})
    assert (order.type, order.revenue, order.order_id) == (EventType.PURCHASE, 10, "o1")
    by_total = norm({"type": "track", "event": "Order Completed", "userId": "u", "properties": {"order_id": "o2", "total": 12}})
    assert by_total.revenue == 12
    other = norm({"type": "track", "event": "Video Played", "anonymousId": "a", "properties": {"x": "not a click"}})
    assert (other.type, other.name, other.x, other.properties) == (EventType.TRACK, "Video Played", None, {"x": "not a click"})


@pytest.mark.parametrize(
    ("event", "properties", "reason"),
    [
        ("Element Clicked", {"x": 1, "y": 2}, "properties.selector: Field required"),
        ("Page Scrolled", {"depth": 140}, "properties.depth:"),
        ("Order Completed", {"order_id": "o"}, "properties: revenue or total is required"),
        ("Order Completed", {"revenue": 5}, "properties.order_id:"),
    ],
)
def test_bad_reserved_properties_name_the_field(event: str, properties: dict, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        norm({"type": "track", "event": event, "anonymousId": "a", "properties": properties})
    assert str(caught.value).startswith(reason)


def test_page_view_context_campaign_and_request_fallbacks() -> None:
    page = norm({"type": "page", "anonymousId": "a", "messageId": "m1",
                 "properties": {"url": "https://x.test/a/b?utm_source=ads&utm_campaign=spring"}})
    assert (page.event_id, page.type, page.name, page.path) == ("m1", EventType.PAGE_VIEW, "Page Viewed", "/a/b")
    assert (page.utm_source, page.utm_campaign, page.utm_medium) == ("ads", "spring", None)
    assert page.ip == "192.0.2.0" and page.device == "unknown"
    assert page.kafka_key == b"demo:a"

    campaign = norm({"type": "page", "userId": "u", "anonymousId": "a",
                     "context": {"campaign": {"source": "mail", "name": "c"}, "ip": "2001:db8::1", "page": {"path": "/p"}}})
    assert (campaign.utm_source, campaign.utm_campaign, campaign.path, campaign.ip) == ("mail", "c", "/p", "2001:db8::")
    assert campaign.event_id == "fallback-id" and campaign.kafka_key == b"demo:a"
    server_side = norm({"type": "track", "event": "E", "userId": "u"})
    assert server_side.kafka_key == b"demo:u"


def test_identify_keeps_traits_and_no_raw_ip_anywhere() -> None:
    event = norm({"type": "identify", "userId": "u", "traits": {"age": 30}, "context": {"ip": "198.51.100.250"}})
    assert event.traits == {"age": 30} and event.type == EventType.IDENTIFY
    assert "198.51.100.250" not in event.model_dump_json()


@pytest.mark.parametrize("field", ["url", "path", "referrer", "title"])
@pytest.mark.parametrize("value", [["https://a.test/"], {"href": "x"}, True])
def test_a_page_calls_own_url_path_referrer_and_title_must_be_text(field: str, value: object) -> None:
    """They are free properties on the wire, but sessionisation reads them as text."""
    with pytest.raises(ValueError) as caught:
        norm({"type": "page", "anonymousId": "a", "properties": {field: value}})
    assert str(caught.value).startswith(f"properties.{field}:")


def test_a_page_calls_own_properties_win_over_its_context_and_numbers_become_text() -> None:
    page = norm({"type": "page", "anonymousId": "a", "properties": {"path": "/own", "referrer": "https://r.test/", "title": 404},
                 "context": {"page": {"path": "/context", "referrer": "https://c.test/"}}})
    assert (page.path, page.referrer, page.title) == ("/own", "https://r.test/", "404")
