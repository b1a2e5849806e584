"""footfall.js in a real browser against the real pipeline.

Debian's chromium, driven by playwright-core (collector/tracker/e2e/drive.mjs), visits a
page served here on another origin than the collector; the events must land in ClickHouse
exactly once, with the fields a heatmap, a scroll report and a revenue report read.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from collector.script import SCRIPT_PATH
from footfall.local.kafka_broker import Broker
from infra.config import LOCAL_ORIGINS
from tests.support.pipeline import Pipeline, start_pipeline
from tests.support.waiting import wait_for

TRACKER = SCRIPT_PATH.parent.parent
PAGE = Path(__file__).with_name("tracker_page.html")
EVENT_FIELDS = (
    "event_id, type, name, path, url, user_id, session_id, selector, text, x, y, page_width, page_height, "
    "scroll_pct, revenue, currency, order_id, utm_source, properties"
)


@pytest.fixture(scope="module")
def pipeline(kafka: Broker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    # Headless chromium says so in its user agent, which marks its events as a bot's: this
    # site counts them, so the browser's visit goes through sessions like a person's.
    site = {"id": "demo", "write_key": "demo_key", "allowed_origins": list(LOCAL_ORIGINS), "count_bots": True}
    running = start_pipeline(kafka, tmp_path_factory.mktemp("tracker"), FOOTFALL_SITES=json.dumps([site]))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def page_url(pipeline: Pipeline) -> Iterator[str]:
    """The test page, with the one-tag install pointing at this pipeline's collector, served
    for every path so that a reload after an SPA navigation finds it too."""
    html = PAGE.read_text().replace("__COLLECTOR__", pipeline.collector.url).encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args: object) -> None:
            """Quiet: the browser's requests are not news."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/?utm_source=news&utm_medium=email&utm_campaign=launch"
    server.shutdown()
    server.server_close()


def drive(scenario: str, url: str) -> dict:
    run = subprocess.run(
        ["node", "e2e/drive.mjs", scenario, url], cwd=TRACKER, capture_output=True, text=True, timeout=240
    )
    assert run.returncode == 0, run.stderr[-4000:]
    return json.loads(run.stdout)


def landed(pipeline: Pipeline, anonymous_id: str, expected: int) -> list[dict]:
    sql = f"SELECT {EVENT_FIELDS} FROM footfall.events FINAL WHERE anonymous_id = '{anonymous_id}'"
    rows: list[dict] = []

    def check() -> bool | int:
        rows[:] = pipeline.query(sql)
        return True if len(rows) >= expected else len(rows)

    wait_for(check, what=f"{expected} events of {anonymous_id}")
    return rows


def of_type(rows: list[dict], kind: str) -> list[dict]:
    return [row for row in rows if row["type"] == kind]


def answered_2xx(batch: dict) -> bool:
    return isinstance(batch["outcome"], int) and batch["outcome"] < 300


def acknowledged(batches: list[dict]) -> Counter[str]:
    """How many times each messageId was in a batch the collector answered with 2xx."""
    return Counter(m["messageId"] for batch in batches if answered_2xx(batch) for m in batch["messages"])


def sent_after_acknowledged(batches: list[dict]) -> set[str]:
    """messageIds that went out again in a later batch once one had been acknowledged."""
    done: set[str] = set()
    again: set[str] = set()
    for batch in batches:
        ids = {m["messageId"] for m in batch["messages"]}
        again |= ids & done
        if answered_2xx(batch):
            done |= ids
    return again


