"""Kafka record values to ClickHouse rows, grouped per table: the sink's request builder.

Pure, so every conversion is tested without Kafka or ClickHouse; the writer (sinks.service)
stores what this builds, and the consumer loop (sinks.sink) decides when. A record this
cannot make into rows is set aside with the reason, never stored half, never fatal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from infra.erasures import Forgotten
from schemas.clv import ClvFit
from schemas.surveys import COMMENT_MAX_CHARS, SURVEY_EVENT
from schemas.tables import DATABASE
from schemas.topics import CLV_MODELS, CUSTOMERS, DEAD_LETTER, FUNNEL_PROGRESS, SEGMENT_CHANGES, SESSIONISED, SESSIONS
from schemas.traits import DEFAULT_DEMOGRAPHIC_TRAITS, demographic_traits
from sinks.rejections import REJECTED_ROWS, TOPIC_TABLES, Rejection, unreadable

EVENT_STRING_COLUMNS = (
    "event_id", "site_id", "type", "name", "anonymous_id", "user_id", "session_id", "url", "path", "referrer",
    "title", "selector", "text", "currency", "order_id", "browser", "os", "device",
    "utm_source", "utm_medium", "utm_campaign", "country", "region", "city",
)
EVENT_NUMBER_COLUMNS = ("x", "y", "page_width", "page_height", "scroll_pct", "revenue")
FIRST_VERSION = 1
# The range DateTime64 stores: a time outside it would be stored as some other time, or
# refused with its whole batch, so it is refused here, alone.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2299, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)
# What building rows raises for a record that is not what the stages publish: not JSON,
# not an object, a field missing or of another type, a time that cannot be.
MALFORMED = (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError, OSError)


class ImpossibleTime(ValueError):
    """A time ClickHouse's DateTime64 cannot store."""


def moment_of(moment: str | int) -> datetime:
    """ISO 8601 text or epoch milliseconds, in UTC, within what DateTime64 stores."""
    if isinstance(moment, int):
        at = datetime.fromtimestamp(moment / 1000, UTC)
    else:
        at = datetime.fromisoformat(moment).astimezone(UTC)
    if not EARLIEST <= at <= LATEST:
        raise ImpossibleTime(f"{at.isoformat()} is outside the times ClickHouse stores ({EARLIEST.year} to {LATEST.year})")
    return at


def clickhouse_text(moment: datetime) -> str:
    """DateTime64(3) text."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def clickhouse_time(moment: str | int) -> str:
    return clickhouse_text(moment_of(moment))


def comment_and_properties(event: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A survey answer's comment moved out of its properties into the comment column, so the
    comment is stored once; any other event's properties as they are."""
    properties = event.get("properties") or {}
    comment = properties.get("comment")
    if event.get("type") != "track" or event.get("name") != SURVEY_EVENT or not isinstance(comment, str):
        return "", properties
    # The collector bounds comments already; a record from elsewhere is bounded here.
    return comment[:COMMENT_MAX_CHARS], {key: value for key, value in properties.items() if key != "comment"}


def traits_text(event: dict[str, Any], names: Collection[str]) -> str:
    """An identify call's listed demographic traits as JSON; '' for any other event or none."""
    if event.get("type") != "identify":
        return ""
    traits = event.get("traits")
    kept = demographic_traits(traits if isinstance(traits, dict) else None, names)
    return orjson.dumps(kept).decode() if kept else ""


def event_row(event: dict[str, Any], received_at: datetime, trait_names: Collection[str] = DEFAULT_DEMOGRAPHIC_TRAITS) -> dict[str, Any]:
    """`received_at` is the event's own, parsed once by the caller, who needs it too;
    `trait_names` the demographic traits its site stores."""
    row: dict[str, Any] = {column: event.get(column) or "" for column in EVENT_STRING_COLUMNS}
    row.update({column: event.get(column) for column in EVENT_NUMBER_COLUMNS})
    row["ts"] = clickhouse_time(event["ts"])
    row["received_at"] = clickhouse_text(received_at)
    row["comment"], properties = comment_and_properties(event)
    row["properties"] = orjson.dumps(properties).decode()
    row["traits"] = traits_text(event, trait_names)
    # Records published before the collector marked bots carry no mark: people's traffic.
    row["bot"] = int(bool(event.get("bot")))
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


