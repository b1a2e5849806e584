"""The deliverer's consumer loop: the change topics, partition by partition, to the hooks.

Each partition's records are delivered one after the other (a visitor's records share a
partition, so a customer's changes arrive in the order they happened) while the other
partitions go on; a partition is paused while its records are out, so a receiver retried
for an hour holds up only the customers that share its partition. A record's offset is
committed only once every hook that wants it has its 2xx or a dead letter acknowledged by
Kafka: a crash in between sends it again, with the same delivery id (at least once).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import httpx
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError

from infra import faults
from infra.config import Settings, Webhook
from infra.erasures import Forgotten
from infra.kafka.erasure_reader import ErasureReader
from infra.kafka.publisher import KafkaUnavailable, Publisher, Record
from infra.keys import site_key
from infra.retry import Backoff, retry_async
from schemas.topics import FUNNEL_PROGRESS, SEGMENT_CHANGES, WEBHOOKS_DEAD
from webhooks import metrics
from webhooks.changes import Change, Malformed, SiteFunnels, read, site_funnels
from webhooks.dead_letters import dead_letter
from webhooks.delivery import client as http_client, deliver
from webhooks.matching import hooks_for
from webhooks.payloads import delivery
from webhooks.schedule import Schedule

log = logging.getLogger("footfall.webhooks")
TOPICS = (SEGMENT_CHANGES.name, FUNNEL_PROGRESS.name)
GROUP_ID = "footfall-webhooks"
MAX_RECORDS = 500
KAFKA_BACKOFF = Backoff(initial_s=0.5, max_s=10)


class Deliverer:
    """Every configured site's hooks, fed by one consumer in the deliverers' group."""

    def __init__(self, consumer: AIOKafkaConsumer, publisher: Publisher, client: httpx.AsyncClient, settings: Settings,
                 forgotten: Forgotten):
        self.consumer = consumer
        self.forgotten = forgotten
        self.publisher = publisher
        self.client = client
        self.hooks: dict[str, Sequence[Webhook]] = {site.id: site.webhooks for site in settings.sites if site.webhooks}
        self.funnels: dict[str, SiteFunnels] = {site.id: site_funnels(site.funnels) for site in settings.sites if site.webhooks}
        backoff = Backoff(initial_s=settings.webhook_backoff_initial_s, max_s=settings.webhook_backoff_max_s)
        self.schedule = Schedule(backoff, settings.webhook_retry_s)
        self.running: dict[TopicPartition, asyncio.Task[None]] = {}

    async def run(self, stopping: asyncio.Event) -> None:
        try:
            while not stopping.is_set():
                fetched = await self.consumer.getmany(timeout_ms=200, max_records=MAX_RECORDS)
                for partition, records in fetched.items():
                    self.consumer.pause(partition)
                    self.running[partition] = asyncio.create_task(self.deliver_partition(partition, records))
                self.finished()
        finally:
            await self.drop(list(self.running))

    def finished(self) -> None:
        """Take the partitions whose records are done up again; a task that failed is a bug
        and ends the deliverer, whose records are then delivered again after a restart."""
        for partition, task in list(self.running.items()):
            if task.done():
                del self.running[partition]
                task.result()
                if partition in self.consumer.assignment():
                    self.consumer.resume(partition)

    async def drop(self, partitions: Sequence[TopicPartition]) -> None:
        """Stop delivering these partitions' records: another deliverer (or this one, after
        a restart) takes them up from their committed offsets."""
        tasks = [task for partition in partitions if (task := self.running.pop(partition, None)) is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def deliver_partition(self, partition: TopicPartition, records: list[ConsumerRecord]) -> None:
        done = None
        for record in records:
            if await self.deliver_record(record):
                faults.reached(faults.WEBHOOKS_AFTER_DELIVERY)
                await self.commit(partition, record.offset + 1)
                done = None
            else:
                done = record.offset + 1
        if done is not None:
            await self.commit(partition, done)

    async def deliver_record(self, record: ConsumerRecord) -> bool:
        """Every hook that wants the record's change, together; whether there was any."""
        try:
            change = read(record.topic, record.value, self.funnels)
        except Malformed as exc:
            metrics.MALFORMED.labels(record.topic).inc()
            log.warning("skipping %s[%d]@%d, which holds no change: %s", record.topic, record.partition, record.offset, exc)
            return False
        if change is None:
            return False
        if self.forgotten.holds(change.site_id) and self.forgotten.names(change.site_id, [change.anonymous_id, change.customer_id]):
            metrics.ERASED.inc()
            return False
        wanting = hooks_for(self.hooks.get(change.site_id, ()), change)
        await asyncio.gather(*(self.deliver_change(hook, change, record.key or b"") for _, hook in wanting))
        return bool(wanting)

    async def deliver_change(self, hook: Webhook, change: Change, key: bytes) -> None:
        sending = delivery(hook, change)
        outcome = await deliver(self.client, sending, change.site_id, self.schedule)
        if outcome.delivered:
            metrics.DELIVERIES.labels(change.site_id, change.event, "delivered").inc()
            return
        log.error("delivery %s of %s to %s dead-lettered after %d attempts (%s): %s",
                  sending.delivery_id, change.event, hook.url, outcome.attempts, outcome.reason, outcome.detail)
        dead = Record(WEBHOOKS_DEAD.name, key, dead_letter(sending, change.site_id, outcome))
        await retry_async(lambda: self.publisher.publish([dead]), KafkaUnavailable, KAFKA_BACKOFF,
                          on_retry=lambda exc, wait: log.warning("dead letter not acknowledged, retrying in %.1fs: %s", wait, exc))
        metrics.DEAD_LETTERS.labels(change.site_id, outcome.reason).inc()
        metrics.DELIVERIES.labels(change.site_id, change.event, "dead_lettered").inc()

    async def commit(self, partition: TopicPartition, offset: int) -> None:
        try:
            await self.consumer.commit({partition: offset})
        except (CommitFailedError, IllegalStateError) as exc:
            # The partition went to another deliverer meanwhile: it sends these records again.
            log.warning("offset %d of %s not committed, its records will be delivered again: %s", offset, partition, exc)


