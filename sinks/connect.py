"""Opening the configured ClickHouse backend."""

from __future__ import annotations

from footfall.settings import Settings
from sinks.backend import Backend
from sinks.embedded import EmbeddedClickHouse


def open_backend(settings: Settings) -> Backend:
    """The embedded engine, its data in the state folder (the default, and so far the only one)."""
    return EmbeddedClickHouse(settings.clickhouse_path)
