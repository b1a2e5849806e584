"""End-to-end freshness: from the collector's acknowledgement of an event to the moment a
query through the sink finds it in ClickHouse.

Each run starts fresh: a private broker, the collector (one worker), one sessioniser
worker and the sink, each process with its own state folder. Then:
  1. a warm-up at the full rate until everything sent is visible (the worker has joined
     its group, the engine has its tables), not counted;
  2. for `--seconds`, batches of 20 realistic events every 20 ms (`--rate` 1,000 events/s),
     paced open-loop: a batch leaves on schedule whether or not earlier ones were answered.
     The sender notes when each batch's 200 arrived;
  3. a poller asks the sink every 100 ms how many events of each batch ClickHouse holds,
     from the oldest batch not yet complete on (a range of the table's sort key, so each
     poll reads a few granules), and notes when each event was first counted;
  4. a drain: events acknowledged but not visible after it are lost.
The worker's and the sink's RSS are sampled every 0.5 s. Afterwards each event's record on
footfall.events.sessionised (its Kafka timestamp) splits the time in two: acknowledged →
written by the sessioniser, and written → visible. `--trace file.csv` keeps each batch's
acknowledgement and sightings.

Events come from the demo generator's visitors (page views, clicks, scrolls, identifies,
purchases with full browser context), a few thousand browsing at once; a visitor whose
journey is over is replaced by a new one. Every event has its own messageId, which says
which batch it came in, and a timestamp of about now.

    .venv/bin/python -m bench.freshness [--seconds 300] [--runs 1]
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import typer
from rich.console import Console

from bench.common import PeakRss, cpu_seconds, figures_table, percentile, private_broker, repeat
from bench.freshness_traffic import Ledger, Traffic, event_id, send
from tests.support.kafka_reader import read_records
from footfall.local.processes import Started, free_port, stop, wait_until
from infra.config import Settings
from infra.health import http_ok
from footfall.local.stack import spawn_collector, spawn_processor, spawn_sink
from schemas.topics import SESSIONISED

BATCH_SIZE = 20
POLL_S = 0.1
WARMUP_S = 5.0
TARGET_P95_S = 2.0
TARGET_WORKER_MB = 1024
TARGET_SINK_MB = 1536
console = Console()


# --- the pipeline ---------------------------------------------------------------------------


@dataclass
class Pipeline:
    collector_url: str
    sink_url: str
    sink_token: str
    collector: Started
    worker: Started
    sink: Started


@contextmanager
def pipeline(bootstrap: str, folder: Path) -> Iterator[Pipeline]:
    """Collector, one processors worker and the sink, each its own process and state folder."""
    collector_port, sink_port = free_port(), free_port()
    sink_token = secrets.token_urlsafe(32)
    common = {"FOOTFALL_KAFKA_BOOTSTRAP": bootstrap, "FOOTFALL_SINK_PORT": str(sink_port), "FOOTFALL_SINK_TOKEN": sink_token}
    started: list[Started] = []
    try:
        collector = spawn_collector(Settings(), folder / "collector.log", {
            **common, "FOOTFALL_STATE_DIR": str(folder / "collector"),
            "FOOTFALL_COLLECTOR_PORT": str(collector_port), "FOOTFALL_COLLECTOR_WORKERS": "1",
        })
        started.append(collector)
        worker = spawn_processor(Settings(), folder / "worker.log", {**common, "FOOTFALL_STATE_DIR": str(folder / "worker")})
        started.append(worker)
        sink = spawn_sink(Settings(), folder / "sink.log", {**common, "FOOTFALL_STATE_DIR": str(folder / "sink")})
        started.append(sink)
        running = Pipeline(f"http://127.0.0.1:{collector_port}", f"http://127.0.0.1:{sink_port}", sink_token, collector, worker, sink)
        wait_until(lambda: http_ok(f"{running.collector_url}/readyz"), 60, "collector", collector)
        wait_until(lambda: http_ok(f"{running.sink_url}/healthz"), 60, "sink", sink)
        yield running
    finally:
        for process in reversed(started):
            stop(process)


# --- watching ---------------------------------------------------------------------------------


class Poller(threading.Thread):
    """Every POLL_S, counts the events of each batch ClickHouse holds, from the oldest batch
    not yet complete on. The events' ids are the table's sort key after the site and the
    day, so the range is read from a few granules whatever the table's size."""

    def __init__(self, sink_url: str, sink_token: str, ledger: Ledger):
        super().__init__(daemon=True)
        self.sink_url = sink_url
        self.headers = {"Authorization": f"Bearer {sink_token}"}
        self.ledger = ledger
        self.frontier = 0
        self.done = threading.Event()
        self.query_seconds: list[float] = []
        self.errors = 0
        self.first_day = datetime.now(UTC).date()

    def sql(self) -> str:
        token = self.ledger.token
        start = len(token) + 2
        return (
            f"SELECT toUInt32(substring(event_id, {start}, 8)) AS batch, uniqExact(event_id) AS events "
            f"FROM footfall.events "
            f"WHERE site_id = 'demo' AND toDate(ts) BETWEEN '{self.first_day - timedelta(days=1)}' AND '{datetime.now(UTC).date()}' "
            f"AND event_id >= '{token}-{self.frontier:08d}' AND event_id < '{token}.' "
            f"GROUP BY batch"
        )

    def poll(self, client: httpx.Client) -> None:
        ledger = self.ledger
        while self.frontier < ledger.scheduled and ledger.complete(self.frontier):
            self.frontier += 1
        asked = time.monotonic()
        try:
            answer = client.post(f"{self.sink_url}/query", content=self.sql().encode(), headers=self.headers)
            answer.raise_for_status()
        except httpx.HTTPError:
            self.errors += 1
            return
        now = time.monotonic()
        self.query_seconds.append(now - asked)
        for row in answer.json():
            number, count = int(row["batch"]), int(row["events"])
            more = count - ledger.seen_count.get(number, 0)
            if more > 0:
                ledger.seen.setdefault(number, []).append((now, more))
                ledger.seen_count[number] = count

    def run(self) -> None:
        with httpx.Client(timeout=30) as client:
            next_poll = time.monotonic()
            while not self.done.is_set():
                self.poll(client)
                next_poll = max(next_poll + POLL_S, time.monotonic())
                self.done.wait(max(0.0, next_poll - time.monotonic()))


