"""A Faust worker whose agent only counts: the framework's own ceiling for the
processors benchmarks, under the worker's settings (processors.runtime.app_factory).

It takes records of FOOTFALL_BENCH_TOPIC (footfall.events unless set) in the same batches
as the worker and, once it has seen FOOTFALL_BENCH_EXPECTED of them, logs
`consumed N events in S s` (from its first batch) and exits.

    python -m bench.empty_agent   (started by the processors benchmarks)
"""

from __future__ import annotations

import logging
import os
import sys
import time

import faust

from infra.config import Settings, load
from processors.runtime.app_factory import new_app
from processors.runtime.stream_batches import event_batches
from schemas.topics import EVENTS

log = logging.getLogger("footfall.bench")


def build(settings: Settings, topic: str, expected: int) -> faust.App:
    """An app whose one agent counts the events of `topic` and exits once it has `expected`."""
    app = new_app("footfall-bench-empty-agent", settings)
    events = app.topic(topic, key_serializer="raw", value_serializer="raw", partitions=EVENTS.partitions)

    async def count(stream: faust.StreamT) -> None:
        seen, first = 0, 0.0
        async for batch in event_batches(app, stream, settings.processor_batch_events, settings.processor_batch_s):
            first = first or time.perf_counter()
            seen += len(batch)
            if seen >= expected:
                log.warning("consumed %d events in %.3f s", seen, time.perf_counter() - first)
                os._exit(0)

    app.agent(events)(count)
    return app


if __name__ == "__main__":
    app = build(load(), os.environ.get("FOOTFALL_BENCH_TOPIC", EVENTS.name), int(os.environ.get("FOOTFALL_BENCH_EXPECTED", "0")))
    sys.argv = [sys.argv[0], "worker", "--loglevel", "warn", "--without-web"]
    app.main()
