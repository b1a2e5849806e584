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


EVENTS_DDL = f"""
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

SESSIONS_DDL = f"""
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

INVALID_EVENTS_DDL = f"""
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
def deduplicated(tables: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"ALTER TABLE {DATABASE}.{table} MODIFY SETTING non_replicated_deduplication_window = 1000" for table in tables)


INSERT_DEDUPLICATION = deduplicated(("events", "sessions", "invalid_events"))

# Current members: a row per visitor and segment, deleted (is_deleted) when they leave, so
# `FINAL` keeps exactly the members; the version is the visitor's evaluation count.
SEGMENT_MEMBERSHIP_DDL = f"""
CREATE TABLE IF NOT EXISTS {DATABASE}.segment_membership
(
    site_id       LowCardinality(String),
    segment       LowCardinality(String),
    anonymous_id  String,
    customer_id   String,
    since         DateTime64(3, 'UTC'),
    version       UInt64,
    is_deleted    UInt8
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (site_id, segment, anonymous_id)
"""

# Every entry and exit; a replayed change has the same version and collapses.
SEGMENT_CHANGES_DDL = f"""
CREATE TABLE IF NOT EXISTS {DATABASE}.segment_changes
(
    site_id       LowCardinality(String),
    segment       LowCardinality(String),
    anonymous_id  String,
    customer_id   String,
    change        Enum8('entered' = 1, 'left' = 2),
    at            DateTime64(3, 'UTC'),
    version       UInt64
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (site_id, segment, at, anonymous_id, version)
"""

# A customer's row is rewritten as they buy, answer surveys and move between RFM scores;
# a visitor who identifies leaves their anonymous row deleted. No time partitions: a row
# must replace its earlier versions wherever they are.
CUSTOMERS_DDL = f"""
CREATE TABLE IF NOT EXISTS {DATABASE}.customers
(
    site_id            LowCardinality(String),
    customer_id        String,
    anonymous_id       String,
    user_id            String,
    purchases          UInt32,
    revenue            Float64,
    aov                Nullable(Float64),
    first_purchase_at  Nullable(DateTime64(3, 'UTC')),
    last_purchase_at   Nullable(DateTime64(3, 'UTC')),
    recency_days       Nullable(Float64),
    r_score            Nullable(UInt8),
    f_score            Nullable(UInt8),
    m_score            Nullable(UInt8),
    rfm_segment        LowCardinality(Nullable(String)),
    clv_historical     Float64,
    clv_predicted      Float64,
    nps                Nullable(UInt8),
    nps_category       LowCardinality(Nullable(String)),
    csat               Nullable(UInt8),
    ces                Nullable(UInt8),
    nps_at             Nullable(DateTime64(3, 'UTC')),
    csat_at            Nullable(DateTime64(3, 'UTC')),
    ces_at             Nullable(DateTime64(3, 'UTC')),
    updated_at         DateTime64(3, 'UTC'),
    version            UInt64,
    is_deleted         UInt8
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (site_id, customer_id)
"""

# How far each visitor got in each funnel: the level and when each step was reached.
FUNNEL_PROGRESS_DDL = f"""
CREATE TABLE IF NOT EXISTS {DATABASE}.funnel_progress
(
    site_id       LowCardinality(String),
    funnel        LowCardinality(String),
    anonymous_id  String,
    customer_id   String,
    level         UInt8,
    step_at       Array(DateTime64(3, 'UTC')),
    late          UInt8,
    version       UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (site_id, funnel, anonymous_id)
"""

# Per funnel and day (of entering the funnel): visitors who reached each step, the share
# of the previous step's visitors that did, and the share of the first step's.
FUNNEL_DAILY_DDL = f"""
CREATE VIEW IF NOT EXISTS {DATABASE}.funnel_daily AS
SELECT site_id, funnel, day, step, visitors,
       visitors / first_value(visitors) OVER (PARTITION BY site_id, funnel, day ORDER BY step
                                              ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS from_previous,
       visitors / first_value(visitors) OVER (PARTITION BY site_id, funnel, day ORDER BY step) AS from_first
FROM
(
    SELECT site_id, funnel, toDate(step_at[1]) AS day, arrayJoin(arrayEnumerate(step_at)) AS step, count() AS visitors
    FROM {DATABASE}.funnel_progress FINAL
    GROUP BY site_id, funnel, day, step
)
"""

ANALYTICS_TABLES = ("segment_membership", "segment_changes", "customers", "funnel_progress")

# What a site paid per campaign and day, imported from CSV (`footfall costs import`). The
# key is the whole row but the cost, so importing the same file again replaces its rows
# instead of adding to them; the version (the import time) makes the later import win.
CAMPAIGN_COSTS_DDL = f"""
CREATE TABLE IF NOT EXISTS {DATABASE}.campaign_costs
(
    site_id       LowCardinality(String),
    day           Date,
    utm_source    LowCardinality(String),
    utm_medium    LowCardinality(String),
    utm_campaign  LowCardinality(String),
    cost          Float64,
    currency      LowCardinality(String),
    version       UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(day)
ORDER BY (site_id, day, utm_source, utm_medium, utm_campaign)
"""
CAMPAIGN_COST_COLUMNS = ("site_id", "day", "utm_source", "utm_medium", "utm_campaign", "cost", "currency", "version")

# Heatmaps, scroll maps and hourly page stats: rollups that materialized views keep from
# footfall.events. A view sees every row inserted, and an event's row is inserted again when
# it moves to another session (its version + 1) or when a replay writes it in a batch shaped
# differently; so the rollups count distinct event ids (uniqExact) and keep engaged time per
# event id (maxMap), which makes every figure exact however often an event was written.
# x is the click's share of the page width in HEATMAP_COLUMNS columns; y is in bands of
# HEATMAP_BAND_PX page pixels from the top, so the first screen is the same rows on a short
# page and a long one (clicks below the last band count in it).
HEATMAP_COLUMNS = 20
HEATMAP_BAND_PX = 100
HEATMAP_BANDS = 100
SCROLL_BAND_PCT = 25


@dataclass(frozen=True)
class Rollup:
    """An hourly rollup per site and path (every heatmap and page query's shape) and its view."""

    table: str
    columns: tuple[str, ...]
    sort_keys: tuple[str, ...]
    select: str  # the rollup's own columns, computed from an hour's events
    where: str  # which events it keeps

    def table_ddl(self) -> str:
        body = ",\n    ".join(("site_id  LowCardinality(String)", "path  String", "hour  DateTime('UTC')", *self.columns))
        return f"""
CREATE TABLE IF NOT EXISTS {DATABASE}.{self.table}
(
    {body}
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY ({", ".join(("site_id", "path", "hour", *self.sort_keys))})
"""

    def view_ddl(self, by_bot: bool) -> str:
        bot = ("bot",) if by_bot else ()
        return f"""
CREATE MATERIALIZED VIEW IF NOT EXISTS {DATABASE}.{self.table}_mv TO {DATABASE}.{self.table} AS
SELECT site_id, path, toStartOfHour(ts) AS hour,
       {", ".join((self.select, *bot))}
FROM {DATABASE}.events
WHERE {self.where}
GROUP BY {", ".join(("site_id", "path", "hour", *self.sort_keys, *bot))}
"""

    def split_by_bot(self) -> tuple[str, ...]:
        """The bot mark added to the rollup's key, and its view made again to fill rows by it."""
        key = ", ".join(("site_id", "path", "hour", *self.sort_keys, "bot"))
        alter = f"ALTER TABLE {DATABASE}.{self.table} ADD COLUMN IF NOT EXISTS bot UInt8, MODIFY ORDER BY ({key})"
        return alter, f"DROP VIEW IF EXISTS {DATABASE}.{self.table}_mv", self.view_ddl(by_bot=True)


HEATMAP_CLICKS = Rollup(
    "heatmap_clicks", ("y_band  UInt16", "x_bucket  UInt8", "clicks  AggregateFunction(uniqExact, String)"), ("y_band", "x_bucket"),
    f"""toUInt8(least(floor(assumeNotNull(x) / assumeNotNull(page_width) * {HEATMAP_COLUMNS}), {HEATMAP_COLUMNS - 1})) AS x_bucket,
       toUInt16(least(floor(assumeNotNull(y) / {HEATMAP_BAND_PX}), {HEATMAP_BANDS - 1})) AS y_band,
       uniqExactState(event_id) AS clicks""",
    "name = 'Element Clicked' AND x >= 0 AND y >= 0 AND page_width > 0",
)

# Scroll reports per quarter of the page: the tracker reports a page view's depth when it
# passes into a deeper quarter (25, 50, 75, 100 %), so a quarter's reports are the page
# views that got there; one that jumped past a quarter counts in the deeper one only, and
# one that went deeper within a quarter before leaving is reported there again on leaving.
SCROLL_REACH = Rollup(
    "scroll_reach", ("band  UInt8", "reports  AggregateFunction(uniqExact, String)"), ("band",),
    f"""toUInt8(least(intDiv(toUInt32(assumeNotNull(scroll_pct)), {SCROLL_BAND_PCT}) * {SCROLL_BAND_PCT}, 100)) AS band,
       uniqExactState(event_id) AS reports""",
    "name = 'Page Scrolled' AND scroll_pct >= 0",
)

PAGE_HOURLY = Rollup(
    "page_hourly", ("views  AggregateFunction(uniqExact, String)", "visitors  AggregateFunction(uniq, String)",
                    "engaged_ms  AggregateFunction(maxMap, Map(String, Float64))"),
    (),
    """uniqExactStateIf(event_id, type = 'page_view') AS views,
       uniqStateIf(anonymous_id, type = 'page_view') AS visitors,
       maxMapStateIf(map(event_id, JSONExtractFloat(properties, 'engaged_ms')), name = 'Page Engaged') AS engaged_ms""",
    "type = 'page_view' OR name = 'Page Engaged'",
)

ROLLUPS = (HEATMAP_CLICKS, SCROLL_REACH, PAGE_HOURLY)

# Bounces come from sessions, whose rows are rewritten as they grow: a materialized view would
# count every version, so this view reads them FINAL, when asked. A page's bounce rate is the
# share of the sessions entering on it that bounced, by the hour they started.
def page_stats_view(pages_where: str = "") -> str:
    return f"""
CREATE VIEW IF NOT EXISTS {DATABASE}.page_stats_hourly AS
SELECT site_id, path, hour, views, visitors, engaged_ms, entries, bounces,
       if(entries > 0, bounces / entries, NULL) AS bounce_rate
FROM
(
    SELECT site_id, path, hour, uniqExactMerge(views) AS views, uniqMerge(visitors) AS visitors,
           arraySum(mapValues(maxMapMerge(engaged_ms))) AS engaged_ms
    FROM {DATABASE}.page_hourly{pages_where}
    GROUP BY site_id, path, hour
) AS pages
LEFT JOIN
(
    SELECT site_id, entry_path AS path, toStartOfHour(started_at) AS hour, count() AS entries, sum(is_bounce) AS bounces
    FROM {DATABASE}.sessions FINAL
    GROUP BY site_id, path, hour
) AS sessions USING (site_id, path, hour)
"""

# Where the visitor was: added after the first release, so appended to events' columns.
EVENT_GEOGRAPHY = tuple(
    f"ALTER TABLE {DATABASE}.events ADD COLUMN IF NOT EXISTS {column} LowCardinality(String)"
    for column in ("country", "region", "city")
)

# The rule as configured when the change happened: rules are edited, history should say
# which one moved the customer.
SEGMENT_CHANGE_RULE = f"ALTER TABLE {DATABASE}.segment_changes ADD COLUMN IF NOT EXISTS rule String"

# Crawlers' and headless browsers' events, marked by the collector, are kept in rollup rows of
# their own, which readers leave out unless the site counts bots (rows rolled up before stay
# as they were, with people's); the hourly page stats count people only, as sessions do.
BOT_MARK = (
    f"ALTER TABLE {DATABASE}.events ADD COLUMN IF NOT EXISTS bot UInt8",
    *(statement for rollup in ROLLUPS for statement in rollup.split_by_bot()),
    f"DROP VIEW IF EXISTS {DATABASE}.page_stats_hourly",
    page_stats_view(" WHERE bot = 0"),
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "events, sessions and dead-lettered messages", (EVENTS_DDL, SESSIONS_DDL, INVALID_EVENTS_DDL)),
    Migration(2, "insert deduplication for replayed batches", INSERT_DEDUPLICATION),
    Migration(
        3,
        "segments, customers and funnel progress",
        (SEGMENT_MEMBERSHIP_DDL, SEGMENT_CHANGES_DDL, CUSTOMERS_DDL, FUNNEL_PROGRESS_DDL, FUNNEL_DAILY_DDL, *deduplicated(ANALYTICS_TABLES)),
    ),
    Migration(
        4,
        "heatmaps, scroll maps and hourly page stats",
        (*(ddl for rollup in ROLLUPS for ddl in (rollup.table_ddl(), rollup.view_ddl(by_bot=False))), page_stats_view()),
    ),
    Migration(5, "campaign costs", (CAMPAIGN_COSTS_DDL,)),
    Migration(6, "events' country, region and city", EVENT_GEOGRAPHY),
    Migration(7, "the rule behind each segment change", (SEGMENT_CHANGE_RULE,)),
    Migration(9, "the bot mark on events, and rollups that keep bots apart", BOT_MARK),
)

MIGRATIONS_TABLE_DDL = f"""
CREATE TABLE IF NOT EXISTS {DATABASE}.schema_migrations
(
    version     UInt32,
    name        String,
    applied_at  DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree
ORDER BY version
"""
