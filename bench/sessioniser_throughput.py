"""Sessionisation throughput of one worker on a pre-filled topic, beside a bare consume
loop on the same topic (the limit).

The events are the demo generator's visitors over the last week (page views, clicks,
scrolls, identifies, purchases with full browser context, several sessions per visitor),
normalised as the collector does and keyed `site:visitor`, in time order. Built once;
each run then starts fresh on a private broker:
  1. footfall.events is filled with the N events;
  2. a bare aiokafka consumer (no group) reads all N and decodes each with orjson (the
     limit: what any Python consumer of this topic pays before doing any work);
  3. a Faust worker with the sessioniser's settings whose agent only counts the batches it
     takes (bench/empty_agent.py): the framework's own ceiling, from its first batch to its
     last;
  4. one processors worker (`python -m processors`, a fresh state folder, the default
     config: every built-in segment) is started and left to sessionise and analyse them
     all; done when its group has committed every offset. Its rate is N over the span
     between its first and its last sessionised record (their Kafka timestamps; a batch's
     analytics records are published with them), so the worker's start-up and the commit
     interval are not counted; every event's output record is checked to be there.
  The worker's RSS is sampled every 0.5 s.

    .venv/bin/python -m bench.sessioniser_throughput [--runs 3] [--events 200000]
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console

from bench.common import RUNS_OPTION, SEED_OPTION, figures_table, private_broker, repeat
from bench.worker_bench import end_offsets, output_span, run_worker
from collector.enrich import RequestMeta, normalise
from collector.geo import Geolocator
from collector.parsing import validate_message
from footfall.demo import first_messages
from schemas.topics import EVENTS, SESSIONISED, SESSIONS

TARGET_EVENTS_PER_S = 10_000
TARGET_WORKER_MB = 1024
console = Console()


@dataclass
class Run:
    limit_events_per_s: float
    empty_agent_events_per_s: float
    worker_events_per_s: float
    worker_wall_s: float  # from spawning the worker to every offset committed
    worker_cpu: float  # share of one core while it sessionised
    worker_peak_mb: float
    session_rows: int


# --- the events -----------------------------------------------------------------------------


def normalised_events(count: int, seed: int) -> list[tuple[bytes, bytes]]:
    """(key, value) of `count` normalised events, as the collector writes them, in time order."""
    locate = Geolocator().locate
    records = []
    for message in first_messages(datetime.now(UTC), count, days=7, seed=seed):
        # Sent as it happened: received at its own time, straight from the browser.
        message = {**message, "sentAt": message["timestamp"]}
        received = datetime.fromisoformat(message["timestamp"])
        meta = RequestMeta("demo", received, "203.0.113.9", None)
        event = normalise(validate_message(message), meta, lambda: "unused", locate)
        records.append((event.kafka_key, event.model_dump_json().encode()))
    return records


def one_run(records: list[tuple[bytes, bytes]]) -> Run:
    with private_broker() as broker, tempfile.TemporaryDirectory(prefix="footfall-bench-") as folder:
        run = run_worker(broker.bootstrap, EVENTS, records, Path(folder), {})
        events, first, last = asyncio.run(output_span(broker.bootstrap, SESSIONISED, lambda value: value.startswith(b'{"kind":"event"')))
        if events != len(records):
            raise RuntimeError(f"{len(records):,} events in but {events:,} sessionised events out; see {run.log}")
        session_rows = asyncio.run(end_offsets(broker.bootstrap, SESSIONS))
        watched = run.watched
        return Run(
            run.limit_per_s, run.ceiling_per_s, len(records) / (last - first), watched.wall_s, watched.cpu,
            watched.peak_mb, session_rows,
        )


def main(
    runs: int = RUNS_OPTION,
    events: int = typer.Option(200_000, help="events pre-filled on footfall.events"),
    seed: int = SEED_OPTION,
) -> None:
    console.print(f"building {events:,} normalised events …")
    records = normalised_events(events, seed)
    size = sum(len(value) for _, value in records) / len(records)
    measured = repeat(runs, lambda n: one_run(records), console)
    mid, figure = measured.mid, measured.figure

    limit, rate = mid("limit_events_per_s"), mid("worker_events_per_s")
    table = figures_table((
        f"Sessioniser, one worker, {events:,} demo events ({size:,.0f} bytes each) pre-filled on "
        f"{EVENTS.partitions} partitions, broker on the same machine (median of {runs})"
    ))
    table.add_row("bare aiokafka consume + orjson.loads (limit), events/s", figure("limit_events_per_s", ",.0f"), "")
    table.add_row("Faust worker whose agent only counts (framework ceiling), events/s",
                  figure("empty_agent_events_per_s", ",.0f"), "")
    table.add_row("processors worker (sessionising, then analysing), events/s", figure("worker_events_per_s", ",.0f"), f"≥ {TARGET_EVENTS_PER_S:,}")
    table.add_row("worker / limit · worker / framework ceiling",
                  f"{rate / limit:.1%} · {rate / mid('empty_agent_events_per_s'):.0%}", "")
    table.add_row("worker, start to all committed, s", figure("worker_wall_s", ".1f"), "")
    table.add_row("worker CPU over that time, share of one core", figure("worker_cpu", ".0%"), "")
    table.add_row("worker peak RSS, MB", figure("worker_peak_mb", ",.0f"), f"≤ {TARGET_WORKER_MB:,}")
    table.add_row("session rows written", f"{mid('session_rows'):,.0f}", "")
    console.print(table)


if __name__ == "__main__":
    typer.run(main)
