"""Kafka records to ClickHouse rows, without I/O.

A sink batch is what a flush writes: event rows, moves of events between sessions (applied
after the events they move, in arrival order), session rows and dead-lettered messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from schemas.tables import DATABASE
from schemas.topics import DEAD_LETTER, SESSIONISED, SESSIONS

EVENT_STRING_COLUMNS = (
    "event_id", "site_id", "type", "name", "anonymous_id", "user_id", "session_id", "url", "path", "referrer",
    "title", "selector", "text", "currency", "order_id", "browser", "os", "device",
    "utm_source", "utm_medium", "utm_campaign",
)
EVENT_NUMBER_COLUMNS = ("x", "y", "page_width", "page_height", "scroll_pct", "revenue")
FIRST_VERSION = 1


def moment_of(moment: str | int) -> datetime:
    """ISO 8601 text or epoch milliseconds, in UTC."""
    if isinstance(moment, int):
        return datetime.fromtimestamp(moment / 1000, UTC)
    return datetime.fromisoformat(moment).astimezone(UTC)


def clickhouse_text(moment: datetime) -> str:
    """DateTime64(3) text."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def clickhouse_time(moment: str | int) -> str:
    return clickhouse_text(moment_of(moment))


def event_row(event: dict[str, Any], received_at: datetime) -> dict[str, Any]:
    """`received_at` is the event's own, parsed once by the caller, who needs it too."""
    row: dict[str, Any] = {column: event.get(column) or "" for column in EVENT_STRING_COLUMNS}
    row.update({column: event.get(column) for column in EVENT_NUMBER_COLUMNS})
    row["ts"] = clickhouse_time(event["ts"])
    row["received_at"] = clickhouse_text(received_at)
    row["properties"] = orjson.dumps(event.get("properties") or {}).decode()
    row["version"] = FIRST_VERSION
    return row


def session_row(record: dict[str, Any]) -> dict[str, Any]:
    row = {k: v for k, v in record.items() if k not in ("started_at_ms", "ended_at_ms")}
    row["started_at"] = clickhouse_time(record["started_at_ms"])
    row["ended_at"] = clickhouse_time(record["ended_at_ms"])
    row["is_bounce"] = int(record["is_bounce"])
    row["is_deleted"] = int(record["is_deleted"])
    return row


def invalid_row(record: dict[str, Any]) -> dict[str, Any]:
    return {**record, "received_at": clickhouse_time(record["received_at"])}


def quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def move_statement(site_id: str, event_ids: list[str], session_id: str) -> str:
    """Rewrite moved events under their new session with a higher version. Replaying it is
    harmless: the rows already carry the new session and simply gain a version."""
    ids = ", ".join(quote(event_id) for event_id in event_ids)
    return (
        f"INSERT INTO {DATABASE}.events SELECT * REPLACE ({quote(session_id)} AS session_id, version + 1 AS version) "
        f"FROM {DATABASE}.events FINAL WHERE site_id = {quote(site_id)} AND event_id IN ({ids})"
    )


@dataclass
class Batch:
    events: list[dict[str, Any]] = field(default_factory=list)
    moves: list[str] = field(default_factory=list)
    sessions: list[dict[str, Any]] = field(default_factory=list)
    invalid: list[dict[str, Any]] = field(default_factory=list)
    # The collector's receive time of each event (epoch seconds), for the freshness measure.
    received_at: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.events) + len(self.moves) + len(self.sessions) + len(self.invalid)

    def add(self, topic: str, value: bytes) -> None:
        record = orjson.loads(value)
        if topic == SESSIONISED.name:
            if record["kind"] == "event":
                received_at = moment_of(record["event"]["received_at"])
                self.events.append(event_row(record["event"], received_at))
                self.received_at.append(received_at.timestamp())
            else:
                self.moves.append(move_statement(record["site_id"], record["event_ids"], record["session_id"]))
        elif topic == SESSIONS.name:
            self.sessions.append(session_row(record))
        elif topic == DEAD_LETTER.name:
            self.invalid.append(invalid_row(record))
        else:
            raise ValueError(f"the sink does not read {topic}")