def stream(
    traffic: Traffic, running: Pipeline, token: str, seconds: float, rate: int, drain_s: float
) -> tuple[Ledger, Poller, float]:
    """Send for `seconds`, then wait up to `drain_s` for every acknowledged event to show."""
    ledger = Ledger(token, BATCH_SIZE)
    poller = Poller(running.sink_url, running.sink_token, ledger)
    poller.start()
    try:
        sending_s = asyncio.run(send(traffic, ledger, running.collector_url, seconds, rate))
        deadline = time.monotonic() + drain_s
        while not ledger.all_visible() and time.monotonic() < deadline:
            time.sleep(POLL_S)
    finally:
        poller.done.set()
        poller.join()
    return ledger, poller, sending_s


# --- where the time went ---------------------------------------------------------------------


def output_times(bootstrap: str, token: str) -> dict[str, float]:
    """When the sessioniser wrote each of the stream's events (its record's CreateTime, in
    epoch seconds), read from footfall.events.sessionised once the run is over."""
    marker = f'"event_id":"{token}-'.encode()
    return {
        orjson.loads(record.value)["event"]["event_id"]: record.timestamp / 1000
        for record in asyncio.run(read_records(bootstrap, SESSIONISED))
        if marker in record.value
    }


def stages(ledger: Ledger, written: dict[str, float], wall_minus_monotonic: float) -> tuple[list[float], list[float]]:
    """Per event: ack → the sessioniser's output record, and that record → visible. Within
    a batch the events seen first are taken to be the ones written first."""
    to_worker: list[float] = []
    to_visible: list[float] = []
    for number, acked in ledger.acked.items():
        outputs = sorted(
            written[eid] - wall_minus_monotonic
            for eid in (event_id(ledger.token, number, i) for i in range(ledger.size)) if eid in written
        )
        sightings = [seen_at for seen_at, count in ledger.seen.get(number, []) for _ in range(count)]
        to_worker.extend(output - acked for output in outputs)
        to_visible.extend(seen - output for output, seen in zip(outputs, sightings))
    return to_worker, to_visible


