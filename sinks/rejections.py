"""Rows the sink sets aside instead of storing, and the footfall.rejected_rows rows that
say why: a record it cannot read, or a row ClickHouse refused for what it holds.

Pure, like the request builder: the writer decides what is refused, this says how it is kept.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from schemas.topics import CLV_MODELS, CUSTOMERS, DEAD_LETTER, FUNNEL_PROGRESS, SEGMENT_CHANGES, SESSIONISED, SESSIONS

REJECTED_ROWS = "rejected_rows"

# Why a row was set aside, as the metric's label and the table's column.
UNREADABLE = "unreadable"  # the record could not be made into rows: not JSON, a field missing, an impossible time
REFUSED = "refused"  # ClickHouse refused the row for what it holds
REASON_CLASSES = (UNREADABLE, REFUSED)

# The table each topic's records are meant for (a segment change also feeds membership).
TOPIC_TABLES = {
    SESSIONISED.name: "events",
    SESSIONS.name: "sessions",
    DEAD_LETTER.name: "invalid_events",
    SEGMENT_CHANGES.name: "segment_changes",
    CUSTOMERS.name: "customers",
    FUNNEL_PROGRESS.name: "funnel_progress",
    CLV_MODELS.name: "clv_models",
}

# Bounds on what is kept of a row, its reason and its site, in characters: a refused row
# may be as large as Kafka allows, and ClickHouse quotes the rest of the input it refused.
CONTENT_CHARS = 16_384
REASON_CHARS = 1_000
SITE_CHARS = 200
CUT = " … "


def bounded(text: str, limit: int) -> str:
    """`text`, or its head and tail around a cut mark when longer than `limit`: the tail of
    a ClickHouse message names the error, its head what was refused."""
    if len(text) <= limit:
        return text
    head = (limit - len(CUT)) * 2 // 3
    tail = limit - len(CUT) - head
    return text[:head] + CUT + text[len(text) - tail:]


@dataclass(frozen=True)
class Rejection:
    """One row set aside, bounded: where it was going, why, the row (or record) as text, and
    its key, the same for the same rejection, so that a replayed batch's copy collapses."""

    table: str
    reason_class: str
    reason: str
    content: str
    site_id: str
    # topic:partition:offset of a record that could not be read, for finding it in Kafka.
    source: str
    key: str

    def row(self, at: str) -> dict[str, Any]:
        """Its footfall.rejected_rows row, stamped with when it was set aside (DateTime64 text)."""
        return {
            "site_id": self.site_id, "target_table": self.table, "reason_class": self.reason_class, "reason": self.reason,
            "source": self.source, "content": self.content, "rejected_at": at, "key": self.key,
        }


def set_aside(table: str, reason_class: str, reason: str, content: str, site_id: str = "", source: str = "") -> Rejection:
    """A rejection keyed by all of its content (rows that differ past the bound are two) and
    kept bounded from the start: a batch may set aside thousands."""
    identity = "\0".join((table, source, content)).encode()
    key = hashlib.blake2b(identity, digest_size=16).hexdigest()
    return Rejection(
        table, reason_class, bounded(reason, REASON_CHARS), bounded(content, CONTENT_CHARS), bounded(site_id, SITE_CHARS), source, key
    )


def site_of(record: Any) -> str:
    """The site a record or row names, if it names one as text (a sessionised event's is
    in its event)."""
    if isinstance(record, dict) and isinstance(record.get("event"), dict):
        record = record["event"]
    site = record.get("site_id") if isinstance(record, dict) else None
    return site if isinstance(site, str) else ""


def unreadable(topic: str, partition: int, offset: int, value: bytes | None, error: Exception) -> Rejection:
    """A record the sink could not make into rows, kept as its text with where it sits in Kafka."""
    text = (value or b"").decode("utf-8", errors="replace")
    try:
        site = site_of(orjson.loads(value or b""))
    except orjson.JSONDecodeError:
        site = ""
    reason = f"{type(error).__name__}: {error}"
    return set_aside(TOPIC_TABLES.get(topic, ""), UNREADABLE, reason, text, site, f"{topic}:{partition}:{offset}")


def refused(table: str, row: dict[str, Any] | str, reason: str) -> Rejection:
    """A row (or a statement) ClickHouse refused for what it holds, with ClickHouse's reason."""
    content = row if isinstance(row, str) else orjson.dumps(row).decode()
    return set_aside(table, REFUSED, reason, content, site_of(row))
