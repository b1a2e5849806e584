"""Bots through the real pipeline: crawlers' and headless browsers' events land in
footfall.events marked, and stay out of the heatmap rollups and the report unless their site
counts bots; a person's browser and a backend's SDK are counted as ever."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from rich.console import Console

from footfall.local.kafka_broker import Broker
from footfall.reports import sections
from footfall.reports.heatmap import read_heatmap
from footfall.reports.queries import Scope, counting_bots
from footfall.reports.since import since_day
from infra.config import Site
from tests.support.pipeline import Pipeline, start_pipeline
from tests.support.waiting import wait_for

SITES = [Site(id="crawled", write_key="crawled_key"), Site(id="counting", write_key="counting_key", count_bots=True)]
CONFIG = "".join(f'[[sites]]\nid = "{s.id}"\nwrite_key = "{s.write_key}"\ncount_bots = {str(s.count_bots).lower()}\n\n' for s in SITES)
PATH = "/pricing"

CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
GOOGLEBOT = ("Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Chrome/131.0.6778.69 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
GPTBOT = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; GPTBot/1.2; +https://openai.com/gptbot"
HEADLESS = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36"
SDK = "analytics-python/2.4.0"

# (visitor, the request's User-Agent, the messages' context.userAgent, a bot?)
SENDERS = [
    ("person", CHROME, None, False),
    ("googlebot", GOOGLEBOT, None, True),
    ("gptbot", GPTBOT, None, True),
    ("headless", SDK, HEADLESS, True),  # a backend forwarding a headless browser's visit
    ("backend", SDK, None, False),  # a backend's own events, sent with its SDK's agent
]
BROWSING = ("person", "googlebot", "gptbot", "headless")  # who views the page, scrolls and clicks


def visit(run: str, visitor: str, context_agent: str | None) -> list[dict]:
    """A page view, a scroll and a click on /pricing; a backend sends a purchase instead."""
    context: dict = {"page": {"path": PATH, "url": f"https://shop.example{PATH}"}}
    if context_agent:
        context["userAgent"] = context_agent
    ids = {"anonymousId": f"{visitor}-{run}", "context": context}
    if visitor == "backend":
        order = {"order_id": f"o-{run}", "revenue": 25.0, "currency": "EUR"}
        return [{"type": "track", "event": "Order Completed", "messageId": f"{run}-{visitor}-0", "properties": order, **ids}]
    return [
        {"type": "page", "messageId": f"{run}-{visitor}-0", "properties": {"path": PATH}, **ids},
        {"type": "track", "event": "Page Scrolled", "messageId": f"{run}-{visitor}-1", "properties": {"depth": 50}, **ids},
        {"type": "track", "event": "Element Clicked", "messageId": f"{run}-{visitor}-2",
         "properties": {"selector": "button.buy", "x": 100, "y": 20, "page_width": 1000}, **ids},
    ]


@pytest.fixture(scope="module")
def landed(kafka: Broker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Pipeline, Path, str]]:
    folder = tmp_path_factory.mktemp("bots")
    config = folder / "footfall.toml"
    config.write_text(CONFIG)
    pipeline = start_pipeline(kafka, folder / "stack", FOOTFALL_CONFIG=str(config))
    try:
        run = uuid.uuid4().hex[:10]
        for site in SITES:
            for visitor, header_agent, context_agent, _ in SENDERS:
                answer = httpx.post(
                    f"{pipeline.collector.url}/v1/batch", json={"batch": visit(run, visitor, context_agent)},
                    auth=(site.write_key, ""), headers={"User-Agent": header_agent}, timeout=30,
                )
                assert answer.status_code == 200, answer.text
        expected = len(SITES) * (3 * len(BROWSING) + 1)
        wait_for(lambda: landed_count(pipeline, run) == expected or landed_count(pipeline, run), 120, "every event")
        yield pipeline, config, run
    finally:
        pipeline.stop()


def landed_count(pipeline: Pipeline, run: str) -> int:
    return pipeline.query(f"SELECT count() AS n FROM footfall.events FINAL WHERE anonymous_id LIKE '%-{run}'")[0]["n"]


def test_robots_events_land_marked_and_people_and_backends_unmarked(landed: tuple[Pipeline, Path, str]) -> None:
    pipeline, _, run = landed
    rows = pipeline.query(
        "SELECT site_id, anonymous_id, groupUniqArray(bot) AS marks, count() AS events FROM footfall.events FINAL "
        f"WHERE anonymous_id LIKE '%-{run}' GROUP BY site_id, anonymous_id"
    )
    marks = {(row["site_id"], row["anonymous_id"].removesuffix(f"-{run}")): row["marks"] for row in rows}
    assert marks == {(site.id, visitor): [int(bot)] for site in SITES for visitor, _, _, bot in SENDERS}


def test_heatmap_rollups_leave_bots_out_unless_the_site_counts_them(landed: tuple[Pipeline, Path, str]) -> None:
    pipeline = landed[0]
    people = read_heatmap(pipeline.query, "crawled", PATH)
    assert (people.views, people.visitors, people.clicks, people.reach[50]) == (1, 1, 1, 1)
    everyone = read_heatmap(pipeline.query, "counting", PATH, count_bots=True)
    assert (everyone.views, everyone.visitors, everyone.clicks, everyone.reach[50]) == (4, 4, 4, 4)
    rows = pipeline.query(f"SELECT site_id, views FROM footfall.page_stats_hourly WHERE path = '{PATH}' ORDER BY site_id")
    assert rows and all(row["views"] == 1 for row in rows)  # people only, whatever the site


def test_the_report_leaves_bots_out_and_says_how_many(landed: tuple[Pipeline, Path, str]) -> None:
    pipeline, config, _ = landed
    env = {**os.environ, **pipeline.env, "FOOTFALL_CONFIG": str(config), "COLUMNS": "200"}
    printed = subprocess.run(
        [sys.executable, "-m", "footfall.cli", "report", "--site", "crawled", "--since", "1d"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert printed.returncode == 0, printed.stdout + printed.stderr
    lines = printed.stdout.splitlines()
    assert "left out: 9 bot events" in lines[:3], printed.stdout  # three robots, three events each
    assert "4 events, 1 page views" in printed.stdout  # the person's three and the backend's purchase


def test_a_site_counting_bots_has_them_in_its_report(landed: tuple[Pipeline, Path, str]) -> None:
    pipeline = landed[0]
    console = Console(width=200, record=True)
    with console.capture() as captured:
        for section in sections.build(pipeline.query, Scope("counting", since_day("1d"), counting_bots(SITES))):
            console.print(section)
    printed = captured.get()
    assert printed.splitlines()[0] == "left out: 0 bot events (bots count as traffic for counting)"
    assert "13 events, 4 page views" in printed
