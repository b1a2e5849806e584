"""The sink's Prometheus metrics (and, from prometheus_client's defaults, its process metrics)."""

from __future__ import annotations

import time

from prometheus_client import Counter, Histogram

from sinks.rows import RowBatch

ROWS = Counter("footfall_sink_rows_written_total", "Rows written to ClickHouse, by table", ["table"])
BATCHES = Counter("footfall_sink_batches_written_total", "Batches written to ClickHouse that had rows for a table", ["table"])
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


TABLES = ("events", "sessions", "invalid_events")
for table in TABLES:  # every table's series exists from the start, at zero
    ROWS.labels(table)
    BATCHES.labels(table)


def record_written(batch: RowBatch) -> None:
    for table, rows in zip(TABLES, (batch.events, batch.sessions, batch.invalid), strict=True):
        ROWS.labels(table).inc(len(rows))
        if rows:
            BATCHES.labels(table).inc()
    now = time.time()
    for received in batch.received_at:
        FRESHNESS_SECONDS.observe(max(0.0, now - received))