# --- one run --------------------------------------------------------------------------------


@dataclass
class Run:
    events_acked: int
    events_failed: int
    send_rate: float
    p50_s: float
    p95_s: float
    p99_s: float
    max_s: float
    lost: int
    worker_peak_mb: float
    sink_peak_mb: float
    worker_cpu: float  # share of one core while sending
    sink_cpu: float
    collector_cpu: float
    poll_p50_ms: float
    poll_max_ms: float
    # The same freshness split at the sessioniser's output record.
    to_worker_p50_s: float
    to_worker_p95_s: float
    to_visible_p50_s: float
    to_visible_p95_s: float


def freshness_seconds(ledger: Ledger) -> list[float]:
    latencies: list[float] = []
    for number, acked in ledger.acked.items():
        for seen_at, count in ledger.seen.get(number, []):
            latencies.extend([seen_at - acked] * count)
    return latencies


def write_trace(ledger: Ledger, path: Path) -> None:
    """Per batch: seconds from the first acknowledgement to its own, and to each sighting."""
    origin = min(ledger.acked.values(), default=0.0)
    lines = ["batch,acked_s,seen_s,events"]
    for number in sorted(ledger.acked):
        for seen_at, count in ledger.seen.get(number, []):
            lines.append(f"{number},{ledger.acked[number] - origin:.3f},{seen_at - origin:.3f},{count}")
    path.write_text("\n".join(lines) + "\n")


def one_run(seconds: float, rate: int, drain_s: float, visitors: int, seed: int, trace: Path | None = None) -> Run:
    traffic = Traffic(visitors, seed)
    # Kafka's record times are wall-clock; everything measured here is monotonic.
    wall_minus_monotonic = time.time() - time.monotonic()
    with private_broker() as broker, tempfile.TemporaryDirectory(prefix="footfall-bench-") as folder:
        with pipeline(broker.bootstrap, Path(folder)) as running:
            console.print("  pipeline up; warming up …")
            warm, _, _ = stream(traffic, running, "warm", WARMUP_S, rate, drain_s=120)
            if not warm.all_visible():
                raise RuntimeError(f"warm-up events not visible after 120 s; logs in {folder}")
            pids = {"worker": running.worker.pid, "sink": running.sink.pid, "collector": running.collector.pid}
            sampler = PeakRss({"worker": running.worker.pid, "sink": running.sink.pid})
            sampler.start()
            cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            console.print(f"  sending {rate:,} events/s for {seconds:.0f} s …")
            ledger, poller, sending_s = stream(traffic, running, "fr" + secrets.token_hex(3), seconds, rate, drain_s)
            cpu = {name: (cpu_seconds(pid) - cpu_before[name]) / sending_s for name, pid in pids.items()}
            peaks = sampler.stop()
        written = output_times(broker.bootstrap, ledger.token)
    if trace is not None:
        write_trace(ledger, trace)
    latencies = freshness_seconds(ledger)
    to_worker, to_visible = stages(ledger, written, wall_minus_monotonic)
    acked = len(ledger.acked) * ledger.size
    if ledger.failed:
        console.print(f"  [yellow]{len(ledger.failed)} batches not acknowledged, e.g. {next(iter(ledger.failed.values()))}")
    return Run(
        events_acked=acked,
        events_failed=len(ledger.failed) * ledger.size,
        send_rate=acked / sending_s,
        p50_s=percentile(latencies, 50),
        p95_s=percentile(latencies, 95),
        p99_s=percentile(latencies, 99),
        max_s=max(latencies, default=float("nan")),
        lost=acked - ledger.visible(),
        worker_peak_mb=peaks["worker"],
        sink_peak_mb=peaks["sink"],
        worker_cpu=cpu["worker"],
        sink_cpu=cpu["sink"],
        collector_cpu=cpu["collector"],
        poll_p50_ms=percentile(poller.query_seconds, 50) * 1000,
        poll_max_ms=max(poller.query_seconds, default=float("nan")) * 1000,
        to_worker_p50_s=percentile(to_worker, 50),
        to_worker_p95_s=percentile(to_worker, 95),
        to_visible_p50_s=percentile(to_visible, 50),
        to_visible_p95_s=percentile(to_visible, 95),
    )


