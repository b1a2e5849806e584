"""The collector's Prometheus metrics, named by Prometheus conventions (base units, _total).

The collector runs several worker processes on one port, and a scrape reaches one of them:
so each worker keeps its values in files of a folder shared by all
(PROMETHEUS_MULTIPROC_DIR, which `python -m collector` sets before any worker starts) and
every scrape adds up all workers' values. Process metrics cover the collector as a whole,
the supervisor and its workers.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Iterator

import psutil
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from collector.ratelimit import LIMIT_KINDS
from schemas.event import EventType

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "footfall_collector_requests_total", "HTTP requests answered, by endpoint and status", ["endpoint", "status"]
)
REQUEST_SECONDS = Histogram(
    "footfall_collector_request_duration_seconds", "Time to answer a request", ["endpoint"], buckets=LATENCY_BUCKETS
)
IN_FLIGHT = Gauge("footfall_collector_requests_in_flight", "Requests being handled now", multiprocess_mode="livesum")
PAYLOAD_BYTES = Counter("footfall_collector_payload_bytes_total", "Request body bytes received, as sent", ["site"])
EVENTS_ACCEPTED = Counter("footfall_collector_events_accepted_total", "Events acknowledged by Kafka", ["site", "type"])
EVENTS_REJECTED = Counter(
    "footfall_collector_events_rejected_total", "Messages refused, by reason", ["site", "reason"]
)
PRODUCE_SECONDS = Histogram(
    "footfall_collector_kafka_produce_duration_seconds",
    "Time from handing a request's records to Kafka until all are acknowledged",
    buckets=LATENCY_BUCKETS,
)
RATE_LIMITED = Counter(
    "footfall_collector_rate_limited_total", "Requests answered 429, by site and the limit they broke", ["site", "limit"]
)
PRODUCE_ERRORS = Counter("footfall_collector_kafka_produce_errors_total", "Requests Kafka did not acknowledge in time")
REJECT_REASONS = ("invalid_message", "do_not_track")


def start_series(site_ids: Iterable[str]) -> None:
    """Each site's event series exist from the start, at zero, so rates and ratios over
    them are defined before the first event of each kind."""
    for site in site_ids:
        for event_type in EventType:
            EVENTS_ACCEPTED.labels(site, event_type.value)
        for reason in REJECT_REASONS:
            EVENTS_REJECTED.labels(site, reason)
        for limit in LIMIT_KINDS:
            RATE_LIMITED.labels(site, limit)


def collector_processes() -> list[psutil.Process]:
    """This process, or with several workers the supervisor that spawned them and its children."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return [psutil.Process()]
    supervisor = psutil.Process(parent.pid)
    return [supervisor, *supervisor.children()]


class ProcessGroupCollector(Collector):
    """process_* as prometheus_client's ProcessCollector names them, summed over the
    collector's processes, so any worker answering a scrape reports the same whole."""

    def collect(self) -> Iterator[Metric]:
        processes = collector_processes()
        cpu = rss = vms = fds = 0.0
        for process in processes:
            with process.oneshot():
                times = process.cpu_times()
                memory = process.memory_info()
                cpu += times.user + times.system
                rss += memory.rss
                vms += memory.vms
                fds += process.num_fds()
        yield CounterMetricFamily("process_cpu_seconds", "User and system CPU time of all the collector's processes", cpu)
        yield GaugeMetricFamily("process_resident_memory_bytes", "Resident memory of all the collector's processes", rss)
        yield GaugeMetricFamily("process_virtual_memory_bytes", "Virtual memory of all the collector's processes", vms)
        yield GaugeMetricFamily("process_open_fds", "Open file descriptors of all the collector's processes", fds)
        yield GaugeMetricFamily(
            "process_start_time_seconds", "Start time of the collector since the epoch", processes[0].create_time()
        )


def exposition() -> bytes:
    """The text a /metrics scrape answers: every worker's values when there are several."""
    if MULTIPROCESS_ENV not in os.environ:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(ProcessGroupCollector())
    return generate_latest(registry)
