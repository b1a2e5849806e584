"""The sink's Prometheus metrics."""

from __future__ import annotations

import time

from prometheus_client import Counter, Histogram

from sinks.rows import Batch

ROWS = Counter("footfall_sink_rows_written_total", "Rows written to ClickHouse, by table", ["table"])
BATCHES = Counter("footfall_sink_batches_written_total", "Batches written to ClickHouse")
INSERT_SECONDS = Histogram(
    "footfall_sink_insert_duration_seconds", "Time to write one batch", buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
)
RETRIES = Counter("footfall_sink_retries_total", "Batch writes retried after ClickHouse refused them")
ERRORS = Counter("footfall_sink_errors_total", "Batch writes ClickHouse refused")
FRESHNESS_SECONDS = Histogram(
    "footfall_sink_freshness_seconds",
    "ClickHouse write time minus collector receive time, per event",
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
)


def record_written(batch: Batch) -> None:
    BATCHES.inc()
    for table, rows in (("events", batch.events), ("sessions", batch.sessions), ("invalid_events", batch.invalid)):
        ROWS.labels(table).inc(len(rows))
    now = time.time()
    for received in batch.received_at:
        FRESHNESS_SECONDS.observe(max(0.0, now - received))
