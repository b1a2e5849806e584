"""A batch of events through sessionisation, without I/O.

The worker reads events in batches because most of its cost is per record it handles, not
per event it places: one batch stores each visitor's state once and publishes each
session's figures once (its latest version; earlier versions would be collapsed by the
table anyway), however many of the visitor's events it held.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

import orjson

from processors.sessions import Rules, SessionRow, VisitorState, apply

Record = tuple[bytes, bytes]  # (Kafka key, value)


@dataclass
class BatchResult:
    # Records for footfall.events.sessionised: each event with its session, and moves of
    # events already published under another session, in the order they happened.
    sessionised: list[Record] = field(default_factory=list)
    # Each changed session's latest row, with its visitor's key: encoded for footfall.sessions
    # only when published, so versions a batch overtook are never encoded at all.
    sessions: dict[str, tuple[bytes, SessionRow]] = field(default_factory=dict)
    # The new state of every visitor whose state changed, by key.
    states: dict[bytes, VisitorState] = field(default_factory=dict)

    def session_records(self) -> list[Record]:
        """(key, value) for footfall.sessions."""
        return [(key, session_record(row)) for key, row in self.sessions.values()]


def event_ms(event: dict) -> int:
    return int(datetime.fromisoformat(event["ts"]).timestamp() * 1000)


def visitor_of(key: bytes) -> str:
    """Keys are `site:visitor` (schemas.event)."""
    return key.decode().partition(":")[2]


def session_record(row: SessionRow) -> bytes:
    return orjson.dumps(row.__dict__)


def sessionise_batch(
    records: Iterable[Record],
    stored: Callable[[bytes], VisitorState | None],
    rules_for: Callable[[str], Rules],
) -> BatchResult:
    """Place every event of a batch, in order, over the visitors' stored states."""
    result = BatchResult()
    for key, value in records:
        event = orjson.loads(value)
        state = result.states.get(key) or stored(key) or VisitorState(event["site_id"], visitor_of(key))
        state, out = apply(state, event, event_ms(event), rules_for(event["site_id"]))
        if not out.duplicate:
            result.states[key] = state
        result.sessionised.append((key, orjson.dumps({"kind": "event", "event": {**event, "session_id": out.session_id}})))
        for moved in out.moved:
            record = {"kind": "moved", "site_id": event["site_id"], "event_ids": moved.event_ids, "session_id": moved.session_id}
            result.sessionised.append((key, orjson.dumps(record)))
        for row in out.sessions:
            result.sessions[row.session_id] = (key, row)
    return result
