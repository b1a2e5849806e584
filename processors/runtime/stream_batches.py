"""An agent's events in batches, read straight from the queue Faust delivers them to rather
than through `Stream.take_events`, whose per-event iterator costs more than the worker's
own work; what that iterator does that matters (dropping events of a past rebalance,
registering and acknowledging the rest) is done here once per batch."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import faust


async def event_batches(app: faust.App, stream: faust.StreamT, size: int, within: float) -> AsyncIterator[list[faust.EventT]]:
    """Batches of up to `size` events, each closed at most `within` seconds after its first
    event arrived; every event of a batch is acknowledged when the caller asks for the next,
    and never if the caller leaves the loop while handling it."""
    queue = stream.channel.queue  # type: ignore[attr-defined]
    loop = asyncio.get_running_loop()
    while not stream.should_stop:
        try:
            batch = [await queue.get()]
        except StopAsyncIteration:  # how Faust ends an agent's channel when the worker stops
            return
        # The stop may come while the batch fills, from either get; Faust throws it once,
        # so it ends the batches after this one rather than leave a get waiting for ever.
        stopping = False
        closes = loop.time() + within
        try:
            while len(batch) < size:
                if not queue.empty():
                    batch.append(queue.get_nowait())
                    continue
                left = closes - loop.time()
                if left <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(queue.get(), left))
                except TimeoutError:
                    break
        except StopAsyncIteration:
            stopping = True  # this batch is still processed and acknowledged
        current = registered(app, batch)
        if current:
            yield current
            # Only once the caller asks for the next batch: a batch whose handling raised
            # (a rebalance cancelling the agent, a publish that never got through) stays
            # unacknowledged, so its offsets are not committed and it is read again.
            for event in current:
                event.ack()
        if stopping:
            return


def registered(app: faust.App, batch: list[faust.EventT]) -> list[faust.EventT]:
    """The events still this worker's to process, each registered as unacknowledged."""
    if not app.flow_control.is_active():
        return []
    generation = app.consumer_generation_id
    acking = app.topics.acking_topics
    unacked = app.consumer.unacked
    current = []
    for event in batch:
        message = event.message
        if message.generation_id != generation:
            continue
        if message.topic in acking and not message.tracked:
            message.tracked = True
            unacked.add(message)
        current.append(event)
    return current