def test_a_visit_lands_exactly_once_with_its_fields(pipeline: Pipeline, page_url: str) -> None:
    seen = drive("journey", page_url)
    rows = landed(pipeline, seen["anonymousId"], 20)
    assert len(rows) == 20

    # Delivery: every event acknowledged exactly once, none sent again after that, although
    # the outage made some be sent several times before. The last Page Engaged went on
    # leaving, after the page was gone, out of the driver's sight.
    acks = acknowledged(seen["batches"])
    unseen = {row["event_id"] for row in rows} - set(acks)
    assert [row["name"] for row in rows if row["event_id"] in unseen] == ["Page Engaged"]
    assert set(acks.values()) == {1}
    assert len(acks) == 19
    assert sent_after_acknowledged(seen["batches"]) == set()
    assert any(not answered_2xx(batch) for batch in seen["batches"])
    assert {"Outage Event", "Element Clicked", "Page Engaged", "page", "Queued Early"} <= set(seen["keptDuringOutage"])

    names = Counter((row["type"], row["name"]) for row in rows)
    assert names == {
        ("page_view", "Page Viewed"): 5,
        ("click", "Element Clicked"): 4,
        ("scroll", "Page Scrolled"): 1,
        ("identify", "Identify"): 1,
        ("purchase", "Order Completed"): 1,
        ("track", "Page Engaged"): 5,
        ("track", "Queued Early"): 2,
        ("track", "Outage Event"): 1,
    }

    width, height = seen["pageSize"]
    clicks = sorted((r["x"], r["y"], r["selector"], r["text"], r["page_width"], r["page_height"]) for r in of_type(rows, "click"))
    first, second, email, outage = seen["clicks"]
    assert clicks == sorted(
        [
            (first["x"], first["y"], "#buy", "Buy now", width, height),
            (second["x"], second["y"], "body>main>ul>li:nth-of-type(2)>button", "Second choice", width, height),
            (email["x"], email["y"], "#email", "", width, height),
            (outage["x"], outage["y"], "#buy", "Buy now", width, height),
        ]
    )
    [scroll] = of_type(rows, "scroll")
    assert (scroll["scroll_pct"], scroll["page_height"]) == (100.0, height)
    [purchase] = of_type(rows, "purchase")
    assert (purchase["revenue"], purchase["currency"], purchase["order_id"]) == (59.5, "EUR", seen["order"]["order_id"])

    views = sorted((r["path"], r["utm_source"], "tab=annual" in r["url"]) for r in of_type(rows, "page_view"))
    assert views == [("/", "news", False)] * 3 + [("/pricing", "", False), ("/pricing", "", True)]
    engaged = sorted(json.loads(r["properties"])["engaged_ms"] for r in rows if r["name"] == "Page Engaged")
    assert engaged == [1000, 2000, 3000, 3000, 6000]

    # Identity: the user id from identify on, kept across the reload; one session throughout.
    assert Counter(row["user_id"] for row in rows) == {"": 6, "user-42": 14}
    assert len({row["session_id"] for row in rows}) == 1
    [session] = pipeline.query(
        "SELECT events, pageviews, clicks, purchases, revenue, max_scroll_pct, user_id, entry_path, utm_source "
        f"FROM footfall.sessions FINAL WHERE anonymous_id = '{seen['anonymousId']}'"
    )
    assert session == {
        "events": 20, "pageviews": 5, "clicks": 4, "purchases": 1, "revenue": 59.5, "max_scroll_pct": 100.0,
        "user_id": "user-42", "entry_path": "/", "utm_source": "news",
    }

    # Privacy: what was typed never leaves the page; no cookie is set.
    assert "secret@example.com" not in json.dumps(seen["batches"])
    assert seen["cookies"] == []


def test_privacy_signals_and_consent(pipeline: Pipeline, page_url: str) -> None:
    seen = drive("privacy", page_url)
    assert seen["gpc"] == {"stored": {}, "batches": 0}

    consent = seen["consent"]
    old_id = consent["beforeConsent"]["footfall.id"]
    assert consent["afterRefusal"] == consent["afterReload"] == {"footfall.consent": False}
    assert consent["sentAfterRefusal"] == 0
    new_id = consent["afterConsent"]["footfall.id"]
    assert new_id != old_id

    before = landed(pipeline, old_id, 2)
    after = landed(pipeline, new_id, 1)
    assert sorted(row["name"] for row in before) == ["Page Viewed", "Queued Early"]
    assert [row["name"] for row in after] == ["Page Viewed"]
