"""Faust's Kafka transport with a prompt consumer: a short fetch wait, and deliveries that
start without a task of their own. The delivery is the framework's largest per-event
cost, so it is replaced here, in one place, and nothing else of Faust's consumer is."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Coroutine, Generator
from typing import Any

from faust.transport.consumer import CONSUMER_FETCHING
from faust.transport.drivers import aiokafka as kafka_driver
from faust.types import Message
from mode import ServiceT

# How long the broker may hold a fetch that finds nothing new. Faust's long wait can leave a
# worker receiving its events late in every fetch; with a short one that lag cannot build up.
FETCH_MAX_WAIT_MS = 100
# Deliveries between two returns to the event loop, as in Faust.
YIELD_EVERY = 100


class PromptConsumerThread(kafka_driver.AIOKafkaConsumerThread):
    """Faust's consumer thread, its aiokafka consumer made with a short fetch wait."""

    def _create_worker_consumer(self, transport: kafka_driver.Transport) -> kafka_driver.aiokafka.AIOKafkaConsumer:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS  # read when the consumer starts
        return consumer


class _Continuation:
    """Awaiting it carries on a coroutine that was started by hand and stopped at `pending`
    (what it awaits): the loop gets what the coroutine yields, the coroutine what the loop
    answers or throws, until it returns."""

    __slots__ = ("_coroutine", "_pending")

    def __init__(self, coroutine: Coroutine[Any, Any, Any], pending: Any):
        self._coroutine, self._pending = coroutine, pending

    def __await__(self) -> Generator[Any, Any, Any]:
        coroutine, pending = self._coroutine, self._pending
        while True:
            try:
                answer = yield pending
            except GeneratorExit:
                coroutine.close()
                raise
            except BaseException as exc:  # noqa: BLE001 (cancellation included: the coroutine decides)
                step = functools.partial(coroutine.throw, exc)
            else:
                step = functools.partial(coroutine.send, answer)
            try:
                pending = step()
            except StopIteration as finished:
                return finished.value


async def carry_on(coroutine: Coroutine[Any, Any, Any], pending: Any) -> Any:
    """Finish, as an ordinary awaitable, a coroutine started by hand and now awaiting `pending`."""
    return await _Continuation(coroutine, pending)


class PromptConsumer(kafka_driver.Consumer):
    """Faust's Kafka consumer, delivering each message without racing it in new tasks."""

    def _new_consumer_thread(self) -> kafka_driver.AIOKafkaConsumerThread:
        return PromptConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def _deliver(self, message: Message) -> None:
        """Hand one fetched message to the topics' conductor.

        Faust races every delivery against a suspension of the flow (a rebalance) in new
        tasks. A delivery almost never waits, so it is started here directly; only one that
        does wait continues as a task raced against the suspension, as Faust runs it.
        """
        delivery = self.callback(message)
        if self.suspend_flow.is_set():
            await self.wait_first(delivery, self.suspend_flow.wait())
            return
        try:
            pending = delivery.send(None)
        except StopIteration:
            return
        await self.wait_first(carry_on(delivery, pending), self.suspend_flow.wait())

    async def _drain_messages(self, fetcher: ServiceT) -> None:
        """Faust's fetch loop (consumer.py, faust-streaming 0.15.3) with `_deliver` for its
        per-message `wait_first`: read batches, skip what was already read, note gaps for
        acking, commit every `broker_commit_every` acks, deliver."""
        stopped, fetcher_stopped = self._stopped.is_set, fetcher._stopped.is_set  # type: ignore[attr-defined]
        read_offset = self._read_offset
        acks_enabled_for = self.app.topics.acks_enabled_for
        since_yield = 0
        try:
            while not (stopped() or fetcher_stopped()):
                self.diag.set_flag(CONSUMER_FETCHING)
                fetched = self.getmany(timeout=1.0)
                await asyncio.sleep(0)  # getmany can return at once, again and again
                if self.should_stop:
                    continue
                async for tp, message in fetched:
                    since_yield += 1
                    if since_yield > YIELD_EVERY:
                        await asyncio.sleep(0)
                        since_yield = 0
                    offset, last = message.offset, read_offset[tp]
                    if last is not None and offset < last:
                        continue  # read before a seek back
                    if last and offset - last > 1 and acks_enabled_for(message.topic):
                        await self._add_gap(tp, last + 1, offset)
                    if self._commit_every is not None and self._n_acked >= self._commit_every:
                        self._n_acked = 0
                        await self.commit()
                    await self._deliver(message)
                    read_offset[tp] = offset
                self.diag.unset_flag(CONSUMER_FETCHING)
        except (*self.consumer_stopped_errors, asyncio.CancelledError):
            if not self.transport.app.should_stop:
                raise
        finally:
            self.diag.unset_flag(CONSUMER_FETCHING)


class PromptTransport(kafka_driver.Transport):
    """Faust's Kafka transport with the prompt consumer."""

    Consumer = PromptConsumer