class StartAtTheEnd(ConsumerRebalanceListener):
    """A partition this group has never committed starts at its end, committed at once:
    changes made before the deliverer first ran are not sent (a hook configured today is
    not flooded with last week's), and any after are, even if it dies before its first
    delivery. Partitions taken away stop being delivered here."""

    def __init__(self, deliverer: Deliverer):
        self.deliverer = deliverer

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        await self.deliverer.drop(list(revoked))

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        consumer = self.deliverer.consumer
        fresh = [partition for partition in assigned if await consumer.committed(partition) is None]
        if fresh:
            await consumer.commit(await consumer.end_offsets(fresh))
            log.info("%d partitions never delivered from start at their end", len(fresh))
        # Set last: `footfall up` waits for it, so what is sent after is delivered.
        metrics.ASSIGNED.set(len(consumer.assignment()))


def new_consumer(settings: Settings) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        group_id=GROUP_ID,
        client_id="footfall-webhooks",
        enable_auto_commit=False,
        auto_offset_reset="latest",
        max_poll_records=MAX_RECORDS,
        **settings.kafka.client_options(),
    )


async def consume(settings: Settings, stopping: asyncio.Event) -> None:
    """Connect to Kafka (retrying while it starts) and deliver until `stopping` is set, once
    every erasure is known: a change of someone forgotten is never sent, replays included."""
    forgotten = Forgotten(lambda site_id: site_key(settings, site_id))
    erasures = ErasureReader(settings.kafka, forgotten, "footfall-webhooks-erasures", log,
                             on_malformed=lambda exc: log.warning("skipping a record of footfall.erasures: %s", exc))
    publisher = Publisher(settings.kafka, settings.kafka_ack_timeout_s, client_id="footfall-webhooks")
    consumer = new_consumer(settings)
    try:
        if not await erasures.wait_caught_up("delivering webhooks"):
            return
        await publisher.start(attempts=60)
        await consumer.start()
        async with http_client(settings.webhook_timeout_s) as client:
            deliverer = Deliverer(consumer, publisher, client, settings, forgotten)
            consumer.subscribe(list(TOPICS), listener=StartAtTheEnd(deliverer))
            await deliverer.run(stopping)
    finally:
        await consumer.stop()
        await publisher.stop()
        await erasures.stop()
