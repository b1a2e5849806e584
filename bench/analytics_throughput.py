"""The analytics: events/s of one processors worker with every built-in segment and five
funnels active, beside the two limits on the same topic, and memory per 100,000 customer
profiles.

Throughput. The demo generator's visitors over the last week are normalised as the
collector does (bench/sessioniser_throughput.py); each run starts fresh on a private broker:
  1. footfall.events is filled with them;
  2. a bare aiokafka consumer reads and decodes them all (the limit);
  3. a Faust worker with the processors' settings that only counts them (the framework's
     ceiling, bench/empty_agent.py);
  4. one processors worker, its config declaring five funnels, sessionises and analyses
     them. Done when its group has committed every offset; its rate is the events over
     the span between its first and its last customer row (Kafka timestamps).

Memory. 100,000 visitors' profiles are built in-process through the same pure code
(processors.analytics.analyse.analyse_batch), each from a short journey (page views, a scroll, a
click, a purchase), and the memory they hold is measured with tracemalloc.

    .venv/bin/python -m bench.analytics_throughput [--runs 3] [--events 100000]
"""

from __future__ import annotations

import asyncio
import tempfile
import tomllib
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import orjson
import typer
from rich.console import Console

from bench.common import RUNS_OPTION, SEED_OPTION, figures_table, private_broker, repeat
from bench.sessioniser_throughput import normalised_events
from bench.worker_bench import output_span, run_worker
from infra.config import Site
from processors.analytics import site_config
from processors.analytics.analyse import CustomerState, analyse_batch
from processors.sessionisation.sessionise import Placed, event_ms
from schemas.topics import CUSTOMERS, EVENTS

console = Console()
FUNNELS = '''
[[sites]]
id = "demo"
write_key = "demo_key"

[[sites.funnels]]
name = "browse"
window_s = 1800
steps = [{type = "page_view"}, {type = "scroll"}, {type = "click"}]

[[sites.funnels]]
name = "buy"
window_s = 86400
steps = [{type = "page_view"}, {type = "click"}, {type = "purchase"}]

[[sites.funnels]]
name = "cart"
window_s = 3600
steps = [{type = "page_view", field = "path", op = "contains", value = "cart"}, {type = "purchase"}]

[[sites.funnels]]
name = "checkout"
window_s = 3600
steps = [{type = "page_view", field = "path", op = "contains", value = "checkout"}, {type = "purchase"}]

[[sites.funnels]]
name = "identify"
window_s = 604800
steps = [{type = "page_view"}, {type = "identify"}, {type = "purchase"}]
'''
PROFILES = 100_000


@dataclass
class Run:
    limit_per_s: float
    empty_agent_per_s: float
    worker_per_s: float
    worker_cpu: float
    worker_peak_mb: float


def one_run(records: list[tuple[bytes, bytes]], config: Path) -> Run:
    with private_broker() as broker, tempfile.TemporaryDirectory(prefix="footfall-bench-") as folder:
        run = run_worker(broker.bootstrap, EVENTS, records, Path(folder), {"FOOTFALL_CONFIG": str(config)})
        rows, first, last = asyncio.run(output_span(broker.bootstrap, CUSTOMERS, lambda value: True))
        if not rows:
            raise RuntimeError(f"the worker wrote no customer rows; see {run.log}")
        return Run(run.limit_per_s, run.ceiling_per_s, len(records) / (last - first), run.watched.cpu, run.watched.peak_mb)


def journey(visitor: int, template: list[Placed]) -> list[Placed]:
    """`template`'s events as visitor number `visitor`'s own."""
    anonymous_id = f"bench-{visitor}"
    key = f"demo:{anonymous_id}".encode()
    return [
        (key, {**event, "anonymous_id": anonymous_id, "user_id": None, "event_id": f"{anonymous_id}-{n}",
               "session_id": f"{anonymous_id}-s"}, ts_ms)
        for n, (_, event, ts_ms) in enumerate(template)
    ]


def profile_megabytes(template: list[Placed]) -> float:
    """Memory held by PROFILES visitors' analytics states (profiles, segments, funnels)."""
    site = site_config.for_sites(Site.model_validate(raw) for raw in tomllib.loads(FUNNELS)["sites"]).for_site
    states: dict[bytes, CustomerState] = {}
    tracemalloc.start()
    for start in range(0, PROFILES, 1000):
        placed = [event for visitor in range(start, start + 1000) for event in journey(visitor, template)]
        states.update(analyse_batch(placed, states.get, site, lambda site_id: None).states)
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return held / 1e6


def short_journey(records: list[tuple[bytes, bytes]]) -> list[Placed]:
    """A page view, a scroll, a click and a purchase from the demo's own events."""
    events = [orjson.loads(value) for _, value in records]
    wanted = ["page_view", "page_view", "scroll", "click", "purchase"]
    picked: list[dict] = []
    for kind in wanted:
        picked.append(next(e for e in events if e["type"] == kind and e not in picked))
    return [(b"", event, event_ms(event)) for event in picked]


def main(
    runs: int = RUNS_OPTION,
    events: int = typer.Option(100_000, help="demo events pre-filled on footfall.events"),
    seed: int = SEED_OPTION,
) -> None:
    console.print(f"building {events:,} normalised events …")
    records = normalised_events(events, seed)
    with tempfile.TemporaryDirectory(prefix="footfall-bench-") as folder:
        config = Path(folder) / "footfall.toml"
        config.write_text(FUNNELS)
        console.print(f"memory of {PROFILES:,} profiles …")
        megabytes = profile_megabytes(short_journey(records))
        measured = repeat(runs, lambda n: one_run(records, config), console)
    mid, figure = measured.mid, measured.figure
    table = figures_table((
        f"Analytics, one processors worker sessionising and analysing, every built-in segment and 5 funnels, "
        f"{events:,} demo events on {EVENTS.partitions} partitions (median of {runs})"
    ))
    table.add_row("bare aiokafka consume + orjson.loads (limit), events/s", figure("limit_per_s", ",.0f"), "")
    table.add_row("Faust worker whose agent only counts (framework ceiling), events/s", figure("empty_agent_per_s", ",.0f"), "")
    table.add_row("worker, events/s", figure("worker_per_s", ",.0f"), "")
    table.add_row("worker / framework ceiling", f"{mid('worker_per_s') / mid('empty_agent_per_s'):.0%}", "")
    table.add_row("worker CPU, share of one core", figure("worker_cpu", ".0%"), "")
    table.add_row("worker peak RSS, MB", figure("worker_peak_mb", ",.0f"), "")
    table.add_row(f"memory of {PROFILES:,} profiles (5-event journeys), MB", f"{megabytes:,.0f}", "")
    console.print(table)


if __name__ == "__main__":
    typer.run(main)
