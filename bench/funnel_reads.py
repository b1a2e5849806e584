"""A live funnel read against windowFunnel: the step counts of one funnel read from
footfall.funnel_progress (one row per visitor, kept current by the processors) against the
same counts computed from footfall.events by ClickHouse's windowFunnel at query time.

Both run on one embedded engine holding the same synthetic traffic: visitors with ten page
views or purchases each, a minute apart, on twenty pages. funnel_progress is filled with
windowFunnel's own answer for each visitor, which is what the processors keep (their funnels
follow windowFunnel's semantics), so the two reads must agree; the benchmark refuses to
report figures when they do not. Each read is timed `runs` times; figures are medians.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import typer
from rich.console import Console

from bench.common import figures_table, median
from infra.clickhouse.embedded import EmbeddedClickHouse
from infra.clickhouse.migrations import migrate
from schemas.tables import DATABASE

console = Console()
EVENTS_PER_VISITOR = 10
PAGES = 20
WINDOW_S = 3600
# /pricing, then /signup, then a purchase, within the hour.
STEPS = ("path = '/pricing'", "path = '/signup'", "type = 'purchase'")

FILL_EVENTS = f"""
INSERT INTO {DATABASE}.events (event_id, site_id, type, name, ts, received_at, anonymous_id, path, version)
SELECT toString(number), 'shop', kind, if(kind = 'purchase', 'Order Completed', 'Page Viewed'), at, at,
       concat('v', toString(intDiv(number, {EVENTS_PER_VISITOR}))), if(kind = 'purchase', '/checkout', page), 1
FROM (
    SELECT number,
           toDateTime64('2027-01-01 00:00:00', 3, 'UTC') + toIntervalSecond(intDiv(number, {EVENTS_PER_VISITOR}) * 7 + (number % {EVENTS_PER_VISITOR}) * 60) AS at,
           concat('/', toString(cityHash64(number) % {PAGES})) AS drawn,
           multiIf(drawn = '/1', '/pricing', drawn = '/2', '/signup', drawn) AS page,
           if(cityHash64(number, 'buy') % 25 = 0, 'purchase', 'page_view') AS kind
    FROM numbers({{events}})
)"""

WINDOW_FUNNEL_LEVELS = f"""
SELECT anonymous_id, windowFunnel({WINDOW_S})(toDateTime(ts), {', '.join(STEPS)}) AS level
FROM {DATABASE}.events WHERE site_id = 'shop' GROUP BY anonymous_id"""

FILL_PROGRESS = f"""
INSERT INTO {DATABASE}.funnel_progress (site_id, funnel, anonymous_id, customer_id, level, step_at, late, version)
SELECT 'shop', 'checkout', anonymous_id, '', level, arrayMap(step -> toDateTime64('2027-01-01 00:00:00', 3, 'UTC'), range(level)), 0, 1
FROM ({WINDOW_FUNNEL_LEVELS}) WHERE level > 0"""

# Visitors who reached each step, as the report reads them: the live read.
FROM_PROGRESS = f"""
SELECT step, count() AS visitors
FROM (SELECT arrayJoin(arrayEnumerate(step_at)) AS step
      FROM {DATABASE}.funnel_progress FINAL WHERE site_id = 'shop' AND funnel = 'checkout')
GROUP BY step ORDER BY step"""

# The same from every event, at query time.
FROM_EVENTS = f"""
SELECT step, count() AS visitors
FROM (SELECT arrayJoin(range(1, level + 1)) AS step FROM ({WINDOW_FUNNEL_LEVELS}) WHERE level > 0)
GROUP BY step ORDER BY step"""


@dataclass
class Figures:
    events: int
    visitors: int
    steps: list[int]
    progress_s: float
    window_funnel_s: float

    @property
    def ratio(self) -> float:
        return self.window_funnel_s / self.progress_s


def timed(backend: EmbeddedClickHouse, sql: str, runs: int) -> tuple[float, list[dict]]:
    """The median time of `runs` reads, and what the last one answered."""
    times = []
    rows: list[dict] = []
    for _ in range(runs):
        started = time.perf_counter()
        rows = backend.query(sql)
        times.append(time.perf_counter() - started)
    return median(times), rows


def measure(events: int, runs: int) -> Figures:
    with tempfile.TemporaryDirectory(prefix="footfall-bench-funnel-") as folder:
        backend = EmbeddedClickHouse(Path(folder))
        try:
            migrate(backend)
            console.print(f"  filling {events:,} events …")
            backend.execute(FILL_EVENTS.format(events=events))
            console.print("  filling funnel_progress with each visitor's level …")
            backend.execute(FILL_PROGRESS)
            progress_s, from_progress = timed(backend, FROM_PROGRESS, runs)
            window_funnel_s, from_events = timed(backend, FROM_EVENTS, runs)
        finally:
            backend.close()
    steps = [int(row["visitors"]) for row in from_progress]
    if steps != [int(row["visitors"]) for row in from_events] or len(steps) != len(STEPS):
        raise RuntimeError(f"the reads disagree: funnel_progress {from_progress}, windowFunnel {from_events}")
    return Figures(events, events // EVENTS_PER_VISITOR, steps, progress_s, window_funnel_s)


def main(
    sizes: list[int] = typer.Option([1_000_000, 10_000_000], "--events", help="events in footfall.events, one run each"),
    runs: int = typer.Option(5, help="reads of each kind per size; figures are medians"),
) -> None:
    measured = []
    for events in sizes:
        console.print(f"{events:,} events:")
        figures = measure(events, runs)
        console.print(f"  {figures}")
        measured.append(figures)
    table = figures_table(f"One funnel's step counts, embedded engine, one process (median of {runs} reads)")
    for figures in measured:
        size = f"{figures.events:,} events, {figures.visitors:,} visitors"
        table.add_row(f"{size}: from funnel_progress", f"{figures.progress_s * 1000:,.1f} ms", "")
        table.add_row(f"{size}: windowFunnel over events", f"{figures.window_funnel_s * 1000:,.1f} ms", "")
        table.add_row(f"{size}: windowFunnel ÷ funnel_progress", f"{figures.ratio:,.1f}×", "")
        table.add_row(f"{size}: visitors per step", " → ".join(f"{n:,}" for n in figures.steps), "")
    console.print(table)


if __name__ == "__main__":
    typer.run(main)
