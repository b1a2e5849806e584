"""What the benchmarks share: a private broker, Kafka's own producer perf tool, medians."""

from __future__ import annotations

import math
import re
import statistics
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import psutil
import typer
from rich.console import Console
from rich.table import Table

from footfall.local.kafka_broker import Broker, BrokerConfig, java_command, start_private
from infra.config import Settings

# The options every processors benchmark takes.
RUNS_OPTION = typer.Option(3, help="runs, each on a fresh broker; figures are medians")
SEED_OPTION = typer.Option(1, help="seed of the demo traffic")


@contextmanager
def private_broker() -> Iterator[Broker]:
    with tempfile.TemporaryDirectory(prefix="footfall-bench-") as folder:
        broker = start_private(Path(folder), Settings(), heap="768m")
        try:
            yield broker
        finally:
            broker.stop()


def producer_perf(bootstrap: str, topic: str, records: int, record_size: int) -> float:
    """Records/s from Kafka's own ProducerPerformance tool, with the collector's guarantees
    (acks=all, idempotent): the most this broker takes from one producer here."""
    command = java_command(
        BrokerConfig.from_settings(Settings()),
        "org.apache.kafka.tools.ProducerPerformance",
        "--topic", topic,
        "--num-records", str(records),
        "--record-size", str(record_size),
        "--throughput", "-1",
        "--producer-props", f"bootstrap.servers={bootstrap}", "acks=all", "enable.idempotence=true",
        "linger.ms=2", "batch.size=262144",
    )
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    summary = [line for line in output.splitlines() if f"{records} records sent" in line][-1]
    match = re.search(r"([\d.]+) records/sec", summary)
    assert match, summary
    return float(match.group(1))


def tree_rss_bytes(pid: int) -> int:
    """RSS of a process and all its children (the collector's supervisor and workers)."""
    root = psutil.Process(pid)
    total = 0
    for process in [root, *root.children(recursive=True)]:
        try:
            total += process.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def median(values: list[float]) -> float:
    return statistics.median(values)


# --- what the pipeline benchmarks (freshness, sessioniser throughput) add ------------------


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) a process and its children have used so far."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


class PeakRss(threading.Thread):
    """The peak RSS of several processes (each with its children), sampled every
    `interval_s` until stop(), which returns each one's peak in MB."""

    def __init__(self, pids: dict[str, int], interval_s: float = 0.5):
        super().__init__(daemon=True)
        self.pids = pids
        self.interval_s = interval_s
        self.peaks = dict.fromkeys(pids, 0)
        self.done = threading.Event()

    def sample(self) -> None:
        for name, pid in self.pids.items():
            try:
                self.peaks[name] = max(self.peaks[name], tree_rss_bytes(pid))
            except psutil.NoSuchProcess:
                pass

    def run(self) -> None:
        self.sample()
        while not self.done.wait(self.interval_s):
            self.sample()

    def stop(self) -> dict[str, float]:
        self.done.set()
        self.join()
        self.sample()
        return {name: peak / 2**20 for name, peak in self.peaks.items()}


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank q-th percentile (0 < q ≤ 100) of values; NaN when there are none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


class Runs:
    """The results of repeated runs of one benchmark, read as medians for the table."""

    def __init__(self, results: Sequence[object]):
        self.results = list(results)

    def mid(self, attribute: str) -> float:
        return median([getattr(r, attribute) for r in self.results])

    def figure(self, attribute: str, spec: str) -> str:
        """The median, followed by every run's figure when there were several."""
        text = format(self.mid(attribute), spec)
        if len(self.results) > 1:
            text += " (runs: " + " · ".join(format(getattr(r, attribute), spec) for r in self.results) + ")"
        return text


def repeat(runs: int, one_run: Callable[[int], object], console: Console) -> Runs:
    """Run a benchmark `runs` times (passing the run's number, from 1), printing each run's
    figures as they come."""
    results = []
    for n in range(1, runs + 1):
        console.print(f"run {n}/{runs} …")
        result = one_run(n)
        console.print(f"  {result}")
        results.append(result)
    return Runs(results)


def figures_table(title: str) -> Table:
    table = Table(title=title)
    for column in ("measure", "figure", "target"):
        table.add_column(column)
    return table
