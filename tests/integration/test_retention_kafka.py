"""Topic retention against the real broker: topics are created with the configured
retention, an existing topic whose retention differs is reconfigured without losing what
else is set on it, and a second run changes nothing."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from footfall.local.kafka_broker import Broker
from infra.config import Retention
from infra.kafka.admin import configured_topics, ensure_topics
from schemas.topics import DAY_MS, DEAD_LETTER, ERASURES, EVENTS, VISITORS_CHANGELOG, Topic
from tests.support.waiting import wait_for

SET_ON_TOPIC = 1


def renamed(topics: tuple[Topic, ...], prefix: str) -> list[Topic]:
    """footfall's topics under names of this test's own, on the suite's broker."""
    return [replace(topic, name=f"{prefix}{topic.name}") for topic in topics]


async def configs(bootstrap: str, names: list[str]) -> dict[str, dict[str, str]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name) for name in names])
        return {
            name: {key: value for key, value, _, source, *_ in entries if source == SET_ON_TOPIC}
            for response in described for _, _, _, name, entries in response.resources
        }
    finally:
        await admin.close()


async def set_by_an_operator(bootstrap: str, name: str, config: dict[str, str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, name, config)])
    finally:
        await admin.close()


def described(bootstrap: str, names: list[str], wanted: list[Topic]) -> dict[str, dict[str, str]]:
    """The topics' configs once the broker shows what was last set (it applies them shortly
    after answering)."""
    def shown() -> object:
        now = asyncio.run(configs(bootstrap, names))
        return True if all(now[topic.name].get("retention.ms") == str(topic.retention_ms) for topic in wanted) else now
    wait_for(shown, 30, "the topics' configuration")
    return asyncio.run(configs(bootstrap, names))


def test_topics_get_the_configured_retention_and_existing_ones_are_reconfigured(kafka: Broker) -> None:
    prefix = f"test.retention.{uuid.uuid4().hex[:8]}."
    first = renamed(configured_topics(Retention(event_topics_days=3, dead_letter_topic_days=10, erasures_topic_days=20)), prefix)
    later = renamed(configured_topics(Retention(event_topics_days=2, dead_letter_topic_days=0, erasures_topic_days=0)), prefix)
    names = [topic.name for topic in first]
    events, dead_letters, erasures, changelog = (prefix + topic.name for topic in (EVENTS, DEAD_LETTER, ERASURES, VISITORS_CHANGELOG))

    def ensure(topics: list[Topic]) -> list[str]:
        return asyncio.run(ensure_topics(kafka.connection, topics))

    assert sorted(ensure(first)) == sorted(names)
    created = described(kafka.bootstrap, names, first)
    assert created[events]["retention.ms"] == str(3 * DAY_MS)
    assert created[dead_letters]["retention.ms"] == str(10 * DAY_MS)
    assert created[erasures] == {
        "retention.ms": str(20 * DAY_MS), "cleanup.policy": "compact,delete", "segment.ms": str(DAY_MS),
        # One broker: one replica, of which one must hold a write.
        "min.insync.replicas": "1", "unclean.leader.election.enable": "false",
    }
    assert created[changelog]["cleanup.policy"] == "compact"
    assert ensure(first) == []

    operators = {**created[erasures], "max.message.bytes": "2000000"}
    asyncio.run(set_by_an_operator(kafka.bootstrap, erasures, operators))
    wait_for(lambda: asyncio.run(configs(kafka.bootstrap, [erasures]))[erasures] == operators, 30, "the operator's setting")
    reconfigured = ensure(later)
    # Every topic that goes by age changed; the compacted changelogs did not.
    assert changelog not in reconfigured and {events, dead_letters, erasures} <= set(reconfigured)
    now = described(kafka.bootstrap, names, later)
    assert now[events]["retention.ms"] == str(2 * DAY_MS)
    assert now[dead_letters]["retention.ms"] == "-1"
    assert now[erasures] == {
        "retention.ms": "-1", "cleanup.policy": "compact,delete", "segment.ms": str(DAY_MS), "max.message.bytes": "2000000",
        "min.insync.replicas": "1", "unclean.leader.election.enable": "false",
    }
    assert now[changelog] == created[changelog]
    assert ensure(later) == []
