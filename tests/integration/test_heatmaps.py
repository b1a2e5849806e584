"""Heatmaps, scroll maps and hourly page stats: the real migrations on the embedded engine,
written through the sink's own batches, replays and session moves included."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import orjson
import pytest
from matplotlib.image import imread

from footfall.reports.heatmap import click_grid, read_heatmap, top_paths
from schemas.topics import SESSIONISED, SESSIONS
from infra.clickhouse.embedded import EmbeddedClickHouse
from infra.clickhouse.migrations import migrate
from sinks.rows import RowBatch
from sinks.service import Writer

FOOTFALL = str(Path(sys.executable).parent / "footfall")
START_MS = 1_795_600_800_000  # 2026-11-25 10:00 UTC


def event(event_id: str, minutes: float, name: str = "", path: str = "/pricing", visitor: str = "v1", **fields: object) -> dict:
    ts = START_MS + int(minutes * 60_000)
    return {
        "event_id": event_id, "site_id": "shop", "type": "page_view" if not name else "track", "name": name or "Page Viewed",
        "ts": ts, "received_at": ts, "anonymous_id": visitor, "session_id": f"s-{visitor}", "path": path, **fields,
    }


def click(event_id: str, minutes: float, x: float, y: float, width: float = 1000, **fields: object) -> dict:
    return event(event_id, minutes, "Element Clicked", x=x, y=y, page_width=width, page_height=3000, **fields)


def scroll(event_id: str, minutes: float, depth: float, **fields: object) -> dict:
    return event(event_id, minutes, "Page Scrolled", scroll_pct=depth, **fields)


def engaged(event_id: str, minutes: float, ms: int, **fields: object) -> dict:
    return event(event_id, minutes, "Page Engaged", properties={"engaged_ms": ms}, **fields)


def session(session_id: str, entry_path: str, is_bounce: bool, version: int, minutes: float = 0) -> dict:
    started = START_MS + int(minutes * 60_000)
    return {"site_id": "shop", "session_id": session_id, "anonymous_id": "v", "started_at_ms": started,
            "ended_at_ms": started, "entry_path": entry_path, "exit_path": entry_path, "is_bounce": is_bounce,
            "is_deleted": False, "version": version}


def batch(events: list[dict] = (), moves: list[tuple[list[str], str]] = (), sessions: list[dict] = ()) -> RowBatch:
    """A sink batch from records shaped as on the sessionised and sessions topics."""
    written = RowBatch()
    for record in events:
        written.add(SESSIONISED.name, orjson.dumps({"kind": "event", "event": record}))
    for event_ids, session_id in moves:
        written.add(SESSIONISED.name, orjson.dumps({"kind": "move", "site_id": "shop", "event_ids": event_ids, "session_id": session_id}))
    for record in sessions:
        written.add(SESSIONS.name, orjson.dumps(record))
    return written


TRAFFIC = [
    event("p1", 0), event("p2", 5, visitor="v2"), event("p3", 70, visitor="v1"), event("h1", 1, path="/"),
    click("c1", 1, x=0, y=0), click("c2", 2, x=49, y=99), click("c3", 3, x=999, y=250),
    click("c4", 4, x=600, y=120, width=1200), click("c5", 71, x=1000, y=50_000),
    scroll("s1", 2, 25), scroll("s2", 3, 50), scroll("s3", 4, 31), scroll("s4", 6, 100), scroll("s5", 7, 80),
    engaged("g1", 8, 1500), engaged("g2", 9, 2500), engaged("g3", 72, 1000),
]


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[Writer]:
    backend = EmbeddedClickHouse(tmp_path / "clickhouse")
    migrate(backend)
    writer = Writer(backend)
    writer.write(batch(TRAFFIC, sessions=[session("a", "/pricing", True, 1), session("b", "/pricing", False, 1, 5)]))
    yield writer
    backend.close()


def heatmap_cells(writer: Writer) -> dict[tuple[int, int], int]:
    grid = click_grid(writer.query, "shop", "/pricing")
    return {(y, x): clicks for y, row in enumerate(grid) for x, clicks in enumerate(row) if clicks}


EXPECTED_CELLS = {(0, 0): 2, (2, 19): 1, (1, 10): 1, (99, 19): 1}


def test_clicks_land_in_width_columns_and_pixel_bands(sink: Writer) -> None:
    assert heatmap_cells(sink) == EXPECTED_CELLS
    assert len(click_grid(sink.query, "shop", "/pricing")) == 100  # the deepest band holds what is below it
    assert click_grid(sink.query, "shop", "/") == []


def test_scroll_reach_per_quarter_and_page_figures(sink: Writer) -> None:
    heatmap = read_heatmap(sink.query, "shop", "/pricing")
    assert heatmap.reach == {0: 3, 25: 2, 50: 1, 75: 1, 100: 1}
    assert (heatmap.views, heatmap.visitors, heatmap.engaged_ms, heatmap.clicks) == (3, 2, 5000.0, 5)
    assert top_paths(sink.query, "shop") == [("/pricing", 3), ("/", 1)]


def test_since_keeps_whole_hours_from_then(sink: Writer) -> None:
    later = read_heatmap(sink.query, "shop", "/pricing", datetime.fromtimestamp((START_MS + 61 * 60_000) / 1000, UTC))
    assert (later.views, later.clicks, later.engaged_ms, later.reach[25]) == (1, 1, 1000.0, 0)


def test_hourly_page_stats_take_bounces_from_current_sessions(sink: Writer) -> None:
    # Session a grows past a bounce: its new version replaces the old, and is counted once.
    sink.write(batch(sessions=[session("a", "/pricing", False, 2), session("c", "/", True, 1)]))
    rows = sink.query(
        "SELECT path, toString(hour) AS hour, views, visitors, engaged_ms, entries, bounces, bounce_rate "
        "FROM footfall.page_stats_hourly WHERE site_id = 'shop' ORDER BY path, hour"
    )
    assert rows == [
        {"path": "/", "hour": "2026-11-25 10:00:00", "views": 1, "visitors": 1, "engaged_ms": 0,
         "entries": 1, "bounces": 1, "bounce_rate": 1},
        {"path": "/pricing", "hour": "2026-11-25 10:00:00", "views": 2, "visitors": 2, "engaged_ms": 4000,
         "entries": 2, "bounces": 0, "bounce_rate": 0},
        {"path": "/pricing", "hour": "2026-11-25 11:00:00", "views": 1, "visitors": 1, "engaged_ms": 1000,
         "entries": 0, "bounces": 0, "bounce_rate": None},
    ]


def test_replays_and_session_moves_do_not_double_count(sink: Writer) -> None:
    before = read_heatmap(sink.query, "shop", "/pricing")
    sink.write(batch(TRAFFIC))  # the same batch again: dropped by insert deduplication
    sink.write(batch(TRAFFIC[::2]))  # a replay shaped differently: rows stored again
    sink.write(batch(moves=[(["p1", "c1", "s1", "g1"], "s-merged")]))  # rewritten with version 2
    assert sink.query("SELECT count() AS n FROM footfall.events WHERE version = 2") == [{"n": 4}]
    assert read_heatmap(sink.query, "shop", "/pricing") == before
    assert heatmap_cells(sink) == EXPECTED_CELLS


def test_heatmap_command_writes_a_png_or_names_the_paths_with_data(sink: Writer, tmp_path: Path) -> None:
    sink.backend.close()  # the command opens the engine itself, as it does when no stack runs
    env = {**os.environ, "FOOTFALL_STATE_DIR": str(tmp_path), "FOOTFALL_SINK_PORT": "1", "COLUMNS": "200"}
    footfall = partial(subprocess.run, env=env, capture_output=True, text=True, timeout=120)

    out = tmp_path / "pricing.png"
    drawn = footfall([FOOTFALL, "heatmap", "--site", "shop", "--path", "/pricing", "--out", str(out)])
    assert drawn.returncode == 0, drawn.stdout + drawn.stderr
    assert "3 page views, 2 visitors, 5 clicks" in drawn.stdout
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    height, width, _ = imread(out).shape
    assert (width, height) == (800, 520)

    missing = footfall([FOOTFALL, "heatmap", "--site", "shop", "--path", "/nope", "--out", str(tmp_path / "x.png")])
    assert missing.returncode == 1
    assert "no page views or clicks for shop /nope" in missing.stdout
    assert "/pricing  (3 views)" in missing.stdout and "/  (1 views)" in missing.stdout
    assert not (tmp_path / "x.png").exists()
    nobody = footfall([FOOTFALL, "heatmap", "--site", "nobody", "--path", "/", "--out", str(tmp_path / "x.png")])
    assert nobody.returncode == 1 and "site nobody has no page views" in nobody.stdout

    bad = footfall([FOOTFALL, "heatmap", "--site", "shop", "--path", "/", "--out", str(out), "--since", "soon"])
    assert bad.returncode == 2 and "neither" in bad.stdout
