"""User paths on the modern engine with the real migrations: known sessions written through
the sink's own batches, the paths after a page and before a goal counted exactly in
ClickHouse, reloads collapsed, bots left out, hostile paths kept whole for the counts and
cut for the eye, a funnel's visitors followed to where they went instead, the report's
section, and `footfall paths` drawing its picture."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import orjson
import pytest
from matplotlib.image import imread
from rich.console import Console

from footfall.reports import sections
from footfall.reports.paths import SHOWN_CHARS, Direction, Link, PathAsk, Walk, page_views_where, read_instead, read_paths
from footfall.reports.paths_picture import DPI, size
from footfall.reports.queries import Scope
from infra.clickhouse.embedded import EmbeddedClickHouse
from infra.clickhouse.migrations import migrate
from schemas.topics import FUNNEL_PROGRESS, SESSIONISED
from sinks.rows import RowBatch
from sinks.service import Writer
from tests.support.paths import REPOSITORY

START_MS = 1_795_600_800_000  # 2026-11-25 10:00 UTC
DAY_MS = 86_400_000
HOSTILE = "/q'\"\\ [b]x[/b] 東京 " + "z" * 500
SESSIONS = {
    "s1": ["/", "/pricing", "/signup", "/done"],
    "s2": ["/", "/pricing", "/pricing", "/signup"],  # a reload
    "s3": ["/", "/blog"],
    "s4": ["/"],
    "s5": ["/blog", "/", "/pricing", "/signup", "/done", "/x"],  # a day later
    "s6": ["/", HOSTILE],
}
BOT_SESSION = ["/", "/pricing"]
CONFIG = """[[sites]]
id = "shop"
write_key = "shop_key"

