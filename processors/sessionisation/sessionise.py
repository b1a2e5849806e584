"""A batch of events through sessionisation, without I/O: each visitor's state is stored,
and each session's row published, once per batch however many events it held."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from processors.sessionisation.sessions import (
    MAX_STATE_BYTES,
    RowDraft,
    Rules,
    SessionRow,
    VisitorState,
    apply,
    event_hit_bytes,
)
from schemas.event_record import decoded_event

KeyValue = tuple[bytes, bytes]  # a Kafka record's key and value
# An event placed in its session, for the analytics that follow in the same batch:
# (visitor key, the event with its session_id, its time in ms).
Placed = tuple[bytes, dict[str, Any], int]


@dataclass
class BatchResult:
    """What sessionising one batch gives: records to publish, placed events and new states."""

    # Records for footfall.events.sessionised: each event with its session, and moves of
    # events already published under another session, in the order they happened.
    sessionised: list[KeyValue] = field(default_factory=list)
    # Every event placed in a session, with it, as decoded objects (replays included:
    # the analytics recognise those by event id themselves).
    placed: list[Placed] = field(default_factory=list)
    # Each changed session's latest row, with its visitor's key: encoded for footfall.sessions
    # only when published, so versions a batch overtook are never encoded at all.
    sessions: dict[str, tuple[bytes, SessionRow]] = field(default_factory=dict)
    # The new state of every visitor whose state changed, by key.
    states: dict[bytes, VisitorState] = field(default_factory=dict)
    # Events marked as bot traffic, by site: published without a session, never placed.
    bots: Counter[str] = field(default_factory=Counter)
    # New events of visitors whose state holds as many events, or weighs as much, as it may,
    # by site: stored without a session too, until their sessions age out of the state.
    over_limit: Counter[str] = field(default_factory=Counter)
    # Copies of events this visitor's state already holds, by site: not published again.
    duplicates: Counter[str] = field(default_factory=Counter)
    # Records that do not hold an event's shape, with the reason: set aside as dead letters,
    # so that one of them never stops the worker or the visitors behind it.
    malformed: list[tuple[KeyValue, str]] = field(default_factory=list)

    def session_records(self) -> list[KeyValue]:
        """(key, value) for footfall.sessions."""
        return [(key, session_record(row)) for key, row in self.sessions.values()]


def event_ms(event: dict) -> int:
    return int(datetime.fromisoformat(event["ts"]).timestamp() * 1000)


def visitor_of(key: bytes) -> str:
    """Keys are `site:visitor` (schemas.event)."""
    return key.decode(errors="replace").partition(":")[2]


def session_record(row: SessionRow) -> bytes:
    return orjson.dumps(row.__dict__)


def left_out(event: dict[str, Any], rules: Rules) -> bool:
    """A bot's event, on a site that does not count bots: stored, but in no session."""
    return event.get("bot") is True and not rules.count_bots


def sessionise_batch(
    records: Iterable[KeyValue],
    stored: Callable[[bytes], VisitorState | None],
    rules_for: Callable[[str], Rules],
) -> BatchResult:
    """Place every event of a batch, in order, over the visitors' stored states."""
    result = BatchResult()
    # Each changed session's latest draft: the rows of earlier ones are never computed.
    drafts: dict[str, tuple[bytes, RowDraft]] = {}
    for key, value in records:
        event, breach = decoded_event(key, value)
        if event is None:
            result.malformed.append(((key, value), breach or ""))
            continue
        rules = rules_for(event["site_id"])
        if left_out(event, rules):
            result.bots[event["site_id"]] += 1
            result.sessionised.append((key, orjson.dumps({"kind": "event", "event": event})))
            continue
        ts_ms = event_ms(event)
        state = result.states.get(key) or stored(key) or VisitorState(event["site_id"], visitor_of(key))
        full = len(state.placed) >= rules.max_visitor_events or state.weight + event_hit_bytes(event) > MAX_STATE_BYTES
        if full and event["event_id"] not in state.placed:
            result.over_limit[event["site_id"]] += 1
            result.sessionised.append((key, orjson.dumps({"kind": "event", "event": event})))
            continue
        state, out = apply(state, event, ts_ms, rules)
        if out.duplicate:
            # Its first copy was published and acknowledged before this state was saved; a
            # copy sent again (an SDK's retry) may carry another time, and so another day,
            # which the events table would keep as another row.
            result.duplicates[event["site_id"]] += 1
            continue
        result.states[key] = state
        event["session_id"] = out.session_id
        result.placed.append((key, event, ts_ms))
        result.sessionised.append((key, orjson.dumps({"kind": "event", "event": event})))
        for moved in out.moved:
            record = {"kind": "moved", "site_id": event["site_id"], "event_ids": moved.event_ids, "session_id": moved.session_id}
            result.sessionised.append((key, orjson.dumps(record)))
        for draft in out.drafts:
            drafts[draft.session.session_id] = (key, draft)
    result.sessions = {session_id: (key, draft.row()) for session_id, (key, draft) in drafts.items()}
    return result
