"""The rollups behind heatmaps, scroll maps and hourly page stats: AggregatingMergeTree
tables that materialized views keep from footfall.events, and the page stats view."""

from __future__ import annotations

from dataclasses import dataclass

from schemas.tables import DATABASE

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
