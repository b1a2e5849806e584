"""footfall's ClickHouse schema as versioned migrations: each applied once, in order, and
recorded; later changes are appended, never edited in place."""

from __future__ import annotations

from dataclasses import dataclass

from schemas.rollups import ROLLUPS, page_stats_view
from schemas.tables import (
    ANALYTICS_TABLES,
    CAMPAIGN_COSTS_DDL,
    CLV_MODELS_DDL,
    CUSTOMER_PERSONA_COLUMN,
    CUSTOMER_PERSONA_LOOKUP_DDL,
    CUSTOMER_PERSONAS_DDL,
    CUSTOMERS_DDL,
    DATABASE,
    ERASURE_AUDIT_DDL,
    EVENTS_DDL,
    FUNNEL_DAILY_DDL,
    FUNNEL_PROGRESS_DDL,
    INSERT_DEDUPLICATION,
    INVALID_EVENTS_DDL,
    PERSON_HOURS_DDL,
    PERSON_IDS_DDL,
    PERSONAS_DDL,
    SEGMENT_CHANGES_DDL,
    SEGMENT_MEMBERSHIP_DDL,
    SESSIONS_DDL,
    deduplicated,
)


@dataclass(frozen=True)
class Migration:
    """One step of the schema: its version, what it adds, and its statements."""

    version: int
    name: str
    statements: tuple[str, ...]


# Where the visitor was: added after the first release, so appended to events' columns.
EVENT_GEOGRAPHY = tuple(
    f"ALTER TABLE {DATABASE}.events ADD COLUMN IF NOT EXISTS {column} LowCardinality(String)"
    for column in ("country", "region", "city")
)

# The rule as configured when the change happened: rules are edited, history should say
# which one moved the customer.
SEGMENT_CHANGE_RULE = f"ALTER TABLE {DATABASE}.segment_changes ADD COLUMN IF NOT EXISTS rule String"

# Rows the sink set aside rather than store: records it could not read and rows ClickHouse
# refused for what they hold, each with the reason, the row as text (bounded) and the
# table it was meant for. A replay sets the same row aside with the same key, which
# collapses; the rows go after 30 days, as the dead-letter topic's records do.
REJECTED_ROWS_DDL = f"""
CREATE TABLE IF NOT EXISTS {DATABASE}.rejected_rows
(
    site_id       LowCardinality(String),
    target_table  LowCardinality(String),
    reason_class  LowCardinality(String),
    reason        String,
    source        String,
    content       String,
    rejected_at   DateTime64(3, 'UTC'),
    key           String
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(rejected_at)
ORDER BY (site_id, target_table, key)
TTL toDateTime(rejected_at) + INTERVAL 30 DAY
"""

# Crawlers' and headless browsers' events, marked by the collector, are kept in rollup rows of
# their own, which readers leave out unless the site counts bots (rows rolled up before stay
# as they were, with people's); the hourly page stats count people only, as sessions do.
BOT_MARK = (
    f"ALTER TABLE {DATABASE}.events ADD COLUMN IF NOT EXISTS bot UInt8",
    *(statement for rollup in ROLLUPS for statement in rollup.split_by_bot()),
    f"DROP VIEW IF EXISTS {DATABASE}.page_stats_hourly",
    page_stats_view(" WHERE bot = 0"),
)

# Probabilistic lifetime value: the fits, and each customer's figures from the latest fit of
# their site, NULL until the site's first fit (as clv_predicted, which the old formula gave
# every buyer).
CLV_FIGURES = (
    *(f"ALTER TABLE {DATABASE}.customers ADD COLUMN IF NOT EXISTS {column} Nullable(Float64)"
      for column in ("p_alive", "expected_purchases_90d", "expected_purchases_365d")),
    f"ALTER TABLE {DATABASE}.customers MODIFY COLUMN IF EXISTS clv_predicted Nullable(Float64)",
)

# A survey answer's free-text comment, in a column of its own rather than in the properties:
# the feedback themes read it without parsing JSON, and it is personal data that goes with
# the person's event rows wherever they go (export, erasure, retention).
SURVEY_COMMENT = f"ALTER TABLE {DATABASE}.events ADD COLUMN IF NOT EXISTS comment String"

# The demographic traits an identify call sent (schemas.traits), as JSON: personas group
# customers on them; personal data that goes with the person's event rows.
EVENT_TRAITS = f"ALTER TABLE {DATABASE}.events ADD COLUMN IF NOT EXISTS traits String"

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
    Migration(8, "rows the sink set aside, with the reason", (REJECTED_ROWS_DDL, *deduplicated(("rejected_rows",)))),
    Migration(9, "the bot mark on events, and rollups that keep bots apart", BOT_MARK),
    Migration(11, "the erasure audit, and the lookup of a person's ids", (ERASURE_AUDIT_DDL, PERSON_IDS_DDL, PERSON_HOURS_DDL)),
    Migration(12, "customer lifetime value models, and each customer's P(alive), expected purchases and CLV", (CLV_MODELS_DDL, *CLV_FIGURES)),
    Migration(13, "survey answers' comments", (SURVEY_COMMENT,)),
    Migration(14, "identify calls' demographic traits, personas and each customer's persona",
              (EVENT_TRAITS, PERSONAS_DDL, CUSTOMER_PERSONAS_DDL)),
    Migration(15, "each customer row's persona", (CUSTOMER_PERSONA_LOOKUP_DDL, CUSTOMER_PERSONA_COLUMN)),
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
