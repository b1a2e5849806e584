"""Every command prints what the data holds, as text: paths, names and currencies that look
like markup, emoji codes or terminal escapes reach the terminal as written."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import orjson

from infra.clickhouse.embedded import EmbeddedClickHouse
from infra.clickhouse.migrations import migrate
from schemas.topics import SESSIONISED
from sinks.rows import RowBatch
from sinks.service import Writer

FOOTFALL = str(Path(sys.executable).parent / "footfall")
PATHS = ["/[/x]", "/root:x:0:0", "/:smile:", "/[bold]loud", "/\x1b]8;;http://evil.example\x1b\\link"]


def events_with_hostile_text() -> RowBatch:
    now = int(time.time() * 1000) - 3_600_000
    batch = RowBatch()
    for n, path in enumerate(PATHS):
        event = {"event_id": f"e{n}", "site_id": "demo", "type": "page_view", "name": "Page Viewed", "ts": now + n,
                 "received_at": now + n, "anonymous_id": f"v{n}", "session_id": f"s{n}", "path": path}
        batch.add(SESSIONISED.name, orjson.dumps({"kind": "event", "event": event}))
        order = {**event, "event_id": f"o{n}", "type": "purchase", "name": "Order Completed", "revenue": 10.0,
                 "currency": "[/c]", "order_id": f"order{n}"}
        batch.add(SESSIONISED.name, orjson.dumps({"kind": "event", "event": order}))
    return batch


def test_query_report_and_heatmap_print_data_literally(tmp_path: Path) -> None:
    backend = EmbeddedClickHouse(tmp_path / "clickhouse")
    migrate(backend)
    Writer(backend).write(events_with_hostile_text())
    backend.close()
    env = {**os.environ, "FOOTFALL_STATE_DIR": str(tmp_path), "FOOTFALL_SINK_PORT": "1", "COLUMNS": "250"}

    def footfall(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([FOOTFALL, *args], env=env, capture_output=True, text=True, timeout=180)
        assert done.returncode in (0, 1), done.stdout + done.stderr
        assert "Traceback" not in done.stderr and "\x1b]8" not in done.stdout
        return done

    table = footfall("query", "SELECT path, currency FROM footfall.events FINAL ORDER BY event_id")
    for shown in ("/[/x]", "/root:x:0:0", "/:smile:", "/[bold]loud", "[/c]", "/\\x1b]8;;http://evil.example\\x1b\\link"):
        assert shown in table.stdout
    tsv = footfall("query", "SELECT path FROM footfall.events FINAL WHERE type = 'page_view' ORDER BY event_id", "-f", "tsv")
    assert tsv.stdout.splitlines()[1:4] == ["/[/x]", "/root:x:0:0", "/:smile:"]

    report = footfall("report", "--site", "demo", "--since", "7d")
    assert report.returncode == 0
    assert "/root:x:0:0" in report.stdout and "/[/x]" in report.stdout and "[/c]" in report.stdout

    missing = footfall("heatmap", "--site", "demo", "--path", "/[/nothing", "--out", str(tmp_path / "x.png"))
    assert "no page views or clicks for demo /[/nothing" in missing.stdout and "/:smile:" in missing.stdout
    drawn = footfall("heatmap", "--site", "demo", "--path", "/[/x]", "--out", str(tmp_path / "h.png"))
    assert drawn.returncode == 0 and (tmp_path / "h.png").read_bytes()[:4] == b"\x89PNG"
