"""Topic creation and checks, broker health and the cluster's brokers, through Kafka's own
admin protocol."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.conn import create_conn
from aiokafka.errors import KafkaError, for_code

from infra.config import FOREVER, Retention
from infra.kafka.connection import KafkaConnection
from infra.kafka.publisher import CONNECT_BACKOFF
from infra.retry import Backoff, retry_async
from infra.kafka.replication import (
    DEFAULT_CLEANUP_POLICY, ExistingTopic, TopicMismatch, disagreements, replicated_config, replication_factor,
)
from schemas.topics import ALL_TOPICS, DAY_MS, DEAD_LETTER, ERASURES, EVENT_TOPICS, WEBHOOKS_DEAD, Topic

TOPIC_ALREADY_EXISTS = 36
# Where a described config value comes from (DescribeConfigs v1 and later): set on the topic.
DYNAMIC_TOPIC_CONFIG = 1
KEEP_FOR_EVER_MS = -1
# How long a topic may be missing from a broker's metadata after it was created.
METADATA_BACKOFF = Backoff(initial_s=0.2, max_s=1)
METADATA_ATTEMPTS = 20


def retention_ms(days: int) -> int:
    return KEEP_FOR_EVER_MS if days == FOREVER else days * DAY_MS


def configured_topics(retention: Retention) -> tuple[Topic, ...]:
    """Every topic, with the configured retention in place of its default where it goes by age."""
    days = {topic.name: retention.event_topics_days for topic in EVENT_TOPICS}
    # Both dead-letter topics: refused messages and webhook deliveries given up on.
    days[DEAD_LETTER.name] = days[WEBHOOKS_DEAD.name] = retention.dead_letter_topic_days
    days[ERASURES.name] = retention.erasures_topic_days
    return tuple(topic.retained_for(retention_ms(days[topic.name])) if topic.name in days else topic for topic in ALL_TOPICS)


def _raise_for(resources: Iterable[tuple], doing: str) -> None:
    """Kafka's per-topic answers to a config request: (error code, message, type, name, …)."""
    for code, message, _, name, *_ in resources:
        if code != 0:
            raise RuntimeError(f"{doing} topic {name} failed with Kafka error {code}: {message}")


def _admin(connection: KafkaConnection, client_id: str, **options: Any) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(client_id=client_id, **connection.client_options(), **options)


async def _described(admin: AIOKafkaAdminClient, topics: list[Topic]) -> dict[str, list[tuple[str, str, int]]]:
    """Each topic's configuration entries: (key, value, where the value comes from); asked
    again for a moment while the broker asked does not know a topic yet."""

    async def describe() -> dict[str, list[tuple[str, str, int]]]:
        found: dict[str, list[tuple[str, str, int]]] = {}
        for response in await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic.name) for topic in topics]):
            for code, message, _, name, entries in response.resources:
                if code != 0:
                    raise for_code(code)(f"describing topic {name}: {message}")
                found[name] = [(key, value, source) for key, value, _, source, *_ in entries]
        return found

    return await retry_async(describe, KafkaError, METADATA_BACKOFF, METADATA_ATTEMPTS)


def _set_on_topic(entries: list[tuple[str, str, int]]) -> dict[str, str]:
    """The configuration set on the topic itself (not the broker's defaults)."""
    return {key: value for key, value, source in entries if source == DYNAMIC_TOPIC_CONFIG}


async def _reconfigure(admin: AIOKafkaAdminClient, topics: list[Topic], described: dict[str, list[tuple[str, str, int]]]) -> list[str]:
    """Give existing topics the configuration wanted where theirs differs. Kafka's
    AlterConfigs replaces a topic's whole configuration, so what else was set on a topic
    (by an operator, say) is sent back with it."""
    current = {topic.name: _set_on_topic(described[topic.name]) for topic in topics}
    changed = [topic for topic in topics if any(current[topic.name].get(key) != value for key, value in topic.config.items())]
    if changed:
        resources = [ConfigResource(ConfigResourceType.TOPIC, topic.name, {**current[topic.name], **topic.config}) for topic in changed]
        for response in await admin.alter_configs(resources):
            _raise_for(response.resources, "configuring")
    return [topic.name for topic in changed]


