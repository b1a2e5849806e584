"""A change goes to the hooks that ask for its event, and for its segment or funnel when they filter."""

from __future__ import annotations

from infra.config import Webhook
from webhooks.changes import Change
from webhooks.matching import hooks_for

SECRET = "0123456789abcdef"


def hook(**fields) -> Webhook:
    return Webhook(url="https://crm.example/hook", secret=SECRET, **fields)


def change(event: str, subject: str) -> Change:
    return Change(event, "shop", "a1", "a1", subject, 0, "", "id")


def test_the_event_and_the_filter_decide() -> None:
    hooks = [
        hook(on=["segment_entered"]),
        hook(on=["segment_entered", "segment_left"], segments=["cart_abandoners"]),
        hook(on=["funnel_completed"], funnels=["checkout"]),
        hook(on=["funnel_completed", "segment_left"]),
    ]
    assert [i for i, _ in hooks_for(hooks, change("segment_entered", "cart_abandoners"))] == [0, 1]
    assert [i for i, _ in hooks_for(hooks, change("segment_entered", "buyers"))] == [0]
    assert [i for i, _ in hooks_for(hooks, change("segment_left", "buyers"))] == [3]
    assert [i for i, _ in hooks_for(hooks, change("funnel_completed", "checkout"))] == [2, 3]
    assert [i for i, _ in hooks_for(hooks, change("funnel_completed", "signup"))] == [3]
    assert hooks_for([], change("segment_entered", "buyers")) == []
