"""Opening the configured ClickHouse backend."""

from __future__ import annotations

from infra.config import Settings
from infra.clickhouse.backend import Backend
from infra.clickhouse.embedded import EmbeddedClickHouse
from infra.clickhouse.native import NativeClickHouse


def open_backend(settings: Settings) -> Backend:
    """A ClickHouse server when FOOTFALL_CLICKHOUSE_URL names one, else the embedded engine
    with its data in the state folder."""
    if settings.clickhouse_url:
        return NativeClickHouse(settings.clickhouse_url)
    return EmbeddedClickHouse(settings.clickhouse_path)
