"""Run one worker, sessionising and analysing its share of the events: `python -m processors`
(what `footfall up` starts; start more to spread the partitions)."""

from __future__ import annotations

import asyncio
import gc
import sys

from infra.config import load
from infra.kafka.admin import cluster_replication
from processors.runtime.wiring import build_worker

# A worker holds many long-lived objects (visitor states, profiles) and makes many
# short-lived ones per event. With Python's default thresholds the cyclic collector rescans
# that heap often, for garbage that reference counting frees anyway; much rarer collections
# leave the worker's time to its work.
GC_THRESHOLDS = (50_000, 20, 10)


def main() -> None:
    gc.set_threshold(*GC_THRESHOLDS)
    settings = load()
    # Faust's own topics are replicated as footfall's are: the factor is asked of the cluster once, here.
    replication = asyncio.run(cluster_replication(settings.kafka, settings.kafka_replication))
    worker = build_worker(settings.model_copy(update={"kafka_replication": replication}))
    sys.argv = [sys.argv[0], "worker", "--loglevel", "warn", "--without-web"]
    worker.app.main()


if __name__ == "__main__":
    main()
