"""The bounds on what one request may make the collector do, checked before anything is built.

Write keys are public, so a request can hold anything. Each message is measured once, as the
JSON it would be stored as (with the batch's shared context it will be merged with), and
refused alone when it breaks a bound; a request whose messages would add up to more output
than the budget is refused whole, before a single record is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson

from infra.config import RequestLimits as Limits

# What opens a container in JSON text: a message with no more of them than the depth
# bound cannot be nested deeper than it, so most messages skip the walk.
CONTAINER_OPENERS = (b"{", b"[")


class LimitExceeded(ValueError):
    """A message that breaks a bound, with a reason that names the bound."""


def measured_size(raw: Any, limits: Limits) -> int:
    """The bytes of one message as JSON, after checking its depth and string lengths.

    Raises LimitExceeded naming the first bound broken."""
    try:
        text = orjson.dumps(raw)
    except (orjson.JSONEncodeError, TypeError):
        # orjson refuses to write what is nested past its own limit, which is far deeper
        # than ours: the message is too deep.
        raise LimitExceeded(f"nested deeper than {limits.max_depth} levels") from None
    if len(text) > limits.max_message_bytes:
        raise LimitExceeded(f"{len(text)} bytes, over the limit of {limits.max_message_bytes} bytes a message")
    if sum(text.count(opener) for opener in CONTAINER_OPENERS) > limits.max_depth:
        _check_depth(raw, limits.max_depth)
    if len(text) > limits.max_string_chars:
        _check_strings(raw, limits.max_string_chars)
    return len(text)


def _check_depth(raw: Any, max_depth: int) -> None:
    """Iterative, so that no input can exhaust the interpreter's stack."""
    pending: list[tuple[Any, int]] = [(raw, 1)]
    while pending:
        value, depth = pending.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                if depth + 1 > max_depth:
                    raise LimitExceeded(f"nested deeper than {max_depth} levels")
                pending.append((child, depth + 1))


def _check_strings(raw: Any, max_chars: int) -> None:
    """Every key and string value, named by its path when one is too long."""
    pending: list[tuple[Any, str]] = [(raw, "")]
    while pending:
        value, path = pending.pop()
        if isinstance(value, str):
            if len(value) > max_chars:
                raise LimitExceeded(f"{path or 'the message'}: a string of {len(value)} characters, over the limit of {max_chars}")
        elif isinstance(value, dict):
            for key, child in value.items():
                if len(key) > max_chars:
                    raise LimitExceeded(f"{path or 'the message'}: a key of {len(key)} characters, over the limit of {max_chars}")
                pending.append((child, f"{path}.{key}" if path else key))
        elif isinstance(value, list):
            pending.extend((child, f"{path}[{index}]") for index, child in enumerate(value))


@dataclass(frozen=True)
class Measured:
    """Each message's size (None for one refused, with its reason) and the request's output."""

    sizes: list[int | None]
    reasons: dict[int, str]
    output_bytes: int


def measure(raws: Sequence[Any], shared_context: Any, limits: Limits) -> Measured:
    """Every message measured as it will be stored: its own JSON plus the shared context
    merged into it. The output counts each accepted message with that context, since the
    context's page fields are copied into every event."""
    shared = 0
    if isinstance(shared_context, dict) and shared_context:
        try:
            # Merged, the context sits one level inside each message; its bytes are counted
            # against each message below.
            bounds = limits.model_copy(update={"max_depth": limits.max_depth - 1, "max_message_bytes": limits.max_output_bytes})
            shared = measured_size(shared_context, bounds)
        except LimitExceeded as exc:
            # Every message would carry it: each is refused with the context's reason.
            reason = f"context: {exc}"
            return Measured([None] * len(raws), dict.fromkeys(range(len(raws)), reason), 0)
    sizes: list[int | None] = []
    reasons: dict[int, str] = {}
    for index, raw in enumerate(raws):
        try:
            size = measured_size(raw, limits) + shared
            if size > limits.max_message_bytes:
                raise LimitExceeded(
                    f"{size} bytes with the batch's context, over the limit of {limits.max_message_bytes} bytes a message"
                )
        except LimitExceeded as exc:
            reasons[index] = str(exc)
            sizes.append(None)
            continue
        sizes.append(size)
    return Measured(sizes, reasons, sum(size for size in sizes if size is not None))


def time_refusal(moment: datetime, received_at: datetime, limits: Limits) -> str | None:
    """Why an event time cannot be stored, or None when it is sane."""
    if moment < received_at - timedelta(days=limits.horizon_days):
        return f"timestamp: {moment.isoformat()} is older than the horizon of {limits.horizon_days} days"
    if moment > received_at + timedelta(seconds=limits.max_future_s):
        return f"timestamp: {moment.isoformat()} is more than {limits.max_future_s:g} s ahead of the server's clock"
    return None