def main(
    seconds: float = typer.Option(300, help="how long to send, per run"),
    rate: int = typer.Option(1000, help="events/s sent, in batches of 20"),
    runs: int = typer.Option(1, help="runs, each on a fresh broker and pipeline; figures are medians"),
    drain: float = typer.Option(60, help="seconds to wait after sending for the last events to show"),
    visitors: int = typer.Option(3000, help="visitors browsing at once"),
    seed: int = typer.Option(1, help="seed of the demo traffic"),
    trace: Path | None = typer.Option(None, help="write each batch's acknowledgement and sightings to this CSV (run n as name-n)"),
) -> None:
    def run(n: int) -> Run:
        trace_file = trace.with_name(f"{trace.stem}-{n}{trace.suffix}") if trace else None
        return one_run(seconds, rate, drain, visitors, seed + n - 1, trace_file)

    measured = repeat(runs, run, console)
    mid, figure = measured.mid, measured.figure

    def pair(first: str, second: str, spec: str) -> str:
        return f"{format(mid(first), spec)} · {format(mid(second), spec)}"

    table = figures_table((
        f"Freshness, collector ack → visible in ClickHouse: {rate:,} events/s in batches of {BATCH_SIZE} for "
        f"{seconds:.0f} s; 1 collector worker, 1 processors worker, sink batches ≤ {Settings().sink_batch_s} s; "
        f"all on one machine (median of {runs})"
    ))
    table.add_row("events acknowledged", figure("events_acked", ",.0f"), "")
    table.add_row("send rate achieved, events/s", figure("send_rate", ",.0f"), f"{rate:,}")
    table.add_row("freshness p50, s", figure("p50_s", ".2f"), "")
    table.add_row("freshness p95, s", figure("p95_s", ".2f"), f"≤ {TARGET_P95_S:g}")
    table.add_row("freshness p99, s", figure("p99_s", ".2f"), "")
    table.add_row("freshness max, s", figure("max_s", ".2f"), "")
    table.add_row("  ack → worker output, p50 · p95, s", pair("to_worker_p50_s", "to_worker_p95_s", ".2f"), "")
    table.add_row("  worker output → visible, p50 · p95, s", pair("to_visible_p50_s", "to_visible_p95_s", ".2f"), "")
    table.add_row("events lost (acknowledged, never visible)", figure("lost", ",.0f"), "0")
    table.add_row("processors worker peak RSS, MB", figure("worker_peak_mb", ",.0f"), f"≤ {TARGET_WORKER_MB:,}")
    table.add_row("sink peak RSS, MB", figure("sink_peak_mb", ",.0f"), f"≤ {TARGET_SINK_MB:,}")
    table.add_row("CPU, share of one core: worker · sink · collector",
                  f"{mid('worker_cpu'):.0%} · {mid('sink_cpu'):.0%} · {mid('collector_cpu'):.0%}", "")
    table.add_row("poll query through the sink, p50 · max, ms", pair("poll_p50_ms", "poll_max_ms", ".0f"), "")
    console.print(table)


if __name__ == "__main__":
    typer.run(main)
