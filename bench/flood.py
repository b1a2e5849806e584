"""A sustained flood of fresh anonymous ids, one event each, at a fixed rate, through a real
broker and one real processors worker: the worker's memory and the visitors and profiles
changelogs must stay flat once the idle horizon and the profile retention have passed.

On a private broker, events as the collector writes them (a page view of a new visitor
each) are produced straight to footfall.events, paced to `--rate`. The worker runs with
short settings so that a run of minutes reaches the steady state: a session gap and an
allowed lateness of seconds (the idle horizon is their sum) and a profile retention of a
minute. The changelog topics get settings that let Kafka's log cleaner compact a run this
short (segments rolled every 30 s, tombstones kept 30 s). Every `--sample-s` the worker's
RSS, the bytes of the two changelogs' log segments on disk, and the states the worker
holds and its consumer lag (from its /metrics) are sampled; after the flood ends the
sampling goes on for a horizon plus a retention, as the state drains.

A table over time is printed and a plot written to bench/results/flood.png.

    .venv/bin/python -m bench.flood [--events 1000000] [--rate 1200] [--smoke]
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import typer
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console
from rich.table import Table

from bench.common import cpu_seconds, private_broker, tree_rss_bytes
from footfall.local.kafka_broker import Broker
from footfall.local.processes import free_port, stop
from footfall.local.stack import spawn_processor
from infra.config import Settings
from infra.kafka.publisher import partition_for
from schemas.topics import EVENTS, PROFILES_CHANGELOG, VISITORS_CHANGELOG, Topic

RESULTS = Path(__file__).parent / "results"
DAY_S = 86_400
# What lets the log cleaner compact a run of minutes; a deployment keeps Kafka's defaults.
CHANGELOG_COMPACTION = {"segment.ms": "30000", "delete.retention.ms": "30000", "min.cleanable.dirty.ratio": "0.1"}
TICK_S = 0.05
# The worker's start, left out of the steady state.
WARM_UP_S = 30
console = Console(width=180)  # nine columns: wider than a terminal's default when not a terminal


@dataclass(frozen=True)
class Short:
    """The worker's settings for the run."""

    gap_s: float
    lateness_s: float
    retention_s: float
    idle_check_s: float

    @property
    def horizon_s(self) -> float:
        return self.gap_s + self.lateness_s

    def env(self) -> dict[str, str]:
        return {
            "FOOTFALL_SESSION_GAP_S": str(self.gap_s),
            "FOOTFALL_ALLOWED_LATENESS_S": str(self.lateness_s),
            "FOOTFALL_PROFILE_RETENTION_DAYS": repr(self.retention_s / DAY_S),
            "FOOTFALL_IDLE_CHECK_S": str(self.idle_check_s),
        }


@dataclass(frozen=True)
class Sample:
    """What the run looked like at one moment."""

    at_s: float
    sent: int
    rss_mb: float
    cpu: float  # share of one core since the last sample
    visitors_mb: float
    profiles_mb: float
    visitors: int
    profiles: int
    lag: int


