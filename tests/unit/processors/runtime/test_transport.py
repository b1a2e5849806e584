"""The worker's message delivery without Faust's per-message race: a delivery that does not
wait completes where it starts; one that waits carries on as a task, which a suspension of
the flow (a rebalance) still interrupts; and a coroutine started by hand finishes under
the event loop exactly as if it had been awaited (results, exceptions, cancellation)."""

from __future__ import annotations

import asyncio

import mode
import pytest
from mode.utils.locks import Event

from processors.runtime.transport import PromptConsumer, carry_on


async def add_when_ready(first: asyncio.Future, second: asyncio.Future) -> int:
    return await first + await second


def test_a_coroutine_started_by_hand_finishes_under_the_loop() -> None:
    async def scenario() -> int:
        loop = asyncio.get_running_loop()
        first, second = loop.create_future(), loop.create_future()
        coroutine = add_when_ready(first, second)
        pending = coroutine.send(None)
        assert pending is first
        finished = asyncio.ensure_future(carry_on(coroutine, pending))
        first.set_result(2)
        await asyncio.sleep(0)
        second.set_result(3)
        return await finished

    assert asyncio.run(scenario()) == 5


def test_exceptions_and_cancellation_reach_the_coroutine() -> None:
    seen: list[str] = []

    async def guarded(future: asyncio.Future) -> None:
        try:
            await future
        except ValueError:
            seen.append("handled")
            await asyncio.sleep(0)
            raise KeyError("after handling") from None
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        failing, waiting = loop.create_future(), loop.create_future()
        first = guarded(failing)
        task = asyncio.ensure_future(carry_on(first, first.send(None)))
        failing.set_exception(ValueError("boom"))
        with pytest.raises(KeyError, match="after handling"):
            await task
        second = guarded(waiting)
        task = asyncio.ensure_future(carry_on(second, second.send(None)))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    assert seen == ["handled", "cancelled"]


class Delivering(mode.Service):
    """What `_deliver` uses of Faust's consumer: the conductor's callback, the flow's
    suspension event, and mode's wait_first."""

    _deliver = PromptConsumer._deliver

    def __init__(self, callback) -> None:
        super().__init__()
        self.callback = callback
        self.suspend_flow = Event()


def test_a_delivery_that_does_not_wait_needs_no_task_and_one_that_waits_still_finishes() -> None:
    delivered: list[str] = []

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        room = loop.create_future()

        async def conductor(message: str) -> None:
            if message == "queue full":
                await room
            delivered.append(message)

        consumer = Delivering(conductor)
        tasks_before = len(asyncio.all_tasks())
        await consumer._deliver("plain")
        assert delivered == ["plain"] and len(asyncio.all_tasks()) == tasks_before
        waiting = asyncio.ensure_future(consumer._deliver("queue full"))
        await asyncio.sleep(0.01)
        assert not waiting.done()
        room.set_result(None)
        await waiting

    asyncio.run(scenario())
    assert delivered == ["plain", "queue full"]


def test_a_suspended_flow_abandons_a_waiting_delivery() -> None:
    delivered: list[str] = []

    async def scenario() -> None:
        never = asyncio.get_running_loop().create_future()

        async def conductor(message: str) -> None:
            await never
            delivered.append(message)

        consumer = Delivering(conductor)
        waiting = asyncio.ensure_future(consumer._deliver("stuck"))
        await asyncio.sleep(0.01)
        consumer.suspend_flow.set()  # a rebalance starts
        await asyncio.wait_for(waiting, 1)

    asyncio.run(scenario())
    assert delivered == []
