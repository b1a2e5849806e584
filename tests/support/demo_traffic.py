"""What the demo's tests share: the fixed moment traffic is generated at, and a message's time."""

from __future__ import annotations

from datetime import UTC, datetime

NOW = datetime(2026, 11, 22, 12, 0, 0, 123456, tzinfo=UTC)


def at(message: dict) -> datetime:
    """When a generated message says it happened."""
    return datetime.fromisoformat(message["timestamp"])