[[sites.funnels]]
name = "checkout"
window_s = 3600
steps = [{type = "page_view", field = "path", op = "eq", value = "/product"}, {event = "Product Added"}, {type = "purchase"}]
"""


def event(event_id: str, visitor: str, minutes: float, path: str, name: str = "", session: str | None = None, **fields: object) -> dict:
    ts = START_MS + int(minutes * 60_000)
    return {
        "event_id": event_id, "site_id": "shop", "type": "track" if name else "page_view", "name": name or "Page Viewed",
        "ts": ts, "received_at": ts, "anonymous_id": visitor, "session_id": session or f"s-{visitor}", "path": path, **fields,
    }


def page_views() -> list[dict]:
    views = []
    for session, pages in SESSIONS.items():
        offset = 24 * 60 if session == "s5" else 0
        views += [event(f"{session}-{i}", session, offset + i, page) for i, page in enumerate(pages)]
    views += [event(f"bot-{i}", "bot", i, page, bot=True) for i, page in enumerate(BOT_SESSION)]
    return views


# A funnel: f1 added to cart (step 2), reloaded and went to /faq; f2 stopped at the product,
# reloaded and went to /pricing; f3 saw the product and left; f4 came back in another
# session only; f5 bought.
FUNNEL_EVENTS = [
    event("f1-0", "f1", 0, "/product"), event("f1-1", "f1", 1, "/product", "Product Added"),
    event("f1-2", "f1", 2, "/product"), event("f1-3", "f1", 3, "/faq"),
    event("f2-0", "f2", 0, "/product"), event("f2-1", "f2", 1, "/product"), event("f2-2", "f2", 2, "/pricing"),
    event("f3-0", "f3", 0, "/product"),
    event("f4-0", "f4", 0, "/product"), event("f4-1", "f4", 600, "/pricing", session="s-f4-later"),
    event("f5-0", "f5", 0, "/product"), event("f5-1", "f5", 1, "/product", "Product Added"), event("f5-2", "f5", 2, "/thanks"),
]
FUNNEL_PROGRESS_ROWS = {"f1": [0, 1], "f2": [0], "f3": [0], "f4": [0], "f5": [0, 1, 2]}


def batch(events: list[dict], progress: dict[str, list[int]] = {}) -> RowBatch:
    written = RowBatch()
    for record in events:
        written.add(SESSIONISED.name, orjson.dumps({"kind": "event", "event": record}))
    for visitor, minutes in progress.items():
        record = {"site_id": "shop", "funnel": "checkout", "anonymous_id": visitor, "customer_id": visitor,
                  "reached_ms": [START_MS + m * 60_000 for m in minutes], "late": False, "version": 1}
        written.add(FUNNEL_PROGRESS.name, orjson.dumps(record))
    return written


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("paths")


@pytest.fixture(scope="module")
def sink(folder: Path) -> Iterator[Writer]:
    """One engine for the module's reads; the commands' tests, last, close it first."""
    backend = EmbeddedClickHouse(folder / "clickhouse")
    try:
        migrate(backend)
        writer = Writer(backend)
        writer.write(batch(page_views() + FUNNEL_EVENTS, FUNNEL_PROGRESS_ROWS))
        yield writer
    finally:
        backend.close()


@pytest.fixture(scope="module")
def command(sink: Writer, folder: Path) -> Callable[..., subprocess.CompletedProcess]:
    """`footfall paths` as a user runs it, opening the engine itself as when no stack runs."""
    sink.backend.close()
    config = folder / "footfall.toml"
    config.write_text(CONFIG)
    env = {**os.environ, "FOOTFALL_STATE_DIR": str(folder), "FOOTFALL_SINK_PORT": "1", "FOOTFALL_CONFIG": str(config), "COLUMNS": "200"}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "footfall.cli", "paths", *args], env=env, cwd=REPOSITORY,
                              capture_output=True, text=True, timeout=120)
    return run


def row_of(printed: str, first_cell: str) -> list[str]:
    """The cells of the first table row starting with `first_cell`."""
    for line in printed.splitlines():
        cells = [cell.strip() for cell in line.strip("│ ").split("│")]
        if cells[0] == first_cell:
            return cells
    raise AssertionError(f"no row {first_cell!r} in:\n{printed}")


def paths(writer: Writer, direction: Direction, page: str | None, steps: int, since: datetime | None = None, count_bots: bool = False):
    return read_paths(writer.query, PathAsk(direction, page, steps), page_views_where("shop", since, count_bots))


def test_paths_after_a_page_with_their_drop_offs(sink: Writer) -> None:
    found = paths(sink, Direction.from_, "/", 3)
    assert found.sessions == 6
    assert found.walks == (
        Walk(("/", "/pricing", "/signup", "/done"), 2), Walk(("/",), 1), Walk(("/", "/blog"), 1),
        Walk(("/", "/pricing", "/signup"), 1), Walk(("/", HOSTILE[:SHOWN_CHARS]), 1),
    )
    assert found.reached() == [6, 5, 3, 2]
    assert found.ended() == [1, 2, 1]  # s4 at the start; s3 and s6 after one page; s2 after two


def test_paths_before_a_goal_read_backwards_from_it(sink: Writer) -> None:
    found = paths(sink, Direction.to, "/signup", 3)
    assert found.walks == (Walk(("/signup", "/pricing", "/"), 2), Walk(("/signup", "/pricing", "/", "/blog"), 1))
    assert found.reached() == [3, 3, 3, 1]
    assert found.ended() == [0, 0, 2]  # s1 and s2 began on the home page


def test_reloads_are_one_page(sink: Writer) -> None:
    found = paths(sink, Direction.from_, "/pricing", 1)
    # f2 and f4 ended on /pricing; nobody went from /pricing to /pricing.
    assert found.links == (Link(1, "/pricing", "/signup", False, 3), Link(1, "/pricing", None, True, 2))


def test_bots_count_only_where_the_site_counts_them(sink: Writer) -> None:
    assert paths(sink, Direction.from_, "/", 1).sessions == 6
    assert paths(sink, Direction.from_, "/", 1, count_bots=True).sessions == 7


def test_since_keeps_the_later_sessions(sink: Writer) -> None:
    found = paths(sink, Direction.from_, "/", 2, since=datetime.fromtimestamp((START_MS + DAY_MS // 2) / 1000, UTC))
    assert found.walks == (Walk(("/", "/pricing", "/signup"), 1),)


def test_hostile_paths_are_compared_whole_and_returned_cut(sink: Writer) -> None:
    found = paths(sink, Direction.to, HOSTILE, 1)
    assert found.walks == (Walk((HOSTILE[:SHOWN_CHARS], "/"), 1),)
    assert paths(sink, Direction.from_, HOSTILE[:SHOWN_CHARS], 1).sessions == 0
    assert paths(sink, Direction.from_, "/' OR 1 = 1 OR path = '", 1).sessions == 0


def test_replays_and_session_moves_count_once(sink: Writer) -> None:
    # On a site of its own: a's two views, then b's view moved into a's session, and a's
    # views replayed in a batch of another shape, as after a crash.
    a = [event("m-a0", "m", 0, "/", session="m-a", site_id="moved"), event("m-a1", "m", 1, "/x", session="m-a", site_id="moved")]
    b = event("m-b0", "m", 2, "/y", session="m-b", site_id="moved")
    sink.write(batch([*a, b]))
    written = batch(a[:1])
    written.add(SESSIONISED.name, orjson.dumps({"kind": "move", "site_id": "moved", "event_ids": ["m-b0"], "session_id": "m-a"}))
    sink.write(written)
    # Every session from its entry: b's old session would be one of its own.
    found = read_paths(sink.query, PathAsk(Direction.entry, None, 3), page_views_where("moved", None, False))
    assert (found.sessions, found.walks) == (1, (Walk(("/", "/x", "/y"), 1),))


def test_where_funnel_visitors_went_instead_of_the_next_step(sink: Writer) -> None:
    assert read_instead(sink.query, "shop", "checkout", 3, None) == [
        {"step": 1, "next": None, "visitors": 2, "stopped": 3},
        {"step": 1, "next": "/pricing", "visitors": 1, "stopped": 3},
        {"step": 2, "next": "/faq", "visitors": 1, "stopped": 1},
    ]
    assert read_instead(sink.query, "shop", "checkout", 3, 2) == [{"step": 2, "next": "/faq", "visitors": 1, "stopped": 1}]
    assert read_instead(sink.query, "shop", "checkout' OR '1", 3, None) == []


def test_the_report_shows_the_entry_pages_and_where_they_lead(sink: Writer) -> None:
    console = Console(record=True, width=200)
    for section in sections.build(sink.query, Scope("shop", date(2026, 11, 25))):
        console.print(section)
    printed = console.export_text()
    entries = printed[printed.index("Entry pages and where they lead"):]
    # s1, s2, s3, s4 and s6 enter on the home page; s4 ends there, s1 and s2 go on to
    # /pricing. The funnel's visitors enter on /product: f3 and f4 end there, the others
    # go to /faq, /pricing and /thanks once each (the first by name is shown).
    assert row_of(entries, "/") == ["/", "5", "1 (20.0%)", "/pricing", "2"]
    assert row_of(entries, "/product") == ["/product", "5", "2 (40.0%)", "/faq", "1"]


def test_the_command_prints_the_paths_and_draws_them(command: Callable[..., subprocess.CompletedProcess], tmp_path: Path) -> None:
    out = tmp_path / "paths.png"
    drawn = command("--site", "shop", "--from", "/", "--out", str(out))
    assert drawn.returncode == 0, drawn.stdout + drawn.stderr
    assert row_of(drawn.stdout, "/ → /pricing → /signup → /done") == ["/ → /pricing → /signup → /done", "2", "33.3%"]
    assert row_of(drawn.stdout, "+2") == ["+2", "3", "50.0%", "1", "33.3%"]
    assert "[b]x[/b] 東京 zzz" in drawn.stdout and "z" * 60 not in drawn.stdout  # literal, and cut
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = size(4)
    assert imread(out).shape[:2] == (round(height * DPI), round(width * DPI))

    before = command("--site", "shop", "--to", HOSTILE, "--steps", "1")
    assert before.returncode == 0, before.stdout + before.stderr
    assert "/ → /q'\"\\ [b]x[/b]" in before.stdout


def test_the_command_asks_a_funnel_and_refuses_what_does_not_fit(command: Callable[..., subprocess.CompletedProcess]) -> None:
    instead = command("--site", "shop", "--funnel", "checkout")
    assert instead.returncode == 0, instead.stdout + instead.stderr
    assert row_of(instead.stdout, "2") == ["2", "/faq", "1", "100.0%"]
    assert row_of(instead.stdout, "1") == ["1", "(session ended)", "2", "66.7%"]

    refusals = {
        ("--from", "/", "--to", "/x"): "give exactly one of --from PATH and --to PATH",
        ("--from", "/", "--steps", "11"): "--steps takes 1 to 10, got 11",
        ("--funnel", "checkout", "--step", "3"): "--step takes 1 to 2 for funnel checkout",
        ("--funnel", "nope"): "site shop has no funnel 'nope' (its funnels: checkout)",
        ("--from", "/", "--step", "1"): "--step is a funnel's step",
    }
    for args, reason in refusals.items():
        refused = command("--site", "shop", *args)
        assert refused.returncode == 2 and reason in " ".join(refused.stdout.split()), (args, refused.stdout + refused.stderr)
    nothing = command("--site", "shop", "--from", "/nowhere")
    assert nothing.returncode == 1 and "no session of shop viewed /nowhere" in nothing.stdout