async def compactable(bootstrap: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.alter_configs([
            ConfigResource(ConfigResourceType.TOPIC, topic.name, {**topic.config, **CHANGELOG_COMPACTION})
            for topic in (VISITORS_CHANGELOG, PROFILES_CHANGELOG)
        ])
    finally:
        await admin.close()


def fresh_visitor_event() -> tuple[bytes, bytes]:
    """A new anonymous visitor's page view, as the collector normalises one."""
    visitor = uuid.uuid4().hex
    now = datetime.now(UTC).isoformat()
    event = {
        "event_id": uuid.uuid4().hex, "site_id": "demo", "type": "page_view", "name": "Page Viewed", "ts": now,
        "received_at": now, "anonymous_id": visitor, "url": "https://shop.example/", "path": "/", "bot": False,
    }
    return f"demo:{visitor}".encode(), orjson.dumps(event)


async def flood(bootstrap: str, events: int, rate: float, sent: list[int]) -> None:
    """`events` fresh visitors' events at `rate` a second, acknowledged tick by tick."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, partitioner=partition_for, linger_ms=5,
    )
    await producer.start()
    try:
        started = time.monotonic()
        while sent[0] < events:
            due = min(events, int((time.monotonic() - started + TICK_S) * rate))
            pending = [await producer.send(EVENTS.name, value=value, key=key) for key, value in
                       (fresh_visitor_event() for _ in range(due - sent[0]))]
            await asyncio.gather(*pending)
            sent[0] = due
            await asyncio.sleep(max(0.0, started + sent[0] / rate - time.monotonic()))
    finally:
        await producer.stop()


def log_megabytes(broker: Broker, topic: Topic) -> float:
    """The topic's log segments on the broker's disk (indexes, preallocated, left out)."""
    folders = [broker.config.log_dir / f"{topic.name}-{p}" for p in range(topic.partitions)]
    return sum(path.stat().st_size for folder in folders if folder.is_dir() for path in folder.glob("*.log")) / 2**20


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    except httpx.HTTPError:
        return {}
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text) for sample in family.samples
    }


class Sampler:
    """Samples the worker and the broker's disk, each sample against the previous one."""

    def __init__(self, broker: Broker, worker_pid: int, metrics_port: int):
        self.broker, self.pid, self.port = broker, worker_pid, metrics_port
        self.started = time.monotonic()
        self.last_cpu, self.last_at = 0.0, self.started
        self.samples: list[Sample] = []

    def sample(self, sent: int) -> Sample:
        now, cpu = time.monotonic(), cpu_seconds(self.pid)
        metrics = scrape(self.port)
        lag = sum(value for (name, _), value in metrics.items() if name == "footfall_processor_consumer_lag_messages")
        taken = Sample(
            at_s=now - self.started, sent=sent, rss_mb=tree_rss_bytes(self.pid) / 2**20,
            cpu=(cpu - self.last_cpu) / max(now - self.last_at, 1e-9),
            visitors_mb=log_megabytes(self.broker, VISITORS_CHANGELOG), profiles_mb=log_megabytes(self.broker, PROFILES_CHANGELOG),
            visitors=int(metrics.get(("footfall_processor_table_states", (("table", "visitors"),)), 0)),
            profiles=int(metrics.get(("footfall_processor_table_states", (("table", "profiles"),)), 0)),
            lag=int(lag),
        )
        self.last_cpu, self.last_at = cpu, now
        self.samples.append(taken)
        console.print(
            f"  {taken.at_s:5.0f} s  sent {taken.sent:>9,}  RSS {taken.rss_mb:6.0f} MB  CPU {taken.cpu:4.0%}  "
            f"changelogs {taken.visitors_mb:6.1f} / {taken.profiles_mb:6.1f} MB  states {taken.visitors:>7,} / {taken.profiles:>7,}  lag {taken.lag:,}"
        )
        return taken


async def run_flood(broker: Broker, sampler: Sampler, events: int, rate: float, tail_s: float, every_s: float) -> None:
    """The flood, sampled throughout and for `tail_s` after it ends."""
    sent = [0]
    producing = asyncio.ensure_future(flood(broker.bootstrap, events, rate, sent))
    ended_at = None
    while ended_at is None or time.monotonic() < ended_at + tail_s:
        await asyncio.sleep(every_s)
        await asyncio.to_thread(sampler.sample, sent[0])
        if producing.done() and ended_at is None:
            producing.result()
            ended_at = time.monotonic()


def table(samples: list[Sample], short: Short, rate: float) -> Table:
    out = Table(title=(
        f"Flood of fresh anonymous ids at {rate:,.0f}/s, one worker; idle horizon {short.horizon_s:.0f} s "
        f"(gap {short.gap_s:.0f} + lateness {short.lateness_s:.0f}), profile retention {short.retention_s:.0f} s"
    ))
    for column in ("time, s", "events sent", "worker RSS, MB", "worker CPU", "visitors changelog, MB",
                   "profiles changelog, MB", "visitor states", "profiles", "lag"):
        out.add_column(column, justify="right")
    for s in samples:
        out.add_row(f"{s.at_s:.0f}", f"{s.sent:,}", f"{s.rss_mb:,.0f}", f"{s.cpu:.0%}", f"{s.visitors_mb:,.1f}",
                    f"{s.profiles_mb:,.1f}", f"{s.visitors:,}", f"{s.profiles:,}", f"{s.lag:,}")
    return out


def steady_growth(samples: list[Sample], settled_s: float, flood_s: float) -> dict[str, tuple[float, float]]:
    """Each measure's mean over the first and the last third of the steady part of the flood
    (after the horizon and retention have passed, before the flood ends)."""
    steady = [s for s in samples if settled_s <= s.at_s <= flood_s]
    if len(steady) < 6:
        return {}
    third = len(steady) // 3
    early, late = steady[:third], steady[-third:]
    return {
        measure: (sum(getattr(s, measure) for s in early) / third, sum(getattr(s, measure) for s in late) / third)
        for measure in ("rss_mb", "visitors_mb", "profiles_mb", "visitors", "profiles")
    }


def plot(samples: list[Sample], short: Short, flood_s: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    times = [s.at_s for s in samples]
    figure, axes = pyplot.subplots(3, 1, figsize=(9, 9), sharex=True)
    series = (
        (axes[0], "worker RSS, MB", [("RSS", [s.rss_mb for s in samples])]),
        (axes[1], "changelog log segments, MB", [("visitors", [s.visitors_mb for s in samples]),
                                                 ("profiles", [s.profiles_mb for s in samples])]),
        (axes[2], "states the worker holds", [("visitors", [s.visitors for s in samples]),
                                              ("profiles", [s.profiles for s in samples])]),
    )
    for axis, label, lines in series:
        for name, values in lines:
            axis.plot(times, values, label=name)
        axis.set_ylabel(label)
        axis.set_ylim(bottom=0)
        for at in (short.horizon_s, short.retention_s, flood_s):
            axis.axvline(at, color="grey", linestyle=":", linewidth=1)
        axis.legend(loc="upper left")
    axes[0].set_title(f"Flood of fresh anonymous ids: horizon {short.horizon_s:.0f} s, retention {short.retention_s:.0f} s "
                      f"(dotted: horizon, retention, end of flood)")
    axes[2].set_xlabel("seconds since the worker started")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100, bbox_inches="tight")


def main(
    events: int = typer.Option(1_000_000, help="fresh anonymous visitors, one event each"),
    rate: float = typer.Option(1200, help="events a second, sustained"),
    gap_s: float = typer.Option(20, help="session gap of the run"),
    lateness_s: float = typer.Option(10, help="allowed lateness of the run"),
    retention_s: float = typer.Option(60, help="profile retention of the run"),
    sample_s: float = typer.Option(10, help="seconds between samples"),
    smoke: bool = typer.Option(False, help="a short run that only shows the benchmark works"),
) -> None:
    if smoke:
        events, rate, gap_s, lateness_s, retention_s, sample_s = 30_000, 1000, 5, 5, 15, 3
    short = Short(gap_s, lateness_s, retention_s, idle_check_s=min(5.0, gap_s / 2))
    tail_s = short.horizon_s + short.retention_s + 3 * sample_s
    console.print(f"{events:,} events at {rate:,.0f}/s: about {(events / rate + tail_s) / 60:.1f} minutes of flood and drain")
    with private_broker() as broker:
        asyncio.run(compactable(broker.bootstrap))
        folder = broker.config.data_dir.parent
        port = free_port()
        worker = spawn_processor(Settings(), folder / "worker.log", {
            "FOOTFALL_KAFKA_BOOTSTRAP": broker.bootstrap, "FOOTFALL_STATE_DIR": str(folder / "worker"),
            "FOOTFALL_PROCESSOR_METRICS_PORT": str(port), **short.env(),
        })
        try:
            sampler = Sampler(broker, worker.pid, port)
            flood_started = time.monotonic()
            asyncio.run(run_flood(broker, sampler, events, rate, tail_s, sample_s))
            flood_s = flood_started - sampler.started + events / rate
            if not worker.alive():
                raise RuntimeError(f"the worker died; see {worker.log}")
        finally:
            stop(worker)
    samples = sampler.samples
    console.print(table(samples, short, rate))
    growth = steady_growth(samples, max(short.horizon_s, short.retention_s) + 2 * short.idle_check_s + WARM_UP_S, flood_s)
    for measure, (early, late) in growth.items():
        console.print(f"steady flood, {measure}: {early:,.1f} in its first third, {late:,.1f} in its last ({late / early - 1:+.0%})"
                      if early else f"steady flood, {measure}: {early:,.1f} → {late:,.1f}")
    if not growth:
        console.print("the flood was too short to reach a steady state (expected in --smoke)")
    # Less than a horizon behind, the states held are still those of the flood's last horizon.
    behind = max((s.lag for s in samples if WARM_UP_S <= s.at_s <= flood_s), default=0)
    console.print(f"the worker was at most {behind:,} events ({behind / rate:.0f} s of the flood) behind")
    if behind > rate * short.horizon_s:
        console.print("[bold]that is more than an idle horizon: these figures do not show a steady state; run again "
                      "with a lower --rate or on a quieter machine[/bold]")
    path = RESULTS / "flood.png"
    plot(samples, short, flood_s, path)
    console.print(f"plot: {path}")


if __name__ == "__main__":
    typer.run(main)
