"""Topic creation and broker health, through Kafka's own admin protocol."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError

from infra.config import FOREVER, Retention
from schemas.topics import ALL_TOPICS, DAY_MS, DEAD_LETTER, ERASURES, EVENT_TOPICS, WEBHOOKS_DEAD, Topic

TOPIC_ALREADY_EXISTS = 36
# Where a described config value comes from (DescribeConfigs v1 and later): set on the topic.
DYNAMIC_TOPIC_CONFIG = 1
KEEP_FOR_EVER_MS = -1


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


async def _set_on_topics(admin: AIOKafkaAdminClient, topics: list[Topic]) -> dict[str, dict[str, str]]:
    """Each topic's configuration set on the topic itself (not the broker's defaults)."""
    described = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic.name) for topic in topics])
    found: dict[str, dict[str, str]] = {}
    for response in described:
        _raise_for(response.resources, "describing")
        for _, _, _, name, entries in response.resources:
            found[name] = {key: value for key, value, _, source, *_ in entries if source == DYNAMIC_TOPIC_CONFIG}
    return found


async def _reconfigure(admin: AIOKafkaAdminClient, topics: list[Topic]) -> list[str]:
    """Give existing topics the configuration wanted where theirs differs. Kafka's
    AlterConfigs replaces a topic's whole configuration, so what else was set on a topic
    (by an operator, say) is sent back with it."""
    current = await _set_on_topics(admin, topics)
    changed = [topic for topic in topics if any(current[topic.name].get(key) != value for key, value in topic.config.items())]
    if changed:
        resources = [ConfigResource(ConfigResourceType.TOPIC, topic.name, {**current[topic.name], **topic.config}) for topic in changed]
        for response in await admin.alter_configs(resources):
            _raise_for(response.resources, "configuring")
    return [topic.name for topic in changed]


async def ensure_topics(bootstrap: str, wanted: Iterable[Topic]) -> list[str]:
    """Create the topics that do not exist yet and reconfigure those whose configuration
    (their retention, say) differs from the one wanted; returns the names created or
    reconfigured. Re-runnable: a second run changes nothing."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="footfall-admin")
    await admin.start()
    try:
        wanted = list(wanted)
        existing = set(await admin.list_topics())
        missing = [topic for topic in wanted if topic.name not in existing]
        present = [topic for topic in wanted if topic.name in existing]
        changed = await _reconfigure(admin, present) if present else []
        if missing:
            new = [
                NewTopic(topic.name, num_partitions=topic.partitions, replication_factor=1, topic_configs=topic.config)
                for topic in missing
            ]
            response = await admin.create_topics(new)
            for name, code, *rest in response.topic_errors:
                if code not in (0, TOPIC_ALREADY_EXISTS):
                    raise RuntimeError(f"creating topic {name} failed with Kafka error {code}: {rest}")
        return [topic.name for topic in missing] + changed
    finally:
        await admin.close()


async def _broker_answers(bootstrap: str, timeout_s: float) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="footfall-health", request_timeout_ms=int(timeout_s * 1000))
    try:
        async with asyncio.timeout(timeout_s):
            await admin.start()
            await admin.describe_cluster()
            return True
    except (TimeoutError, KafkaError, OSError):
        return False
    finally:
        await admin.close()


def broker_answers(bootstrap: str, timeout_s: float = 3.0) -> bool:
    """Whether the broker answers an admin request now (not merely accepts connections)."""
    return asyncio.run(_broker_answers(bootstrap, timeout_s))


def create_topics(bootstrap: str, retention: Retention) -> list[str]:
    """ensure_topics of every topic, with the configured retention, for callers without an event loop."""
    return asyncio.run(ensure_topics(bootstrap, configured_topics(retention)))


async def _topic_size(bootstrap: str, topic: Topic) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        ends = await consumer.end_offsets([TopicPartition(topic.name, p) for p in range(topic.partitions)])
        return sum(ends.values())
    finally:
        await consumer.stop()


def topic_size(bootstrap: str, topic: Topic) -> int:
    """How many records a topic has ever received: its partitions' end offsets added up."""
    return asyncio.run(_topic_size(bootstrap, topic))
