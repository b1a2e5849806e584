"""Forgetting idle visitors: once none of a visitor's sessions can change any more, their
state leaves the table (and its changelog), which keeps the table to the visitors active now."""

from __future__ import annotations

import time

from infra.kafka.publisher import partition_for
from processors.runtime import metrics
from processors.runtime.worker import EVENT_PARTITIONS, Worker
from processors.sessionisation.changes import closed_when_forgotten


async def forget_idle_visitors(worker: Worker) -> None:
    """Drop the state of visitors idle longer than a gap plus the allowed lateness: their
    sessions can no longer change, and every row was published when it last did."""
    horizon_s = worker.rules.idle_horizon_ms / 1000
    now = time.monotonic()
    visitors, last_seen = worker.visitors, worker.last_seen
    owned = worker.owned_partitions(visitors)
    for key in [k for k, seen in last_seen.items() if now - seen > horizon_s]:
        del last_seen[key]
        partition = partition_for(key, EVENT_PARTITIONS, [])
        if partition in owned and key in visitors.data:
            metrics.record_closed(closed_when_forgotten(visitors.data[key]))
            del visitors.data[key]
            visitors.send_changelog(partition, key, None, value_serializer="raw")
