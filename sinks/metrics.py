"""The sink's Prometheus metrics (and, from prometheus_client's defaults, its process metrics)."""

from __future__ import annotations

import time
from collections import Counter as Tally

from prometheus_client import Counter, Gauge, Histogram

from sinks.rejections import REASON_CLASSES, REJECTED_ROWS, TOPIC_TABLES
from sinks.rows import RowBatch
from sinks.service import Written

ROWS = Counter("footfall_sink_rows_written_total", "Rows written to ClickHouse, by table", ["table"])
BATCHES = Counter("footfall_sink_batches_written_total", "Batches written to ClickHouse that had rows for a table", ["table"])
REJECTED = Counter(
    "footfall_sink_rows_rejected_total",
    "Rows set aside in footfall.rejected_rows instead of their table: unreadable records, or refused by ClickHouse",
    ["table", "reason_class"],
)
ERASED = Counter(
    "footfall_sink_rows_erased_total",
    "Records of people forgotten (footfall.erasures) left out instead of written, by the table they were for (rejected_rows: records that could not be read)",
    ["table"],
)
ERASURES_MALFORMED = Counter(
    "footfall_sink_erasures_malformed_total", "Records of footfall.erasures skipped because they hold no erasure"
)
ERASURE_HASHES = Gauge("footfall_sink_erasure_hashes", "Id hashes of people forgotten that the sink holds")
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
# Every table's series exists from the start, at zero.
for table in TABLES:
    ROWS.labels(table)
    BATCHES.labels(table)
for table in (*TOPIC_TABLES.values(), REJECTED_ROWS):
    ERASED.labels(table)
for table in {*TOPIC_TABLES.values(), "segment_membership"}:
    for reason_class in REASON_CLASSES:
        REJECTED.labels(table, reason_class)


def record_written(batch: RowBatch, written: Written) -> None:
    """Count what a write stored, table by table, and what it set aside."""
    for table in TABLES:
        ROWS.labels(table).inc(written.stored[table])
        if written.stored[table]:
            BATCHES.labels(table).inc()
    for table, count in batch.erased.items():
        ERASED.labels(table).inc(count)
    for (table, reason_class), count in Tally((r.table, r.reason_class) for r in written.rejected).items():
        REJECTED.labels(table, reason_class).inc(count)
    now = time.time()
    for received in batch.received_at:
        FRESHNESS_SECONDS.observe(max(0.0, now - received))
