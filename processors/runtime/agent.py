"""The worker's one agent: each batch of events is sessionised, then analysed, in one pass.

The agent is thin over processors.sessionisation.sessionise and processors.analytics.analyse (both pure). The
analytics take the batch's events with their sessions as objects, straight from the
sessionisation, rather than reading them back from footfall.events.sessionised: a second
pass through Kafka, Faust and JSON cost the worker more than the analytics themselves.

Order, for exactness through crashes: every output record of a batch is acknowledged by
Kafka first, then the new visitor states and profiles go to their tables and changelogs,
and only then are the batch's offsets acknowledged (Faust commits after flushing the
changelogs). A crash before the states are saved replays the batch over the old states,
which gives the same records again (ids and versions are deterministic); a state saved
before its outputs were would make the replay see duplicates and publish nothing.

Run a worker with `python -m processors`; start more to spread the partitions.
"""

from __future__ import annotations

import time

import faust

from infra.kafka.publisher import Record
from processors.runtime import metrics
from processors.runtime import profiles as profile_runtime
from processors.analytics.analyse import analyse_batch
from processors.runtime.profiles import bounds, config, profiles
from processors.runtime.publishing import customer_records, publish_until_stored
from processors.runtime.visitors import app, events, last_seen, publisher, rules_for, settings, visitors
from processors.sessionisation.sessionise import sessionise_batch
from processors.runtime.stream_batches import event_batches
from processors.sessionisation.changes import FirstSeen
from schemas.topics import SESSIONISED, SESSIONS


@app.agent(events)
async def process(stream: faust.StreamT) -> None:
    await publisher.start()
    try:
        async for batch in event_batches(app, stream, settings.processor_batch_events, settings.processor_batch_s):
            started = time.perf_counter()
            partition_of = {event.key: event.message.partition for event in batch}
            # Seen now, before any await: the idle timer must not forget a visitor whose
            # new state is still on its way to the table.
            last_seen.update(dict.fromkeys(partition_of, time.monotonic()))
            found = FirstSeen(visitors.data.get)
            # The analytics timers replace profiles across awaits too.
            async with profile_runtime.lock:
                result = sessionise_batch(((event.key, event.value) for event in batch), found, rules_for)
                analysed = analyse_batch(result.placed, profiles.data.get, config.for_site, bounds.get)
                records = [Record(SESSIONISED.name, key, value) for key, value in result.sessionised]
                records += [Record(SESSIONS.name, key, value) for key, value in result.session_records()]
                await publish_until_stored(publisher, records + customer_records(analysed))
                for key, state in result.states.items():
                    visitors.data[key] = state
                    visitors.send_changelog(partition_of[key], key, state)
                profile_runtime.save(analysed)
            metrics.record_batch(batch, result, found.found, started)
    finally:
        await publisher.stop()
