"""An agent's batches read from its channel queue: the stop Faust throws into the queue
ends them, whether the agent is waiting for a first event or filling a batch, and the
events already taken are still handed over and acknowledged; a batch whose handling fails
is never acknowledged, so Faust cannot commit past it."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from mode.utils.queues import FlowControlEvent, ThrowableQueue

from processors.runtime.stream_batches import event_batches

TOPIC = "footfall.events"


def new_queue() -> ThrowableQueue:
    return ThrowableQueue(flow_control=FlowControlEvent(initially_suspended=False))


class FakeMessage:
    def __init__(self, offset: int):
        self.generation_id, self.topic, self.tracked, self.offset = 1, TOPIC, False, offset


class FakeEvent:
    def __init__(self, offset: int):
        self.message = FakeMessage(offset)
        self.acked = False

    def ack(self) -> None:
        self.acked = True


def worker_parts(queue: ThrowableQueue) -> tuple[SimpleNamespace, SimpleNamespace]:
    app = SimpleNamespace(
        flow_control=SimpleNamespace(is_active=lambda: True),
        consumer_generation_id=1,
        topics=SimpleNamespace(acking_topics={TOPIC}),
        consumer=SimpleNamespace(unacked=set()),
    )
    stream = SimpleNamespace(channel=SimpleNamespace(queue=queue), should_stop=False)
    return app, stream


async def take_all(queue: ThrowableQueue, stop_after: int) -> tuple[list[list[FakeEvent]], SimpleNamespace]:
    """Every batch until the batches end; the stop is thrown once `stop_after` events were taken."""
    app, stream = worker_parts(queue)
    batches: list[list[FakeEvent]] = []

    async def stop_when_taken() -> None:
        while queue.qsize() > 10 - stop_after:
            await asyncio.sleep(0)
        queue._throw(StopAsyncIteration())

    stopper = asyncio.ensure_future(stop_when_taken())
    async for batch in event_batches(app, stream, size=100, within=5.0):  # type: ignore[arg-type]
        batches.append(batch)
    await stopper
    return batches, app


def test_a_stop_while_a_batch_fills_ends_the_batches_after_that_batch() -> None:
    async def scenario() -> tuple[list[list[FakeEvent]], SimpleNamespace, list[FakeEvent]]:
        queue = new_queue()
        events = [FakeEvent(n) for n in range(10)]
        for event in events:
            queue.put_nowait(event)
        batches, app = await asyncio.wait_for(take_all(queue, stop_after=10), timeout=10)
        return batches, app, events

    batches, app, events = asyncio.run(scenario())
    assert [[e.message.offset for e in batch] for batch in batches] == [list(range(10))]
    assert all(event.acked for event in events)
    assert {event.message for event in events} == app.consumer.unacked


def test_a_stop_while_waiting_for_a_first_event_ends_the_batches() -> None:
    async def scenario() -> list[list[FakeEvent]]:
        queue = new_queue()
        app, stream = worker_parts(queue)
        asyncio.get_running_loop().call_later(0.05, queue._throw, StopAsyncIteration())
        return [batch async for batch in event_batches(app, stream, size=100, within=5.0)]  # type: ignore[arg-type]

    assert asyncio.run(asyncio.wait_for(scenario(), timeout=10)) == []


def test_a_batch_whose_handling_fails_is_not_acknowledged() -> None:
    async def scenario() -> list[FakeEvent]:
        queue = new_queue()
        events = [FakeEvent(n) for n in range(3)]
        for event in events:
            queue.put_nowait(event)
        app, stream = worker_parts(queue)
        batches = event_batches(app, stream, size=3, within=5.0)  # type: ignore[arg-type]
        try:
            async for _ in batches:
                raise asyncio.CancelledError  # as a rebalance cancels the agent mid-batch
        except asyncio.CancelledError:
            pass
        await batches.aclose()
        return events

    assert [event.acked for event in asyncio.run(asyncio.wait_for(scenario(), timeout=10))] == [False, False, False]