def optional_time(moment: int | None) -> str | None:
    return None if moment is None else clickhouse_time(moment)


def segment_rows(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A change is a line of history and the member's current row (deleted on leaving)."""
    common = {key: record[key] for key in ("site_id", "segment", "anonymous_id", "customer_id", "version")}
    at = clickhouse_time(record["at_ms"])
    return {
        "segment_changes": {**common, "change": record["change"], "at": at, "rule": record.get("rule", "")},
        "segment_membership": {**common, "since": at, "is_deleted": int(record["change"] == "left")},
    }


CUSTOMER_TIMES = {
    "first_purchase_ms": "first_purchase_at", "last_purchase_ms": "last_purchase_at",
    "nps_ms": "nps_at", "csat_ms": "csat_at", "ces_ms": "ces_at",
}


def customers_table_row(record: dict[str, Any]) -> dict[str, Any]:
    row = {key: value for key, value in record.items() if key not in CUSTOMER_TIMES and key != "updated_ms"}
    row.update({column: optional_time(record[key]) for key, column in CUSTOMER_TIMES.items()})
    row["updated_at"] = clickhouse_time(record["updated_ms"])
    return row


def funnel_row(record: dict[str, Any]) -> dict[str, Any]:
    row = {key: value for key, value in record.items() if key != "reached_ms"}
    row["level"] = len(record["reached_ms"])
    row["step_at"] = [clickhouse_time(moment) for moment in record["reached_ms"]]
    row["late"] = int(record["late"])
    return row


def clv_model_row(record: dict[str, Any]) -> dict[str, Any]:
    """A fit as published, checked (a parameter that is no positive finite number is refused)."""
    fit = ClvFit.model_validate(record)
    row = fit.model_dump(exclude={"fitted_at_ms", "calibration_end"})
    return {**row, "fitted_at": clickhouse_time(fit.fitted_at_ms), "calibration_end": fit.calibration_end.isoformat()}


def quote(value: str) -> str:
    """A ClickHouse string literal: backslashes escaped first, so none can unescape a quote."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def move_statement(site_id: str, event_ids: list[str], session_id: str) -> str:
    """Rewrite moved events under their new session with a higher version. Replaying it is
    harmless: the rows already carry the new session and simply gain a version."""
    ids = ", ".join(quote(event_id) for event_id in event_ids)
    return (
        f"INSERT INTO {DATABASE}.events SELECT * REPLACE ({quote(session_id)} AS session_id, version + 1 AS version) "
        f"FROM {DATABASE}.events FINAL WHERE site_id = {quote(site_id)} AND event_id IN ({ids})"
    )


# The fields of a record (or of its event) that hold one of a person's ids.
PERSON_FIELDS = ("anonymous_id", "user_id", "customer_id")
NOBODY = Forgotten(lambda site_id: b"")


def of_forgotten(topic: str, key: bytes | None, record: dict[str, Any], forgotten: Forgotten) -> bool:
    """Whether a record is about someone forgotten: one of its ids, or its key's visitor,
    is theirs; for a dead letter, any string of the raw message it keeps."""
    if not forgotten:
        return False
    body = record.get("event", record) if topic == SESSIONISED.name else record
    site_id = body.get("site_id")
    if not isinstance(site_id, str) or not forgotten.holds(site_id):
        return False
    if topic == DEAD_LETTER.name:
        return forgotten.names_in_text(site_id, str(record.get("raw", "")))
    ids = [body.get(name) for name in PERSON_FIELDS]
    if key and b":" in key:
        ids.append(key.partition(b":")[2].decode(errors="replace"))
    return forgotten.names(site_id, ids)


def quotes_forgotten(rejection: Rejection, forgotten: Forgotten) -> bool:
    """Whether a record set aside would keep the id of someone forgotten in its text, as
    `footfall forget` finds it there: on its site, or on any site for a record whose site
    could not be read."""
    if not forgotten:
        return False
    sites = [rejection.site_id] if rejection.site_id else sorted(forgotten.sites())
    return any(forgotten.names_in_text(site, text) for site in sites for text in (rejection.content, rejection.reason))


@dataclass
class RowBatch:
    """What one write stores: rows per table, and moves applied after the events they move."""

    events: list[dict[str, Any]] = field(default_factory=list)
    moves: list[str] = field(default_factory=list)
    sessions: list[dict[str, Any]] = field(default_factory=list)
    invalid: list[dict[str, Any]] = field(default_factory=list)
    # The collector's receive time of each event (epoch seconds), for the freshness measure.
    received_at: list[float] = field(default_factory=list)
    # Segment, customer and funnel rows, by table.
    analytics: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Records that could not be made into rows, for footfall.rejected_rows.
    rejected: list[Rejection] = field(default_factory=list)
    # The people forgotten, whose records are dropped (counted here by table) as if they
    # had never been published; their offsets are committed with the batch all the same.
    forgotten: Forgotten = NOBODY
    erased: Counter[str] = field(default_factory=Counter)
    # Site → the demographic traits it stores (infra.config.Site.demographic_traits); a
    # site not listed stores the defaults.
    trait_names: Mapping[str, Collection[str]] = field(default_factory=dict)

    def __len__(self) -> int:
        analytics = sum(len(rows) for rows in self.analytics.values())
        kept = len(self.events) + len(self.moves) + len(self.sessions) + len(self.invalid) + analytics + len(self.rejected)
        return kept + self.erased.total()

    def add_analytics(self, table: str, row: dict[str, Any]) -> None:
        self.analytics.setdefault(table, []).append(row)

    def add(self, topic: str, value: bytes, key: bytes | None = None) -> None:
        record = orjson.loads(value)
        if of_forgotten(topic, key, record, self.forgotten):
            self.erased[TOPIC_TABLES[topic]] += 1
        elif topic == SESSIONISED.name:
            if record["kind"] == "event":
                received_at = moment_of(record["event"]["received_at"])
                names = self.trait_names.get(record["event"]["site_id"], DEFAULT_DEMOGRAPHIC_TRAITS)
                self.events.append(event_row(record["event"], received_at, names))
                self.received_at.append(received_at.timestamp())
            else:
                self.moves.append(move_statement(record["site_id"], record["event_ids"], record["session_id"]))
        elif topic == SESSIONS.name:
            self.sessions.append(session_row(record))
        elif topic == DEAD_LETTER.name:
            self.invalid.append(invalid_row(record))
        elif topic == SEGMENT_CHANGES.name:
            for table, row in segment_rows(record).items():
                self.add_analytics(table, row)
        elif topic == CUSTOMERS.name:
            self.add_analytics("customers", customers_table_row(record))
        elif topic == FUNNEL_PROGRESS.name:
            self.add_analytics("funnel_progress", funnel_row(record))
        elif topic == CLV_MODELS.name:
            self.add_analytics("clv_models", clv_model_row(record))
        else:
            raise ValueError(f"the sink does not read {topic}")

    def take(self, topic: str, partition: int, offset: int, value: bytes | None, key: bytes | None = None) -> None:
        """A record from Kafka: its rows, or, if it cannot be made into rows, a rejection
        that names where it sits."""
        try:
            self.add(topic, value, key)  # type: ignore[arg-type]  # None (a tombstone) is malformed too
        except MALFORMED as exc:
            rejection = unreadable(topic, partition, offset, value, exc)
            if quotes_forgotten(rejection, self.forgotten):
                self.erased[REJECTED_ROWS] += 1
            else:
                self.rejected.append(rejection)
