"""The worker's one agent: each batch of events is sessionised, then analysed, in one pass,
and its outputs are stored by Kafka before the states that produced them are saved, which
is what keeps a crash and replay exact."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import faust

from infra import faults
from infra.kafka.publisher import Record
from processors.analytics.analyse import CustomerOutputs, analyse_batch
from processors.runtime import metrics
from processors.runtime.erasures import without_forgotten
from processors.runtime.publishing import customer_records, publish_until_stored, set_aside_records
from processors.runtime.stream_batches import event_batches
from processors.runtime.worker import Worker
from processors.sessionisation.changes import FirstSeen
from processors.sessionisation.sessionise import BatchResult, KeyValue, sessionise_batch
from schemas.topics import SESSIONISED, SESSIONS


@dataclass(frozen=True)
class Arrivals:
    """Each visitor of a batch: its partition, and when its latest event arrived (ms, by the
    Kafka timestamp, never ahead of the worker's clock)."""

    partition_of: dict[bytes, int]
    seen: dict[bytes, int]

    @classmethod
    def of(cls, batch: Sequence[faust.EventT], now_ms: int) -> Arrivals:
        partition_of: dict[bytes, int] = {}
        seen: dict[bytes, int] = {}
        for event in batch:
            message = event.message
            stamp = message.timestamp
            arrived_ms = min(int(stamp * 1000), now_ms) if stamp and stamp > 0 else now_ms
            partition_of[event.key] = message.partition
            seen[event.key] = max(arrived_ms, seen.get(event.key, 0))
        return cls(partition_of, seen)

    def by_partition(self) -> dict[int, int]:
        """The latest arrival in each partition of the batch."""
        latest: dict[int, int] = {}
        for key, partition in self.partition_of.items():
            latest[partition] = max(self.seen[key], latest.get(partition, 0))
        return latest


def save_batch(worker: Worker, result: BatchResult, analysed: CustomerOutputs, arrivals: Arrivals) -> None:
    """Once a batch's outputs are stored: its visitors' states and profiles, stamped with
    when each was last active, and how far each partition's arrival clock has come."""
    worker.follow_rebalance()
    worker.save_visitors(result.states, arrivals.partition_of, arrivals.seen)
    worker.save_profiles(analysed, arrivals.seen)
    now_ms = int(time.time() * 1000)
    for partition, arrived_ms in arrivals.by_partition().items():
        worker.clocks.observe(partition, arrived_ms, now_ms)


async def process_batches(worker: Worker, stream: faust.StreamT) -> None:
    """Every batch: outputs acknowledged by Kafka, then visitor states and profiles saved,
    then (once the batch is left) its events acknowledged for Faust to commit."""
    settings = worker.settings
    if not await worker.erasures.wait_caught_up("processing events"):
        return
    await worker.publisher.start()
    try:
        async for batch in event_batches(worker.app, stream, settings.processor_batch_events, settings.processor_batch_s):
            started = time.perf_counter()
            arrivals = Arrivals.of(batch, int(time.time() * 1000))
            # Marked before any await: the timers must not forget a visitor whose new state
            # is still on its way to the table.
            worker.in_flight = set(arrivals.partition_of)
            found = FirstSeen(worker.visitors.data.get)
            try:
                async with worker.lock:
                    records: Iterable[KeyValue] = ((event.key, event.value) for event in batch)
                    if worker.forgotten:
                        records, erased = without_forgotten(records, worker.forgotten)
                        metrics.record_erased(erased)
                    result = sessionise_batch(records, found, worker.rules.for_site)
                    analysed = analyse_batch(
                        result.placed, worker.profiles.data.get, worker.analytics.for_site, worker.bounds.get,
                        worker.clv_models.fitted.get,
                    )
                    records = [Record(SESSIONISED.name, key, value) for key, value in result.sessionised]
                    records += [Record(SESSIONS.name, key, value) for key, value in result.session_records()]
                    records += set_aside_records(result.malformed)
                    await publish_until_stored(worker.publisher, records + customer_records(analysed))
                    # The worst moment to die: outputs stored, states not saved.
                    faults.reached(faults.WORKER_AFTER_PUBLISH)
                    save_batch(worker, result, analysed, arrivals)
            finally:
                worker.in_flight = set()
            metrics.record_batch(batch, result, found.found, started, worker.positions)
    finally:
        await worker.publisher.stop()
