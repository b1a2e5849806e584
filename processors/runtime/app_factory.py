"""How footfall's Faust apps are configured, in one place: the sessioniser runs with it,
and the benchmark's empty agent too, so the framework's own ceiling is measured under the
same settings."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections.abc import Coroutine, Generator
from typing import Any

import faust
from faust.transport.consumer import CONSUMER_FETCHING
from faust.transport.drivers import aiokafka as kafka_driver
from faust.types import Message
from mode import ServiceT

from infra.config import Settings
from schemas.topics import EVENTS


# How long the broker may hold a fetch that finds nothing new. Faust fixes it at 1.5 s, and
# in some runs a worker then settles into receiving its events about a second late in
# every fetch, whatever the traffic; with a short wait that lag cannot build up.
FETCH_MAX_WAIT_MS = 100
# Deliveries between two returns to the event loop, as in Faust.
YIELD_EVERY = 100


class _PromptConsumerThread(kafka_driver.AIOKafkaConsumerThread):
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


async def _carry_on(coroutine: Coroutine[Any, Any, Any], pending: Any) -> Any:
    return await _Continuation(coroutine, pending)


class _PromptConsumer(kafka_driver.Consumer):
    def _new_consumer_thread(self) -> kafka_driver.AIOKafkaConsumerThread:
        return _PromptConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def _deliver(self, message: Message) -> None:
        """Hand one fetched message to the topics' conductor.

        Faust races every delivery against a suspension of the flow (a rebalance) with
        `wait_first`, four asyncio tasks per message: more than the whole rest of a
        worker's per-event cost. A delivery almost never waits (only on a full stream
        buffer, paused flow or a producer that must drain), so it is started here
        directly; only one that does wait continues as a task raced against the
        suspension, exactly as Faust would have run it.
        """
        delivery = self.callback(message)
        if self.suspend_flow.is_set():
            await self.wait_first(delivery, self.suspend_flow.wait())
            return
        try:
            pending = delivery.send(None)
        except StopIteration:
            return
        await self.wait_first(_carry_on(delivery, pending), self.suspend_flow.wait())

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


class _PromptTransport(kafka_driver.Transport):
    """Faust's Kafka transport: its consumer with a short fetch wait, and deliveries that
    do not cost four tasks each."""

    Consumer = _PromptConsumer


def new_app(app_id: str, settings: Settings) -> faust.App:
    data_dir = settings.state_dir / "processors" / str(os.getpid())
    data_dir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        app_id,
        broker=f"kafka://{settings.kafka_bootstrap}",
        store="memory://",
        datadir=str(data_dir),
        topic_partitions=EVENTS.partitions,
        # Each visitor's state lives with the partition that owns it; a standby copy on
        # another worker would be touched by that worker's timer too.
        table_standby_replicas=0,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.processor_session_timeout_s,
        # Faust's fetch defaults (a few hundred records, 1 MB, per poll) cap a worker at
        # about 4,700 events/s here whatever its agent does; larger polls, and room for
        # several batches between the fetcher and the agent, lift that past 10,000.
        broker_max_poll_records=2 * settings.processor_batch_events,
        consumer_max_fetch_size=16 * 1024 * 1024,
        stream_buffer_maxsize=4 * settings.processor_batch_events,
        # Faust's 16 KB default makes the producer wait on the previous batch at every few
        # records; one larger batch per partition, lingering a few ms, carries a burst.
        producer_max_batch_size=1_000_000,
        producer_linger_ms=5,
        web_enabled=False,
        web_host="127.0.0.1",
    )
    app.transport = _PromptTransport(app.conf.broker_consumer, app)
    return app


def quiet_client_logs() -> None:
    """A worker leaves its clients' loggers at DEBUG: every record they build and drop
    costs about a tenth of a worker's time per event."""
    for name in ("aiokafka", "faust", "mode"):
        logging.getLogger(name).setLevel(logging.WARNING)

