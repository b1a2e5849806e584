"""How footfall's Faust apps are configured, in one place: the sessioniser runs with it,
and the benchmark's empty agent too, so the framework's own ceiling is measured under the
same settings."""

from __future__ import annotations

import logging
import os

import faust
from faust.transport.drivers import aiokafka as kafka_driver

from footfall.settings import Settings
from schemas.topics import EVENTS


# How long the broker may hold a fetch that finds nothing new. Faust fixes it at 1.5 s, and
# in some runs a worker then settles into receiving its events about a second late in
# every fetch, whatever the traffic; with a short wait that lag cannot build up.
FETCH_MAX_WAIT_MS = 100


class _PromptConsumerThread(kafka_driver.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: kafka_driver.Transport) -> kafka_driver.aiokafka.AIOKafkaConsumer:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS  # read when the consumer starts
        return consumer


class _PromptConsumer(kafka_driver.Consumer):
    def _new_consumer_thread(self) -> kafka_driver.AIOKafkaConsumerThread:
        return _PromptConsumerThread(self, loop=self.loop, beacon=self.beacon)


class _PromptTransport(kafka_driver.Transport):
    """Faust's Kafka transport, its consumer with a short fetch wait."""

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

