"""Several sinks in one consumer group, each with an embedded engine of its own, and how
to read what the group wrote as one ClickHouse server would hold it.

The embedded engine has exactly one sink, and the only ClickHouse server that installs here
is too old for footfall's schema, so each sink of the group keeps its rows in an engine of
its own: every row a sink wrote stays where that sink wrote it, which shows which sink wrote
what, and a row written twice (a replay) shows as the same key in two engines. Merged by
key and version, as ReplacingMergeTree merges them, the engines hold what one shared
server would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from footfall.local.processes import Started, free_port, stop, wait_until
from footfall.local.stack import spawn_sink
from infra.clickhouse.embedded import EmbeddedClickHouse
from infra.config import Settings
from infra.health import http_ok
from infra.keys import sink_token


@dataclass
class GroupSink:
    """One sink of the group: its folder (its engine and its token) and its port."""

    name: str
    folder: Path
    url: str
    process: Started
    # The engine opened here once the sink is dead, so its rows can still be read.
    _left: EmbeddedClickHouse | None = field(default=None, repr=False)

    def query(self, sql: str) -> list[dict[str, Any]]:
        """Through the sink while it runs; once it died, straight from the engine it left."""
        if self.process.alive():
            token = sink_token(Settings(state_dir=self.folder))
            try:
                answer = httpx.post(f"{self.url}/query", content=sql.encode(), headers={"Authorization": f"Bearer {token}"}, timeout=60)
            except httpx.TransportError:
                if self.process.alive():  # starting, not yet answering
                    raise
                return self.query(sql)  # it died meanwhile
            assert answer.status_code == 200, answer.text
            return answer.json()
        if self._left is None:
            self._left = EmbeddedClickHouse(Settings(state_dir=self.folder).clickhouse_path)
        return self._left.query(sql)

    def stop(self) -> None:
        stop(self.process)
        if self._left is not None:
            self._left.close()


def start_group_sink(name: str, folder: Path, env: dict[str, str], ready: bool = True, **overrides: str) -> GroupSink:
    """A sink of the group footfall's sinks share, its state in `folder`."""
    port = free_port()
    sink_env = {**env, "FOOTFALL_STATE_DIR": str(folder), "FOOTFALL_SINK_PORT": str(port), **overrides}
    folder.mkdir(parents=True, exist_ok=True)
    process = spawn_sink(Settings(), folder / "sink.log", sink_env)
    sink = GroupSink(name, folder, f"http://127.0.0.1:{port}", process)
    if ready:
        wait_until(lambda: http_ok(f"{sink.url}/healthz"), 60, name, process)
    return sink


def event_ids(sink: GroupSink, suffix: str) -> set[str]:
    rows = sink.query(f"SELECT DISTINCT event_id FROM footfall.events WHERE anonymous_id LIKE '%{suffix}'")
    return {row["event_id"] for row in rows}


def merged_sessions(sinks: list[GroupSink], suffix: str) -> dict[str, dict[str, Any]]:
    """Each session's latest version over every sink's engine, deleted ones left out: what
    a shared ReplacingMergeTree(version, is_deleted) keeps of the rows they wrote."""
    latest: dict[str, dict[str, Any]] = {}
    for sink in sinks:
        rows = sink.query(f"SELECT session_id, version, is_deleted, events FROM footfall.sessions WHERE anonymous_id LIKE '%{suffix}'")
        for row in rows:
            if row["session_id"] not in latest or row["version"] >= latest[row["session_id"]]["version"]:
                latest[row["session_id"]] = row
    return {session_id: row for session_id, row in latest.items() if not row["is_deleted"]}
