"""The ClickHouse tables analysts query, each defined once (schemas/migrations.py applies them).

Tables whose rows are rewritten (a session's figures grow; an event may be replayed after
a crash) are ReplacingMergeTree with a version column, so `SELECT … FINAL` gives one
current row per key whatever was written twice. Sort keys start with the site and the
time, the shape of almost every analyst query; months are the partitions.
"""

from __future__ import annotations

DATABASE = "footfall"


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

# Every fit of a site's lifetime value models (`footfall clv fit` and the refit timer): when,
# on the purchases up to which day, over how many customers, the BG/NBD parameters (r, alpha
# in days, a, b), the Gamma-Gamma ones (p, q, v) and the BG/NBD log-likelihood at the
# maximum. A fit replayed from its topic has the same key and collapses.
CLV_MODELS_DDL = f"""
CREATE TABLE IF NOT EXISTS {DATABASE}.clv_models
(
    site_id          LowCardinality(String),
    fitted_at        DateTime64(3, 'UTC'),
    calibration_end  Date,
    customers        UInt32,
    r                Float64,
    alpha            Float64,
    a                Float64,
    b                Float64,
    p                Float64,
    q                Float64,
    v                Float64,
    log_likelihood   Float64
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(fitted_at)
ORDER BY (site_id, fitted_at)
"""

# Each fit of a site's personas (`footfall personas`): one row a persona, with its name, its
# figures, its portrait (demographics, places, devices, channels, pages, problems) as JSON,
# and its centre in the fit's standardised features, which the next fit matches its own
# clusters against so that a persona keeps its id. Names no one: shares and typical values.
PERSONAS_DDL = f"""
CREATE TABLE IF NOT EXISTS {DATABASE}.personas
(
    site_id          LowCardinality(String),
    fitted_at        DateTime64(3, 'UTC'),
    persona_id       UInt16,
    name             String,
    customers        UInt32,
    customer_share   Float64,
    revenue_share    Float64,
    conversion       Nullable(Float64),
    aov              Nullable(Float64),
    purchase_frequency Float64,
    clv_historical   Float64,
    clv_predicted    Nullable(Float64),
    nps              Nullable(Float64),
    criterion        String,
    portrait         String,
    features         Array(String),
    centroid         Array(Float64)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(fitted_at)
ORDER BY (site_id, fitted_at, persona_id)
"""

# Each customer's persona: the latest fit that placed them wins (the version is the fit's
# time), so a read joins the customers with this table FINAL. Personal: exported and erased
# with the person.
CUSTOMER_PERSONAS_DDL = f"""
CREATE TABLE IF NOT EXISTS {DATABASE}.customer_personas
(
    site_id      LowCardinality(String),
    customer_id  String,
    persona_id   UInt16,
    fitted_at    DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(fitted_at)
ORDER BY (site_id, customer_id)
"""

# Each customer's persona held in memory, for `customers.persona_id`: loaded again after each
# fit and each erasure, and at the latest every few minutes (a fit stored on another node).
CUSTOMER_PERSONA_LOOKUP = f"{DATABASE}.customer_persona_lookup"
CUSTOMER_PERSONA_LOOKUP_DDL = f"""
CREATE DICTIONARY IF NOT EXISTS {CUSTOMER_PERSONA_LOOKUP}
(
    site_id      String,
    customer_id  String,
    persona_id   UInt16
)
PRIMARY KEY site_id, customer_id
SOURCE(CLICKHOUSE(QUERY 'SELECT site_id, customer_id, persona_id FROM {DATABASE}.customer_personas FINAL'))
LAYOUT(COMPLEX_KEY_HASHED())
LIFETIME(MIN 300 MAX 600)
"""
RELOAD_CUSTOMER_PERSONAS = f"SYSTEM RELOAD DICTIONARY {CUSTOMER_PERSONA_LOOKUP}"
# Every customer row carries the persona the latest fit placed them in, NULL before a fit
# placed them. Computed when read: the processors rewrite customer rows from their own
# state and would wipe a stored column they do not own.
CUSTOMER_PERSONA_COLUMN = (
    f"ALTER TABLE {DATABASE}.customers ADD COLUMN IF NOT EXISTS persona_id Nullable(UInt16) "
    f"ALIAS dictGetOrNull('{CUSTOMER_PERSONA_LOOKUP}', 'persona_id', (toString(site_id), customer_id))"
)

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
PERSONA_COLUMNS = (
    "site_id", "fitted_at", "persona_id", "name", "customers", "customer_share", "revenue_share", "conversion", "aov",
    "purchase_frequency", "clv_historical", "clv_predicted", "nps", "criterion", "portrait", "features", "centroid",
)
CUSTOMER_PERSONA_COLUMNS = ("site_id", "customer_id", "persona_id", "fitted_at")
CAMPAIGN_COST_COLUMNS = ("site_id", "day", "utm_source", "utm_medium", "utm_campaign", "cost", "currency", "version")

# Each erasure asked for: when, by whom, the rows it removed per table and the rollup hours
# it rebuilt. The person appears only as keyed hashes of their ids (infra.keys, the site's
# key): enough to show a request was carried out, never enough to name them again.
ERASURE_AUDIT_DDL = f"""
CREATE TABLE IF NOT EXISTS {DATABASE}.erasure_audit
(
    requested_at   DateTime64(3, 'UTC'),
    site_id        LowCardinality(String),
    requested_by   String,
    id_hashes      Array(String),
    found          UInt8,
    removed        Map(String, UInt64),
    rebuilt_hours  UInt64
)
ENGINE = MergeTree
ORDER BY (site_id, requested_at)
"""

# The ids of the person one export or erasure is about, and the rollup hours it rebuilds,
# for that request's statements to read by its request id: ClickHouse keeps the text of a
# mutation on disk, so the ids must not be in it. In memory only, gone on a restart.
PERSON_IDS_DDL = f"""
CREATE TABLE IF NOT EXISTS {DATABASE}.person_ids
(
    request  String,
    id       String,
    needle   String
)
ENGINE = Memory
"""
PERSON_HOURS_DDL = f"""
CREATE TABLE IF NOT EXISTS {DATABASE}.person_hours
(
    request  String,
    site_id  String,
    path     String,
    hour     DateTime('UTC')
)
ENGINE = Memory
"""
