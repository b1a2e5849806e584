"""How footfall's Faust apps are configured, in one place: the worker is built with it,
and the benchmark's empty agent too, so the framework's own ceiling is measured under the
same settings."""

from __future__ import annotations

import logging
import os

import faust

from faust.types.auth import SASLMechanism

from infra.config import Settings
from infra.kafka.connection import KafkaConnection
from processors.runtime.transport import PromptTransport
from schemas.topics import EVENTS


def faust_credentials(connection: KafkaConnection) -> faust.types.auth.CredentialsT | None:
    """Faust's broker_credentials for footfall's connection: the same TLS context and SASL
    credentials the other stages' clients use (None in plain text)."""
    if connection.uses_sasl:
        assert connection.sasl_password is not None  # KafkaConnection requires it with SASL
        return faust.SASLCredentials(
            username=connection.sasl_username,
            password=connection.sasl_password.get_secret_value(),
            ssl_context=connection.ssl_context(),
            mechanism=SASLMechanism(connection.sasl_mechanism),
        )
    if connection.uses_ssl:
        return faust.SSLCredentials(connection.ssl_context())
    return None


def new_app(app_id: str, settings: Settings) -> faust.App:
    """A Faust app on footfall's broker, with the prompt transport and quiet client logs."""
    data_dir = settings.state_dir / "processors" / str(os.getpid())
    data_dir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        app_id,
        broker=";".join(f"kafka://{address}" for address in settings.kafka.brokers),
        broker_credentials=faust_credentials(settings.kafka),
        # The topics Faust would create itself (footfall creates its own up front) get the
        # cluster's replication too; `python -m processors` resolves it against the cluster.
        topic_replication_factor=settings.kafka_replication or 1,
        store="memory://",
        datadir=str(data_dir),
        topic_partitions=EVENTS.partitions,
        # Each visitor's state lives with the partition that owns it; a standby copy on
        # another worker would be touched by that worker's timer too.
        table_standby_replicas=0,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.processor_session_timeout_s,
        # Faust's fetch defaults (a few hundred records, 1 MB, per poll) cap a worker's rate
        # whatever its agent does; larger polls, and room for several batches between the
        # fetcher and the agent, lift that cap.
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
    app.transport = PromptTransport(app.conf.broker_consumer, app)
    app.task(_quiet_client_logs)
    return app


async def _quiet_client_logs() -> None:
    """Faust leaves its clients' loggers at DEBUG once the worker starts: every record they
    build and drop costs the worker time on every event."""
    for name in ("aiokafka", "faust", "mode"):
        logging.getLogger(name).setLevel(logging.WARNING)
