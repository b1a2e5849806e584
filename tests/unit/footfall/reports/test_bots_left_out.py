"""Bots' events in the heatmaps and the report, on the modern engine with the real migrations:
left out unless the site counts bots, and counted in the report's first line."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from rich.console import Console

from footfall.reports import sections
from footfall.reports.heatmap import read_heatmap
from footfall.reports.queries import Scope, counting_bots
from infra.clickhouse.embedded import EmbeddedClickHouse
from infra.clickhouse.migrations import migrate
from infra.config import Site
from schemas.migrations import MIGRATIONS
from schemas.topics import SESSIONISED
from sinks.rows import RowBatch
from sinks.service import Writer

NOW_MS = int(time.time() * 1000) // 3_600_000 * 3_600_000  # the start of this hour
BOT_MARK = next(migration.version for migration in MIGRATIONS if "bot mark" in migration.name)


def event(event_id: str, visitor: str, bot: bool | None, name: str = "Page Viewed", **fields: object) -> dict:
    record = {
        "event_id": event_id, "site_id": "shop", "type": "page_view" if name == "Page Viewed" else "track", "name": name,
        "ts": NOW_MS + 60_000, "received_at": NOW_MS + 60_000, "anonymous_id": visitor, "session_id": f"s-{visitor}",
        "path": "/pricing", **fields,
    }
    if bot is not None:
        record["bot"] = bot
    return record


def click(event_id: str, visitor: str, bot: bool | None) -> dict:
    return event(event_id, visitor, bot, "Element Clicked", x=10, y=10, page_width=1000)


def write(writer: Writer, events: list[dict]) -> None:
    batch = RowBatch()
    for record in events:
        batch.add(SESSIONISED.name, orjson.dumps({"kind": "event", "event": record}))
    writer.write(batch)


@pytest.fixture(scope="module")
def writer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Writer]:
    """Traffic rolled up before the bot mark existed, then people's and bots' after it."""
    backend = EmbeddedClickHouse(Path(tmp_path_factory.mktemp("bots")) / "clickhouse")
    migrate(backend, tuple(migration for migration in MIGRATIONS if migration.version < BOT_MARK))
    writer = Writer(backend)
    backend.execute(
        "INSERT INTO footfall.events (event_id, site_id, type, name, ts, received_at, anonymous_id, path, version) VALUES "
        f"('before', 'shop', 'page_view', 'Page Viewed', fromUnixTimestamp64Milli({NOW_MS}), now64(3), 'old', '/pricing', 1)"
    )
    assert migrate(backend, tuple(migration for migration in MIGRATIONS if migration.version <= BOT_MARK)) == [BOT_MARK]
    migrate(backend)  # and those after it, which the report reads
    write(writer, [
        event("p1", "person-1", False), event("p2", "person-2", None), click("c1", "person-1", False),
        event("b1", "crawler-1", True), event("b2", "crawler-2", True), event("b3", "crawler-2", True),
        click("bc1", "crawler-1", True), click("bc2", "crawler-2", True),
    ])
    yield writer
    backend.close()


def test_bots_events_are_stored_with_their_mark(writer: Writer) -> None:
    rows = writer.query("SELECT event_id, bot FROM footfall.events FINAL ORDER BY event_id")
    assert {row["event_id"]: row["bot"] for row in rows} == {
        "before": 0, "p1": 0, "p2": 0, "c1": 0, "b1": 1, "b2": 1, "b3": 1, "bc1": 1, "bc2": 1,
    }


def test_heatmaps_leave_bots_out_unless_the_site_counts_them(writer: Writer) -> None:
    people = read_heatmap(writer.query, "shop", "/pricing")
    assert (people.views, people.visitors, people.clicks) == (3, 3, 1)  # the view from before the mark stays
    everyone = read_heatmap(writer.query, "shop", "/pricing", count_bots=True)
    assert (everyone.views, everyone.visitors, everyone.clicks) == (6, 5, 3)


def test_page_stats_count_people_only(writer: Writer) -> None:
    rows = writer.query("SELECT sum(views) AS views FROM footfall.page_stats_hourly WHERE site_id = 'shop'")
    assert rows == [{"views": 3}]


def test_migration_9_runs_again_without_losing_or_doubling_a_rollup(writer: Writer) -> None:
    [bot_mark] = [migration for migration in MIGRATIONS if migration.version == BOT_MARK]
    for statement in bot_mark.statements:
        writer.backend.execute(statement)
    write(writer, [event("p3", "person-3", False), event("b4", "crawler-3", True)])
    assert read_heatmap(writer.query, "shop", "/pricing").views == 4
    assert read_heatmap(writer.query, "shop", "/pricing", count_bots=True).views == 8


def report(writer: Writer, scope: Scope) -> str:
    console = Console(width=200, record=True)
    with console.capture() as captured:
        for section in sections.build(writer.query, scope):
            console.print(section)
    return captured.get()


@pytest.fixture
def today() -> datetime:
    return datetime.fromtimestamp(NOW_MS / 1000, UTC)


def pricing_row(printed: str) -> list[str]:
    """The top pages' row of /pricing: path, views, visitors (the paths section, later, has its own)."""
    line = next(line for line in printed.splitlines() if "/pricing" in line)
    return [cell.strip() for cell in line.strip("│ ").split("│")]


def figures(writer: Writer, where: str) -> tuple[int, int, int]:
    row = writer.query(
        "SELECT count() AS events, countIf(type = 'page_view') AS views, uniqExactIf(anonymous_id, type = 'page_view') AS visitors "
        f"FROM footfall.events FINAL WHERE {where}"
    )[0]
    return row["events"], row["views"], row["visitors"]


def test_the_report_counts_people_and_says_how_many_bot_events_it_left_out(writer: Writer, today: datetime) -> None:
    printed = report(writer, Scope("shop", today.date()))
    bots, _, _ = figures(writer, "bot = 1")
    assert bots >= 5
    assert printed.splitlines()[0] == f"left out: {bots:,} bot events"
    # Another site counting its bots is no news in this site's report.
    elsewhere = report(writer, Scope("shop", today.date(), frozenset({"blog"})))
    assert elsewhere.splitlines()[0] == f"left out: {bots:,} bot events"
    events, views, visitors = figures(writer, "bot = 0")
    assert f"{events:,} events, {views:,} page views" in printed
    assert pricing_row(printed) == ["/pricing", str(views), str(visitors)]


def test_a_site_counting_bots_has_them_in_its_report(writer: Writer, today: datetime) -> None:
    sites = [Site(id="shop", write_key="k1", count_bots=True), Site(id="blog", write_key="k2")]
    assert counting_bots(sites) == frozenset({"shop"})
    printed = report(writer, Scope("shop", today.date(), counting_bots(sites)))
    assert printed.splitlines()[0] == "left out: 0 bot events (bots count as traffic for shop)"
    events, views, visitors = figures(writer, "1")
    assert f"{events:,} events, {views:,} page views" in printed
    assert pricing_row(printed) == ["/pricing", str(views), str(visitors)]
