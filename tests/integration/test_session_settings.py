"""Per-site session gaps, and the timer that forgets idle visitors, on the real pipeline."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from schemas.topics import VISITORS_CHANGELOG
from tests.support.kafka_reader import read_records
from tests.support.pipeline import new_broker, start_pipeline
from tests.support.waiting import wait_for

CONFIG = """
[[sites]]
id = "slow"
write_key = "slow_key"

[[sites]]
id = "quick"
write_key = "quick_key"
session_gap_s = 1
"""


def latest_changelog_values(bootstrap: str) -> dict[bytes, bytes | None]:
    records = asyncio.run(read_records(bootstrap, VISITORS_CHANGELOG))
    return {record.key: record.value for record in records}


def test_site_gap_and_idle_visitors(tmp_path: Path) -> None:
    config = tmp_path / "footfall.toml"
    config.write_text(CONFIG)
    broker = new_broker(tmp_path / "broker")
    pipeline = start_pipeline(
        broker, tmp_path / "stack",
        FOOTFALL_CONFIG=str(config), FOOTFALL_SESSION_GAP_S="2", FOOTFALL_ALLOWED_LATENESS_S="1", FOOTFALL_IDLE_CHECK_S="1",
    )
    try:
        for key in ("slow_key", "quick_key"):
            batch = [{"type": "page", "anonymousId": "v", "messageId": f"{key}-{n}", "timestamp": f"2026-11-20T10:00:0{n * 1.5:03.1f}Z"}
                     for n in range(3)]
            assert httpx.post(f"{pipeline.collector.url}/v1/batch", json={"batch": batch}, auth=(key, "")).status_code == 200

        def sessions_by_site():
            rows = pipeline.query("SELECT site_id, count() AS n FROM footfall.sessions FINAL GROUP BY site_id ORDER BY site_id")
            return True if rows == [{"site_id": "quick", "n": 3}, {"site_id": "slow", "n": 1}] else rows

        wait_for(sessions_by_site, 90, "one session on the 2 s site, three on the 1 s site")

        # Both visitors go idle; after a gap plus the lateness the timer drops their state,
        # with a tombstone, so that compaction and a restarted worker forget them too.
        def forgotten():
            latest = latest_changelog_values(broker.bootstrap)
            return True if latest and all(value is None for value in latest.values()) else latest

        time.sleep(3)
        wait_for(forgotten, 60, "idle visitors' state tombstoned in the changelog")
    finally:
        pipeline.stop()
        broker.stop()
