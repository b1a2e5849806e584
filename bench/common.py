"""What the benchmarks share: a private broker, Kafka's own producer perf tool, medians."""

from __future__ import annotations

import re
import statistics
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

from footfall.kafka_broker import Broker, java_command, start_private
from footfall.settings import Settings


@contextmanager
def private_broker() -> Iterator[Broker]:
    with tempfile.TemporaryDirectory(prefix="footfall-bench-") as folder:
        broker = start_private(Path(folder), Settings().kafka_libs, heap="768m")
        try:
            yield broker
        finally:
            broker.stop()


def producer_perf(bootstrap: str, topic: str, records: int, record_size: int) -> float:
    """Records/s from Kafka's own ProducerPerformance tool, with the collector's guarantees
    (acks=all, idempotent): the most this broker takes from one producer here."""
    command = java_command(
        Settings().kafka_libs,
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
