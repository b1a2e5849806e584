"""Fault points: places where a crash hurts most, which a test can ask a process to die at.

Crash tests must hit the worst moment (outputs published but states not yet saved, rows
written but offsets not yet committed), not a quiet one. A process started with
FOOTFALL_FAULT=<point> (or <point>:<n>, the n-th time it gets there) kills itself with
SIGKILL at that point, as a power cut would: no cleanup, no flush. Unset, a point costs
one dictionary lookup.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

FAULT_ENV = "FOOTFALL_FAULT"
# The points the stages define: a worker between Kafka acknowledging a batch's outputs and
# saving the states behind them; the sink between writing a batch and committing its offsets;
# the webhook deliverer between a receiver's 2xx and committing the change's offset.
WORKER_AFTER_PUBLISH = "worker.after_publish"
SINK_AFTER_WRITE = "sink.after_write"
WEBHOOKS_AFTER_DELIVERY = "webhooks.after_delivery"

_reached: Counter[str] = Counter()


def wanted() -> tuple[str, int] | None:
    """The point and the visit to die at, from the environment."""
    setting = os.environ.get(FAULT_ENV)
    if not setting:
        return None
    point, _, visit = setting.partition(":")
    return point, int(visit) if visit else 1


def reached(point: str) -> None:
    """Die here if the environment asks for this point at this visit."""
    target = wanted()
    if target is None or target[0] != point:
        return
    _reached[point] += 1
    if _reached[point] >= target[1]:
        os.kill(os.getpid(), signal.SIGKILL)
