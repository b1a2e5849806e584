"""Events marked as bot traffic are stored but not sessionised, analysed or counted into
profiles, unless their site counts bots; the worker counts them either way it leaves them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from infra.config import Settings, Site
from processors.analytics.analyse import analyse_batch
from processors.analytics.site_config import for_sites
from processors.runtime.wiring import session_rules
from processors.sessionisation.sessionise import sessionise_batch
from processors.sessionisation.sessions import Rules, SiteRules

MOMENT = datetime(2027, 1, 1, tzinfo=UTC).isoformat()
ANALYTICS = for_sites([])


def record(n: int, visitor: str, bot: Any) -> tuple[bytes, bytes]:
    event = {"event_id": f"e{n}", "site_id": "shop", "type": "page_view", "name": "Page Viewed", "ts": MOMENT,
             "received_at": MOMENT, "anonymous_id": visitor, "bot": bot}
    return f"shop:{visitor}".encode(), orjson.dumps(event)


BATCH = [record(1, "crawler", True), record(2, "person", False), record(3, "crawler", True), record(4, "odd", "yes")]


def test_a_site_that_does_not_count_bots_stores_their_events_without_a_session() -> None:
    result = sessionise_batch(BATCH, {}.get, lambda site: Rules())
    assert set(result.states) == {b"shop:person"}
    assert result.bots == {"shop": 2}
    published = [orjson.loads(value) for _, value in result.sessionised]
    assert [(p["event"]["event_id"], "session_id" in p["event"]) for p in published] == [
        ("e1", False), ("e2", True), ("e3", False),
    ]
    # Only a boolean marks a bot: a record saying "yes" holds no event at all.
    assert [reason for _, reason in result.malformed] == ["bot of a record of the events topic is text, not a boolean"]
    assert {row.anonymous_id for _, row in result.sessions.values()} == {"person"}
    analysed = analyse_batch(result.placed, {}.get, ANALYTICS.for_site, lambda site: None)
    assert set(analysed.states) == {b"shop:person"}


def test_a_site_that_counts_bots_sessionises_and_analyses_them() -> None:
    result = sessionise_batch(BATCH, {}.get, lambda site: Rules(count_bots=True))
    assert b"shop:crawler" in result.states and not result.bots
    analysed = analyse_batch(result.placed, {}.get, ANALYTICS.for_site, lambda site: None)
    assert analysed.states[b"shop:crawler"].profile.events == 2


def test_each_site_counts_bots_as_its_configuration_says(tmp_path: Path) -> None:
    counting = Site(id="shop", write_key="k1", count_bots=True)
    rules: SiteRules = session_rules(Settings(state_dir=tmp_path, sites=[counting, Site(id="blog", write_key="k2")]))
    assert rules.for_site("shop").count_bots and not rules.for_site("blog").count_bots
    assert rules.for_site("shop").gap_ms == rules.default.gap_ms