async def _partition_metadata(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Each topic's partitions as the cluster describes them (leader, replicas, in-sync
    replicas), asked again for a moment while a broker does not know a topic yet (one
    created a moment ago, by another client, can be missing from its metadata)."""

    async def describe() -> dict[str, list[dict[str, Any]]]:
        found = {}
        for topic in await admin.describe_topics(names):
            if topic["error_code"] != 0:
                raise for_code(topic["error_code"])(f"describing topic {topic['topic']}")
            found[topic["topic"]] = topic["partitions"]
        return found

    return await retry_async(describe, KafkaError, METADATA_BACKOFF, METADATA_ATTEMPTS)


def _existing(
    topics: list[Topic], partitions: dict[str, list[dict[str, Any]]], described: dict[str, list[tuple[str, str, int]]],
) -> list[ExistingTopic]:
    return [
        ExistingTopic(
            name=topic.name,
            partitions=len(partitions[topic.name]),
            replication=min((len(p["replicas"]) for p in partitions[topic.name]), default=0),
            cleanup_policy=next((value for key, value, _ in described[topic.name] if key == "cleanup.policy"), DEFAULT_CLEANUP_POLICY),
        )
        for topic in topics
    ]


async def broker_count(admin: AIOKafkaAdminClient) -> int:
    return len((await admin.describe_cluster())["brokers"])


async def ensure_topics(connection: KafkaConnection, wanted: Iterable[Topic], replication: int | None = None,
                        cluster_size: int | None = None) -> list[str]:
    """Create the topics that do not exist yet, replicated as the cluster allows
    (infra.kafka.replication), and reconfigure those whose configuration (their retention,
    say) differs from the one wanted; returns the names created or reconfigured. An
    existing topic whose partitions, replicas or cleanup policy disagree is refused
    (TopicMismatch) before anything changes. Re-runnable: a second run changes nothing.
    `cluster_size` is the brokers a caller knows the cluster has (one it started and saw
    whole); without it, the brokers the cluster lists alive now."""
    admin = _admin(connection, "footfall-admin")
    await admin.start()
    try:
        factor = replication_factor(replication, cluster_size or await broker_count(admin))
        wanted = [topic.configured(replicated_config(factor)) for topic in wanted]
        existing = set(await admin.list_topics())
        missing = [topic for topic in wanted if topic.name not in existing]
        present = [topic for topic in wanted if topic.name in existing]
        changed = await _checked_and_reconfigured(admin, present, factor)
        if not missing:
            return changed
        new = [NewTopic(topic.name, num_partitions=topic.partitions, replication_factor=factor, topic_configs=topic.config) for topic in missing]
        response = await admin.create_topics(new)
        there = set()
        for name, code, *rest in response.topic_errors:
            if code == TOPIC_ALREADY_EXISTS:
                there.add(name)
            elif code != 0:
                raise RuntimeError(f"creating topic {name} failed with Kafka error {code}: {rest}")
        # Created meanwhile by someone else (another footfall starting, an operator): checked as any existing topic.
        raced = [topic for topic in missing if topic.name in there]
        changed += await _checked_and_reconfigured(admin, raced, factor)
        return [topic.name for topic in missing if topic.name not in there] + changed
    finally:
        await admin.close()


async def _checked_and_reconfigured(admin: AIOKafkaAdminClient, present: list[Topic], factor: int) -> list[str]:
    """Refuse existing topics that disagree (TopicMismatch, naming each) before changing
    any; then reconfigure those whose configuration differs."""
    if not present:
        return []
    partitions = await _partition_metadata(admin, [topic.name for topic in present])
    described = await _described(admin, present)
    found = {topic.name: topic for topic in _existing(present, partitions, described)}
    problems = [problem for topic in present for problem in disagreements(topic, factor, found[topic.name])]
    if problems:
        raise TopicMismatch(problems)
    return await _reconfigure(admin, present, described)


async def _replication(connection: KafkaConnection, configured: int | None) -> int:
    admin = _admin(connection, "footfall-admin")
    await admin.start()
    try:
        return replication_factor(configured, await broker_count(admin))
    finally:
        await admin.close()


async def cluster_replication(connection: KafkaConnection, configured: int | None, attempts: int = 30) -> int:
    """The replication factor on this cluster (infra.kafka.replication), asking it again for
    a while: a worker may start while the brokers still do."""
    return await retry_async(lambda: _replication(connection, configured), KafkaError, CONNECT_BACKOFF, attempts)


async def _connect_error(connection: KafkaConnection, timeout_s: float, diagnose: bool) -> str | None:
    """Why the cluster does not answer, or None; `diagnose` asks each broker for the cause,
    which only a refusal shown to someone needs (a poll only needs to know)."""
    admin = _admin(connection, "footfall-health", request_timeout_ms=int(timeout_s * 1000))
    try:
        async with asyncio.timeout(timeout_s):
            await admin.start()
            await admin.describe_cluster()
            return None
    except TimeoutError:
        return f"no answer within {timeout_s:.0f}s"
    except (KafkaError, OSError) as exc:
        return (await _why_not(connection, timeout_s) if diagnose else None) or _described_error(exc)
    finally:
        await admin.close()


def _described_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


async def _why_not(connection: KafkaConnection, timeout_s: float) -> str | None:
    """What each broker says to one connection of its own: the admin client only reports
    that it could not bootstrap, this names the cause (refused credentials, a certificate
    the CA did not sign, nothing listening)."""
    options = connection.client_options()
    del options["bootstrap_servers"]
    causes = []
    for address in connection.brokers:
        host, _, port = address.rpartition(":")
        try:
            async with asyncio.timeout(timeout_s):
                (await create_conn(host.strip("[]"), int(port), request_timeout_ms=int(timeout_s * 1000), **options)).close()
        except (KafkaError, OSError, TimeoutError) as exc:  # ssl.SSLError is an OSError
            causes.append(f"{address}: {_described_error(exc)}")
    return "; ".join(causes) or None


def connect_error(connection: KafkaConnection, timeout_s: float = 10.0) -> str | None:
    """Why the cluster cannot be used (unreachable, TLS refused, wrong credentials), or None
    when it answers: what `footfall up` says before refusing an external cluster."""
    return asyncio.run(_connect_error(connection, timeout_s, diagnose=True))


def broker_answers(connection: KafkaConnection, timeout_s: float = 3.0) -> bool:
    """Whether the cluster answers an admin request now (not merely accepts connections)."""
    return asyncio.run(_connect_error(connection, timeout_s, diagnose=False)) is None


def create_topics(connection: KafkaConnection, retention: Retention, replication: int | None = None,
                  cluster_size: int | None = None) -> list[str]:
    """ensure_topics of every topic, with the configured retention, for callers without an event loop."""
    return asyncio.run(ensure_topics(connection, configured_topics(retention), replication, cluster_size))


@dataclass(frozen=True, order=True)
class BrokerState:
    """One broker as the cluster metadata shows it."""

    node_id: int
    address: str
    # Partitions of footfall's topics it leads now.
    leads: int


async def _brokers(connection: KafkaConnection, timeout_s: float) -> list[BrokerState]:
    admin = _admin(connection, "footfall-status", request_timeout_ms=int(timeout_s * 1000))
    try:
        async with asyncio.timeout(timeout_s):
            await admin.start()
            cluster = await admin.describe_cluster()
            names = sorted(set(await admin.list_topics()) & {topic.name for topic in ALL_TOPICS})
            partitions = await _partition_metadata(admin, names) if names else {}
    finally:
        await admin.close()
    leaders = Counter(p["leader"] for topic in partitions.values() for p in topic)
    return sorted(
        BrokerState(b["node_id"], f"{b['host']}:{b['port']}", leaders[b["node_id"]]) for b in cluster["brokers"]
    )


def brokers(connection: KafkaConnection, timeout_s: float = 5.0) -> list[BrokerState]:
    """The brokers the cluster knows alive now, each with the footfall partitions it leads;
    raises KafkaError, OSError or TimeoutError when the cluster does not answer."""
    return asyncio.run(_brokers(connection, timeout_s))


async def _topic_size(connection: KafkaConnection, topic: Topic) -> int:
    consumer = AIOKafkaConsumer(enable_auto_commit=False, **connection.client_options())
    await consumer.start()
    try:
        ends = await consumer.end_offsets([TopicPartition(topic.name, p) for p in range(topic.partitions)])
        return sum(ends.values())
    finally:
        await consumer.stop()


def topic_size(connection: KafkaConnection, topic: Topic) -> int:
    """How many records a topic has ever received: its partitions' end offsets added up."""
    return asyncio.run(_topic_size(connection, topic))
