"""Forgetting idle visitors: once none of a visitor's sessions can change any more, their
state leaves the table (and its changelog), which keeps the table to the visitors active
now, whichever worker saved or recovered them."""

from __future__ import annotations

from functools import partial

from processors.runtime import metrics
from processors.runtime.inactive_states import remove_inactive
from processors.runtime.worker import Worker
from processors.sessionisation.changes import closed_when_forgotten
from processors.sessionisation.sessions import VisitorState


def _forget(worker: Worker, partition: int, key: bytes, state: VisitorState, clock_ms: int) -> None:
    metrics.record_closed(closed_when_forgotten(state))
    metrics.VISITORS_FORGOTTEN.labels(state.site_id).inc()
    del worker.visitors.data[key]
    worker.visitors.send_changelog(partition, key, None, value_serializer="raw")


async def forget_idle_visitors(worker: Worker) -> None:
    """Drop the state of visitors idle longer than a gap plus the allowed lateness: their
    sessions can no longer change, and every row was published when it last did."""
    await remove_inactive(worker, worker.visitors, worker.visitor_activity, worker.rules.idle_horizon_ms, partial(_forget, worker))
