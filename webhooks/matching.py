"""Which of a site's hooks want a change: the event among its `on`, and the segment or
funnel among its filter when it has one."""

from __future__ import annotations

from collections.abc import Sequence

from infra.config import Webhook
from webhooks.changes import Change


def wants(hook: Webhook, change: Change) -> bool:
    if change.event not in hook.on:
        return False
    allowed = hook.funnels if change.kind == "funnel" else hook.segments
    return not allowed or change.subject in allowed


def hooks_for(hooks: Sequence[Webhook], change: Change) -> list[tuple[int, Webhook]]:
    """The hooks that want the change, each with its place among the site's hooks."""
    return [(index, hook) for index, hook in enumerate(hooks) if wants(hook, change)]
