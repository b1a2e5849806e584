"""The wire format: the Segment HTTP Tracking API, as SDKs send it.

footfall speaks Segment's format so that existing Segment- and RudderStack-compatible
SDKs send to it unchanged. These models accept what those SDKs send (unknown fields are
kept, not refused, since SDKs add their own) and name precisely what is wrong otherwise.

The reserved behaviours footfall models are ordinary Segment track calls with agreed
names, so any SDK can produce them: "Element Clicked", "Page Scrolled" and Segment's
e-commerce "Order Completed".
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

CLICK_EVENT = "Element Clicked"
SCROLL_EVENT = "Page Scrolled"
ORDER_COMPLETED_EVENT = "Order Completed"


class _Open(BaseModel):
    """A part of a message that SDKs extend freely: extra keys are kept."""

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True, populate_by_name=True)


class PageContext(_Open):
    path: str | None = None
    referrer: str | None = None
    search: str | None = None
    title: str | None = None
    url: str | None = None


class Campaign(_Open):
    name: str | None = None
    source: str | None = None
    medium: str | None = None
    term: str | None = None
    content: str | None = None


class Screen(_Open):
    width: int | None = None
    height: int | None = None
    density: float | None = None


class Library(_Open):
    name: str | None = None
    version: str | None = None


class Context(_Open):
    page: PageContext | None = None
    user_agent: str | None = Field(default=None, alias="userAgent")
    ip: str | None = None
    campaign: Campaign | None = None
    screen: Screen | None = None
    locale: str | None = None
    library: Library | None = None


class _Message(_Open):
    message_id: str | None = Field(default=None, alias="messageId", max_length=200)
    anonymous_id: str | None = Field(default=None, alias="anonymousId", max_length=200)
    user_id: str | None = Field(default=None, alias="userId", max_length=200)
    timestamp: datetime | None = None
    sent_at: datetime | None = Field(default=None, alias="sentAt")
    context: Context = Field(default_factory=Context)
    write_key: str | None = Field(default=None, alias="writeKey")

    @model_validator(mode="after")
    def _needs_a_visitor(self) -> "_Message":
        if not self.anonymous_id and not self.user_id:
            raise ValueError("anonymousId or userId is required")
        return self


class TrackMessage(_Message):
    type: Literal["track"]
    event: str = Field(min_length=1, max_length=200)
    properties: dict[str, Any] = Field(default_factory=dict)


class PageMessage(_Message):
    type: Literal["page"]
    name: str | None = None
    category: str | None = None
    properties: dict[str, Any] = Field(default_factory=dict)


class IdentifyMessage(_Message):
    type: Literal["identify"]
    traits: dict[str, Any] = Field(default_factory=dict)


Message = Annotated[Union[TrackMessage, PageMessage, IdentifyMessage], Field(discriminator="type")]
MESSAGE = TypeAdapter(Message)
MESSAGE_TYPES = ("track", "page", "identify")


class ClickProperties(_Open):
    """Properties of "Element Clicked": what a heatmap needs, never an input's value."""

    selector: str = Field(max_length=1000)
    tag: str | None = None
    text: str | None = Field(default=None, max_length=1000)
    x: float
    y: float
    page_width: float | None = None
    page_height: float | None = None
    viewport_width: float | None = None
    viewport_height: float | None = None


class ScrollProperties(_Open):
    """Properties of "Page Scrolled": the deepest point reached, in percent of the page."""

    depth: float = Field(ge=0, le=100)
    page_height: float | None = None


class Product(_Open):
    product_id: str | None = None
    sku: str | None = None
    name: str | None = None
    price: float | None = None
    quantity: float | None = None
    category: str | None = None


class OrderProperties(_Open):
    """Properties of Segment's e-commerce "Order Completed"."""

    order_id: str = Field(min_length=1)
    revenue: float | None = None
    total: float | None = None
    currency: str | None = Field(default=None, max_length=8)
    products: list[Product] = Field(default_factory=list)

    @model_validator(mode="after")
    def _needs_an_amount(self) -> "OrderProperties":
        if self.revenue is None and self.total is None:
            raise ValueError("revenue or total is required")
        return self


RESERVED_PROPERTIES: dict[str, type[_Open]] = {
    CLICK_EVENT: ClickProperties,
    SCROLL_EVENT: ScrollProperties,
    ORDER_COMPLETED_EVENT: OrderProperties,
}
