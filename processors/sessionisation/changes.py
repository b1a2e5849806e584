"""Which sessions a batch opened and closed, for the worker's metrics; no I/O. Found by
comparing each visitor's sessions before and after the batch, so that sessionisation
itself needs no knowledge of metrics."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from processors.sessionisation.sessionise import BatchResult
from processors.sessionisation.sessions import Session, SessionRow, VisitorState, figures


@dataclass(frozen=True)
class ClosedSession:
    """What the metrics count of a session once its figures are final."""

    site_id: str
    purchases: int
    revenue: float

    @classmethod
    def from_row(cls, row: SessionRow) -> ClosedSession:
        return cls(row.site_id, row.purchases, row.revenue)


@dataclass
class SessionChanges:
    """The sessions one batch opened, by site, and those it closed."""

    opened: Counter[str] = field(default_factory=Counter)  # by site
    closed: list[ClosedSession] = field(default_factory=list)


@dataclass(frozen=True)
class Before:
    """A visitor's sessions as a batch found them (a copy: the state may be replaced or changed)."""

    state: VisitorState
    sessions: dict[str, Session]


class FirstSeen:
    """Wraps the state lookup a batch makes, keeping each visitor's state as first found."""

    def __init__(self, lookup: Callable[[bytes], VisitorState | None]):
        self.lookup = lookup
        self.found: dict[bytes, Before | None] = {}

    def __call__(self, key: bytes) -> VisitorState | None:
        if key in self.found:
            before = self.found[key]
            return before.state if before else None
        state = self.lookup(key)
        self.found[key] = Before(state, {s.session_id: s for s in state.sessions}) if state else None
        return state


def closed_when_forgotten(state: VisitorState) -> list[ClosedSession]:
    """Every session of a visitor whose state is dropped as idle closes with it."""
    return [ClosedSession.from_row(figures(state, s, s.version)) for s in state.sessions]


def session_changes(found: Mapping[bytes, Before | None], result: BatchResult) -> SessionChanges:
    rows_by_visitor: dict[bytes, dict[str, SessionRow]] = {}
    for session_id, (key, row) in result.sessions.items():
        rows_by_visitor.setdefault(key, {})[session_id] = row
    changes = SessionChanges()
    for key, after in result.states.items():
        before = found.get(key)
        earlier = before.sessions if before else {}
        rows = rows_by_visitor.get(key, {})
        opened = [sid for sid, row in rows.items() if sid not in earlier and not row.is_deleted]
        changes.opened[after.site_id] += len(opened)
        still_open = {s.session_id for s in after.sessions}
        changes.closed += _closed(set(earlier) | set(opened), still_open, rows, before)
    return changes


def _closed(candidates: Iterable[str], still_open: set[str], rows: dict[str, SessionRow], before: Before | None) -> list[ClosedSession]:
    closed = []
    for session_id in sorted(set(candidates) - still_open):
        row = rows.get(session_id)
        if row is None and before is not None:
            row = figures(before.state, before.sessions[session_id], 0)
        if row is not None and not row.is_deleted:
            closed.append(ClosedSession.from_row(row))
    return closed
