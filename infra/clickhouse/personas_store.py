"""Storing a fit of personas, wherever the engine is opened (the sink, or a command while no
sink runs): one order of writes, and the customer rows showing the new assignments at once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from infra.clickhouse.backend import Backend
from schemas.tables import DATABASE, RELOAD_CUSTOMER_PERSONAS


def store_personas(backend: Backend, personas: Sequence[dict[str, Any]], customers: Sequence[dict[str, Any]]) -> None:
    """The fit's personas before its customers' assignments, which a read joins with them;
    then the lookup behind `customers.persona_id` loaded again, rather than when its lifetime
    ends, so every customer row carries the new persona."""
    backend.insert(f"{DATABASE}.personas", list(personas))
    if customers:
        backend.insert(f"{DATABASE}.customer_personas", list(customers))
        backend.execute(RELOAD_CUSTOMER_PERSONAS)
