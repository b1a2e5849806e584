"""ClickHouse refusing writes mid-stream (its disk full): the sink pauses, retries, and once
writes are possible again everything lands, exactly once.

The engine's folder is a small filesystem of its own, filled up while events flow: a real
fault of the real engine, which then refuses every insert (NOT_ENOUGH_SPACE)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx

from footfall.local.kafka_broker import Broker
from tests.support.pipeline import new_broker, start_pipeline
from tests.support.planned_traffic import exact, population, send_in_chunks
from tests.support.sessions_reference import assert_matches_reference
from tests.support.waiting import wait_for


def fill(folder: Path) -> Path:
    filler = folder / "filler"
    stats = os.statvfs(folder)
    with filler.open("wb") as out:
        try:
            out.write(b"\0" * (stats.f_bavail * stats.f_frsize))
        except OSError:
            pass  # full, which is the point
    return filler


def retries(sink_url: str) -> float:
    text = httpx.get(f"{sink_url}/metrics").text
    line = next(line for line in text.splitlines() if line.startswith("footfall_sink_retries_total "))
    return float(line.split()[1])


def test_writes_resume_after_clickhouse_refused_them(tmp_path: Path) -> None:
    engine = tmp_path / "stack" / "clickhouse"
    engine.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96m", "tmpfs", str(engine)], check=True)
    broker: Broker = new_broker(tmp_path / "broker")
    pipeline = start_pipeline(broker, tmp_path / "stack")
    try:
        messages, plan, suffix = population(seed=404)
        filler: list[Path] = []

        def disk_full() -> None:
            wait_for(lambda: pipeline.query("SELECT count() AS n FROM footfall.events")[0]["n"] > 0 or "nothing yet")
            filler.append(fill(engine))

        send_in_chunks(pipeline, messages, 4, {0: disk_full})
        wait_for(lambda: retries(pipeline.sink_url) >= 2 or "no retries yet", 60, "the sink retrying")
        stuck = pipeline.query("SELECT count() AS n FROM footfall.events")[0]["n"]
        assert stuck < plan.events
        assert pipeline.sink.alive()

        filler[0].unlink()
        wait_for(exact(pipeline, plan, suffix), 180, "exact events and sessions after ClickHouse recovered")
        assert_matches_reference(pipeline, suffix)
    finally:
        pipeline.stop()
        broker.stop()
        subprocess.run(["umount", str(engine)], check=False)
