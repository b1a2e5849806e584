"""The worker's one agent: each batch of events is sessionised, then analysed, in one pass,
and its outputs are stored by Kafka before the states that produced them are saved, which
is what keeps a crash and replay exact."""

from __future__ import annotations

import time

import faust

from infra.kafka.publisher import Record
from processors.analytics.analyse import analyse_batch
from processors.runtime import metrics
from processors.runtime.publishing import customer_records, publish_until_stored
from processors.runtime.stream_batches import event_batches
from processors.runtime.worker import Worker
from processors.sessionisation.changes import FirstSeen
from processors.sessionisation.sessionise import sessionise_batch
from schemas.topics import SESSIONISED, SESSIONS


async def process_batches(worker: Worker, stream: faust.StreamT) -> None:
    """Every batch: outputs acknowledged by Kafka, then visitor states and profiles saved,
    then (once the batch is left) its events acknowledged for Faust to commit."""
    settings = worker.settings
    await worker.publisher.start()
    try:
        async for batch in event_batches(worker.app, stream, settings.processor_batch_events, settings.processor_batch_s):
            started = time.perf_counter()
            partition_of = {event.key: event.message.partition for event in batch}
            # Seen now, before any await: the idle timer must not forget a visitor whose
            # new state is still on its way to the table.
            worker.last_seen.update(dict.fromkeys(partition_of, time.monotonic()))
            found = FirstSeen(worker.visitors.data.get)
            # The analytics timers replace profiles across awaits too.
            async with worker.lock:
                result = sessionise_batch(((event.key, event.value) for event in batch), found, worker.rules.for_site)
                analysed = analyse_batch(result.placed, worker.profiles.data.get, worker.analytics.for_site, worker.bounds.get)
                records = [Record(SESSIONISED.name, key, value) for key, value in result.sessionised]
                records += [Record(SESSIONS.name, key, value) for key, value in result.session_records()]
                await publish_until_stored(worker.publisher, records + customer_records(analysed))
                worker.save_visitors(result.states, partition_of)
                worker.save_profiles(analysed)
            metrics.record_batch(batch, result, found.found, started, worker.positions)
    finally:
        await worker.publisher.stop()
