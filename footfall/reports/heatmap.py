"""A page's click heatmap, scroll map and figures, read from the rollups migration 4 keeps.

Reads go through a `query` callable (a warehouse's, or a backend's in tests), so this
module holds the SQL and the shapes, and no connection. The rollups keep bots' events in
rows of their own (migration 9): they are read only for a site that counts bots.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from infra.clickhouse.warehouse import Query
from schemas.rollups import HEATMAP_COLUMNS, SCROLL_BAND_PCT
from schemas.tables import DATABASE
from sinks.rows import clickhouse_text, quote

SCROLL_BANDS = tuple(range(0, 101, SCROLL_BAND_PCT))


@dataclass(frozen=True)
class PageHeatmap:
    """One page's figures. `grid[y_band][x_bucket]` counts clicks; `reach[band]` counts the
    page views that got to that depth (band 0: every page view)."""

    site: str
    path: str
    since: datetime | None
    grid: list[list[int]]
    reach: dict[int, int]
    views: int
    visitors: int
    engaged_ms: float

    @property
    def clicks(self) -> int:
        return sum(map(sum, self.grid))


def where(site: str, path: str | None, since: datetime | None, count_bots: bool) -> str:
    conditions = [f"site_id = {quote(site)}"]
    if not count_bots:
        conditions.append("bot = 0")
    if path is not None:
        conditions.append(f"path = {quote(path)}")
    if since is not None:
        # Rollups are hourly: the hour holding `since` is included whole.
        conditions.append(f"hour >= toStartOfHour(toDateTime64({quote(clickhouse_text(since))}, 3, 'UTC'))")
    return " AND ".join(conditions)


def click_grid(query: Query, site: str, path: str, since: datetime | None = None, count_bots: bool = False) -> list[list[int]]:
    """Rows of y bands from the top of the page, down to the deepest band clicked."""
    cells = query(
        f"SELECT y_band, x_bucket, uniqExactMerge(clicks) AS clicks FROM {DATABASE}.heatmap_clicks "
        f"WHERE {where(site, path, since, count_bots)} GROUP BY y_band, x_bucket"
    )
    grid = [[0] * HEATMAP_COLUMNS for _ in range(max((c["y_band"] for c in cells), default=-1) + 1)]
    for cell in cells:
        grid[cell["y_band"]][cell["x_bucket"]] = int(cell["clicks"])
    return grid


def scroll_reports(query: Query, site: str, path: str, since: datetime | None = None, count_bots: bool = False) -> dict[int, int]:
    rows = query(
        f"SELECT band, uniqExactMerge(reports) AS reports FROM {DATABASE}.scroll_reach "
        f"WHERE {where(site, path, since, count_bots)} GROUP BY band"
    )
    return {row["band"]: int(row["reports"]) for row in rows}


def page_figures(query: Query, site: str, path: str, since: datetime | None = None, count_bots: bool = False) -> dict[str, Any]:
    """Views, distinct visitors and engaged time over the whole range (states merged across
    hours, so a visitor seen in two hours counts once)."""
    rows = query(
        f"SELECT uniqExactMerge(views) AS views, uniqMerge(visitors) AS visitors, "
        f"arraySum(mapValues(maxMapMerge(engaged_ms))) AS engaged_ms FROM {DATABASE}.page_hourly "
        f"WHERE {where(site, path, since, count_bots)}"
    )
    return rows[0] if rows else {"views": 0, "visitors": 0, "engaged_ms": 0.0}


def top_paths(
    query: Query, site: str, since: datetime | None = None, limit: int = 10, count_bots: bool = False
) -> list[tuple[str, int]]:
    """The site's most viewed paths: what to offer when a path has no data."""
    rows = query(
        f"SELECT path, uniqExactMerge(views) AS views FROM {DATABASE}.page_hourly "
        f"WHERE {where(site, None, since, count_bots)} GROUP BY path ORDER BY views DESC, path LIMIT {int(limit)}"
    )
    return [(row["path"], int(row["views"])) for row in rows]


def read_heatmap(query: Query, site: str, path: str, since: datetime | None = None, count_bots: bool = False) -> PageHeatmap:
    """`count_bots`: the site's setting (Site.count_bots); bots' clicks and views are left out without it."""
    figures = page_figures(query, site, path, since, count_bots)
    reports = scroll_reports(query, site, path, since, count_bots)
    reach = {band: reports.get(band, 0) for band in SCROLL_BANDS}
    reach[0] = int(figures["views"])
    return PageHeatmap(
        site=site, path=path, since=since, grid=click_grid(query, site, path, since, count_bots), reach=reach,
        views=int(figures["views"]), visitors=int(figures["visitors"]), engaged_ms=float(figures["engaged_ms"]),
    )
