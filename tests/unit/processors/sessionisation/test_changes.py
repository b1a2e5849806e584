"""Which sessions a batch opened and closed (the sessioniser's session metrics), on real batches."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from processors.sessionisation.sessionise import sessionise_batch
from processors.sessionisation.changes import FirstSeen, SessionChanges, closed_when_forgotten, session_changes
from processors.sessionisation.sessions import Rules, VisitorState

KEY = b"demo:a"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC).timestamp()
RULES = Rules()  # a 30-minute gap, 5 minutes of lateness


def event(n: int, minute: float, type_: str = "page_view", revenue: float | None = None) -> tuple[bytes, bytes]:
    ts = datetime.fromtimestamp(T0 + minute * 60, UTC).isoformat()
    payload = {"event_id": f"e{n}", "site_id": "demo", "type": type_, "name": type_, "ts": ts, "received_at": ts, "anonymous_id": "a", "path": f"/p{n}"}
    if revenue is not None:
        payload["revenue"] = revenue
    return KEY, orjson.dumps(payload)


class Worker:
    """The table the agent keeps, and what each batch changed."""

    def __init__(self) -> None:
        self.table: dict[bytes, VisitorState] = {}

    def batch(self, *records: tuple[bytes, bytes]) -> SessionChanges:
        found = FirstSeen(self.table.get)
        result = sessionise_batch(records, found, lambda site: RULES)
        self.table.update(result.states)
        return session_changes(found.found, result)


def test_a_later_session_closes_the_one_too_old_to_change() -> None:
    worker = Worker()
    first = worker.batch(event(1, 0), event(2, 1, "purchase", revenue=30.0))
    assert first.opened == {"demo": 1} and first.closed == []

    second = worker.batch(event(3, 40))  # past the gap and the lateness after minute 1
    assert second.opened == {"demo": 1}
    assert [(c.site_id, c.purchases, c.revenue) for c in second.closed] == [("demo", 1, 30.0)]


def test_sessions_opened_and_closed_within_one_batch_count_once_each() -> None:
    changes = Worker().batch(event(1, 0), event(2, 40), event(3, 80, "purchase", revenue=5.0))
    assert changes.opened == {"demo": 3}
    assert sorted(c.purchases for c in changes.closed) == [0, 0]


def test_a_session_merged_away_is_not_closed_and_a_replay_opens_nothing() -> None:
    worker = Worker()
    assert worker.batch(event(1, 0), event(2, 31)).opened == {"demo": 2}
    bridged = worker.batch(event(3, 15))  # a late event joins the two sessions
    assert sum(bridged.opened.values()) == 0
    assert bridged.closed == []
    assert len(worker.table[KEY].sessions) == 1
    replay = worker.batch(event(3, 15))
    assert sum(replay.opened.values()) == 0 and replay.closed == []


def test_forgetting_an_idle_visitor_closes_its_sessions_with_their_figures() -> None:
    worker = Worker()
    worker.batch(event(1, 0), event(2, 40), event(3, 42, "purchase", revenue=12.5))
    closed = closed_when_forgotten(worker.table[KEY])  # the first closed already, in the batch
    assert [(c.site_id, c.purchases, c.revenue) for c in closed] == [("demo", 1, 12.5)]
