"""Collector ingest rate, latency and memory, beside Kafka's own producer perf tool.

Each run starts fresh on a private broker:
  1. ProducerPerformance sends records the size of a normalised event (the limit);
  2. `hey` posts 50-event batches to the collector as fast as it answers (events/s
     acknowledged by Kafka, checked against the topic's end offsets);
  3. `hey` posts at half the 20,000 events/s target and reports p99 latency;
  while the collector's RSS (supervisor plus workers) is sampled.

    .venv/bin/python -m bench.collector_throughput [--runs 3] [--seconds 20]
"""

from __future__ import annotations

import base64
import re
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import typer
from rich.console import Console

from bench.common import figures_table, private_broker, producer_perf, repeat, tree_rss_bytes
from collector.geo import Geolocator
from collector.enrich import RequestMeta, normalise
from collector.parsing import validate_message
from footfall.demo import realistic_batch
from footfall.demo.simulation import iso_millis
from infra.kafka.admin import topic_size
from footfall.local.processes import free_port, stop, wait_until
from infra.config import Settings
from infra.health import http_ok
from footfall.local.stack import spawn_collector
from schemas.topics import EVENTS

BATCH_SIZE = 50
TARGET_EVENTS_PER_S = 20_000
console = Console()


@dataclass
class Run:
    limit_records_per_s: float
    events_per_s: float
    p99_ms_at_half_target: float
    peak_rss_mb: float


def demo_batch() -> list[dict[str, Any]]:
    """One batch of the demo's traffic with every behaviour in it: what `hey` posts over and over."""
    return realistic_batch(datetime.now(UTC), BATCH_SIZE, seed=7)


def event_size(messages: list[dict[str, Any]]) -> int:
    """The mean size of the messages once the collector has normalised them, as Kafka gets them."""
    meta = RequestMeta("demo", datetime.now(UTC), "203.0.113.9", None)
    events = [normalise(validate_message(m), meta, lambda: "x", Geolocator().locate) for m in messages]
    return sum(len(e.model_dump_json()) for e in events) // len(events)


def body_and_event_size() -> tuple[bytes, int]:
    messages = demo_batch()
    return orjson.dumps({"batch": messages, "sentAt": iso_millis(datetime.now(UTC))}), event_size(messages)


def hey(url: str, body_file: Path, seconds: int, concurrency: int, rate_per_worker: int | None = None) -> str:
    auth = base64.b64encode(b"demo_key:").decode()
    command = ["hey", "-z", f"{seconds}s", "-c", str(concurrency), "-m", "POST", "-T", "application/json",
               "-H", f"Authorization: Basic {auth}", "-D", str(body_file)]
    if rate_per_worker:
        command += ["-q", str(rate_per_worker)]
    return subprocess.run([*command, f"{url}/v1/batch"], capture_output=True, text=True, check=True).stdout


def ok_responses(report: str) -> int:
    match = re.search(r"\[200\]\s+(\d+) responses", report)
    return int(match.group(1)) if match else 0


def p99_seconds(report: str) -> float:
    match = re.search(r"99% in ([\d.]+) secs", report)
    assert match, report
    return float(match.group(1))


def total_seconds(report: str) -> float:
    match = re.search(r"Total:\s+([\d.]+) secs", report)
    assert match, report
    return float(match.group(1))


class RssSampler(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.5):
            self.peak = max(self.peak, tree_rss_bytes(self.pid))


def one_run(seconds: int, workers: int) -> Run:
    body, event_size = body_and_event_size()
    with private_broker() as broker, tempfile.TemporaryDirectory(prefix="footfall-bench-") as folder:
        limit = producer_perf(broker.bootstrap, EVENTS.name, 300_000, event_size)
        body_file = Path(folder) / "batch.json"
        body_file.write_bytes(body)
        settings = Settings(kafka_bootstrap=broker.bootstrap, collector_port=free_port(), collector_workers=workers)
        env = {
            "FOOTFALL_KAFKA_BOOTSTRAP": broker.bootstrap,
            "FOOTFALL_COLLECTOR_PORT": str(settings.collector_port),
            "FOOTFALL_COLLECTOR_WORKERS": str(workers),
            # The whole load comes from one address: the buckets are still charged for every
            # request (their cost is measured), but set so high that none refuses one.
            **{f"FOOTFALL_RATE_LIMITS__{name}": "1000000000" for name in ("ADDRESS_RATE", "ADDRESS_BURST", "WRITE_KEY_RATE", "WRITE_KEY_BURST")},
        }
        process = spawn_collector(settings, Path(folder) / "collector.log", env)
        url = settings.collector_url
        try:
            wait_until(lambda: http_ok(f"{url}/readyz"), 60, "collector", process)
            hey(url, body_file, 3, 8)  # warm-up: caches, connections, the broker's JIT
            sampler = RssSampler(process.pid)
            sampler.start()
            before = topic_size(broker.connection, EVENTS)
            flat_out = hey(url, body_file, seconds, 16)
            landed = topic_size(broker.connection, EVENTS) - before
            acknowledged = ok_responses(flat_out) * BATCH_SIZE
            assert landed >= acknowledged, f"{acknowledged} acknowledged but {landed} in Kafka"
            half_rate_requests = TARGET_EVENTS_PER_S // 2 // BATCH_SIZE
            paced = hey(url, body_file, seconds, 10, rate_per_worker=half_rate_requests // 10)
            sampler.done.set()
            return Run(limit, acknowledged / total_seconds(flat_out), p99_seconds(paced) * 1000, sampler.peak / 2**20)
        finally:
            stop(process)


def main(runs: int = 3, seconds: int = 20, workers: int = 2) -> None:
    measured = repeat(runs, lambda n: one_run(seconds, workers), console)
    limit = measured.mid("limit_records_per_s")
    rate = measured.mid("events_per_s")
    table = figures_table(f"Collector, batches of {BATCH_SIZE}, {workers} workers, broker on the same machine (median of {runs})")
    table.add_row("Kafka ProducerPerformance (limit), records/s", f"{limit:,.0f}", "")
    table.add_row("collector, events/s acknowledged", f"{rate:,.0f}", f"≥ {TARGET_EVENTS_PER_S:,}")
    table.add_row("collector / limit", f"{rate / limit:.0%}", "")
    table.add_row("p99 latency at 10,000 events/s, ms", f"{measured.mid('p99_ms_at_half_target'):.1f}", "≤ 100")
    table.add_row("collector peak RSS, MB (all processes)", f"{measured.mid('peak_rss_mb'):.0f}", "≤ 200")
    console.print(table)


if __name__ == "__main__":
    typer.run(main)
