"""The ClickHouse tables analysts query, each defined once, as versioned migrations.

Tables whose rows are rewritten (a session's figures grow; an event may be replayed after
a crash) are ReplacingMergeTree with a version column, so `SELECT … FINAL` gives one
current row per key whatever was written twice. Sort keys start with the site and the
time, the shape of almost every analyst query; months are the partitions.
"""

from __future__ import annotations

from dataclasses import dataclass

DATABASE = "footfall"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


EVENTS = f"""
CREATE TABLE IF NOT EXISTS {DATABASE}.events
(
    event_id      String,
    site_id       LowCardinality(String),
    type          LowCardinality(String),
    name          String,
    ts            DateTime64(3, 'UTC'),
    received_at   DateTime64(3, 'UTC'),
    anonymous_id  String,
    user_id       String,
    session_id    String,
    url           String,
    path          String,
    referrer      String,
    title         String,
    properties    String,
    selector      String,
    text          String,
    x             Nullable(Float64),
    y             Nullable(Float64),
    page_width    Nullable(Float64),
    page_height   Nullable(Float64),
    scroll_pct    Nullable(Float64),
    revenue       Nullable(Float64),
    currency      LowCardinality(String),
    order_id      String,
    browser       LowCardinality(String),
    os            LowCardinality(String),
    device        LowCardinality(String),
    utm_source    LowCardinality(String),
    utm_medium    LowCardinality(String),
    utm_campaign  LowCardinality(String),
    version       UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(ts)
ORDER BY (site_id, toDate(ts), event_id)
"""

SESSIONS = f"""
CREATE TABLE IF NOT EXISTS {DATABASE}.sessions
(
    site_id         LowCardinality(String),
    session_id      String,
    anonymous_id    String,
    user_id         String,
    started_at      DateTime64(3, 'UTC'),
    ended_at        DateTime64(3, 'UTC'),
    duration_s      Float64,
    events          UInt32,
    pageviews       UInt32,
    clicks          UInt32,
    max_scroll_pct  Float64,
    purchases       UInt32,
    revenue         Float64,
    entry_path      String,
    exit_path       String,
    is_bounce       UInt8,
    utm_source      LowCardinality(String),
    utm_medium      LowCardinality(String),
    utm_campaign    LowCardinality(String),
    referrer_host   LowCardinality(String),
    version         UInt64,
    is_deleted      UInt8
)
ENGINE = ReplacingMergeTree(version, is_deleted)
PARTITION BY toYYYYMM(started_at)
ORDER BY (site_id, session_id)
"""

INVALID_EVENTS = f"""
CREATE TABLE IF NOT EXISTS {DATABASE}.invalid_events
(
    site_id      LowCardinality(String),
    received_at  DateTime64(3, 'UTC'),
    endpoint     LowCardinality(String),
    reason       String,
    raw          String
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(received_at)
ORDER BY (site_id, received_at, cityHash64(raw))
"""

# The engine drops an insert whose block it has seen among the last N, so a batch the sink
# writes again after a crash is not even stored twice (FINAL would collapse it anyway).
INSERT_DEDUPLICATION = tuple(
    f"ALTER TABLE {DATABASE}.{table} MODIFY SETTING non_replicated_deduplication_window = 1000"
    for table in ("events", "sessions", "invalid_events")
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "events, sessions and dead-lettered messages", (EVENTS, SESSIONS, INVALID_EVENTS)),
    Migration(2, "insert deduplication for replayed batches", INSERT_DEDUPLICATION),
)

MIGRATIONS_TABLE = f"""
CREATE TABLE IF NOT EXISTS {DATABASE}.schema_migrations
(
    version     UInt32,
    name        String,
    applied_at  DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree
ORDER BY version
"""
