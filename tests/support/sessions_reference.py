"""Sessions as SQL window functions compute them from footfall.events: the reference the
streaming sessioniser's result is compared against, event by event.

A new session starts at a visitor's first event, after a gap of 30 minutes or more, or
when the campaign changes; the reference groups event ids the same way, so the sessions
found by the pipeline must equal its groups exactly.
"""

from __future__ import annotations

from tests.support.pipeline import Pipeline


REFERENCE_SQL = """
WITH ordered AS (
    SELECT site_id, anonymous_id, event_id, ts,
           if(utm_source = '' AND utm_medium = '' AND utm_campaign = '', NULL,
              concat(utm_source, '|', utm_medium, '|', utm_campaign)) AS campaign,
           dateDiff('millisecond', lagInFrame(ts, 1, ts) OVER w, ts) AS gap_ms,
           row_number() OVER w AS n
    FROM footfall.events FINAL
    WHERE anonymous_id LIKE '%{run}'
    WINDOW w AS (PARTITION BY site_id, anonymous_id ORDER BY ts, event_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),
gapped AS (
    SELECT *, sum(n = 1 OR gap_ms >= {gap_ms}) OVER (PARTITION BY site_id, anonymous_id ORDER BY ts, event_id
                                                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS gap_group
    FROM ordered
),
flagged AS (
    SELECT *, anyLast(campaign) OVER (PARTITION BY site_id, anonymous_id, gap_group ORDER BY ts, event_id
                                      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS campaign_before
    FROM gapped
)
SELECT anonymous_id, event_id,
       sum(n = 1 OR gap_ms >= {gap_ms} OR (campaign IS NOT NULL AND campaign != ifNull(campaign_before, '')))
           OVER (PARTITION BY site_id, anonymous_id ORDER BY ts, event_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS session_number
FROM flagged
"""


def reference_groups(pipeline: Pipeline, run: str) -> set[frozenset[str]]:
    rows = pipeline.query(REFERENCE_SQL.format(run=run, gap_ms=30 * 60 * 1000))
    groups: dict[tuple[str, int], set[str]] = {}
    for row in rows:
        groups.setdefault((row["anonymous_id"], row["session_number"]), set()).add(row["event_id"])
    return {frozenset(group) for group in groups.values()}


def stream_groups(pipeline: Pipeline, run: str) -> set[frozenset[str]]:
    rows = pipeline.query(f"SELECT event_id, session_id FROM footfall.events FINAL WHERE anonymous_id LIKE '%{run}'")
    groups: dict[str, set[str]] = {}
    for row in rows:
        groups.setdefault(row["session_id"], set()).add(row["event_id"])
    return {frozenset(group) for group in groups.values()}


def assert_matches_reference(pipeline: Pipeline, run: str) -> None:
    """The run's events are grouped into sessions exactly as the SQL reference groups them."""
    assert stream_groups(pipeline, run) == reference_groups(pipeline, run)
