"""footfall on a real 3-node KRaft cluster on loopback (the same jars as the single broker):
replicated topics as the broker describes them, an existing topic that disagrees refused,
the pipeline end to end through the collector to ClickHouse, and `footfall up` using
brokers it did not start, or starting a cluster of its own with `--brokers 3`."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from footfall.local.kafka_broker import Broker
from footfall.local.processes import Registry, free_port
from infra.kafka.admin import ensure_topics
from infra.kafka.replication import TopicMismatch
from schemas.topics import ALL_TOPICS, EVENTS
from tests.support.cli_runs import footfall as run
from tests.support.cli_runs import stack_env
from tests.support.pipeline import CLUSTER_HEAP, start_pipeline
from tests.support.visits import assert_landed_exactly, send_visits
from tests.support.waiting import wait_for



async def described(bootstrap: str, names: list[str]) -> tuple[dict[str, list[dict]], dict[str, dict[str, str]]]:
    """The topics' partitions and their effective configuration, as the brokers report them."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        partitions = {topic["topic"]: topic["partitions"] for topic in await admin.describe_topics(names)}
        responses = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name) for name in names])
        configs = {
            name: {key: value for key, value, *_ in entries}
            for response in responses for _, _, _, name, entries in response.resources
        }
        return partitions, configs
    finally:
        await admin.close()


def shown(bootstrap: str, names: list[str]) -> tuple[dict[str, list[dict]], dict[str, dict[str, str]]]:
    """`described` once the broker asked shows every topic's partitions and configuration:
    one that has only just learnt of a topic can describe it without them."""
    seen: list[tuple[dict[str, list[dict]], dict[str, dict[str, str]]]] = []

    def complete() -> bool | str:
        # The description checked is the one returned: asking again may reach a broker that lags.
        seen[:] = [asyncio.run(described(bootstrap, names))]
        partitions, configs = seen[0]
        return all(partitions.get(name) and configs.get(name) for name in names) or "not every topic described yet"

    wait_for(complete, 30, "the topics' configuration")
    return seen[0]


def test_every_topic_has_three_replicas_two_in_sync_required_and_no_unclean_leader(cluster: Broker) -> None:
    names = [topic.name for topic in ALL_TOPICS]
    partitions, configs = shown(cluster.bootstrap, names)
    for topic in ALL_TOPICS:
        assert len(partitions[topic.name]) == topic.partitions, topic.name
        assert all(sorted(p["replicas"]) == [1, 2, 3] for p in partitions[topic.name]), partitions[topic.name]
        assert configs[topic.name]["min.insync.replicas"] == "2", topic.name
        assert configs[topic.name]["unclean.leader.election.enable"] == "false", topic.name
    # Leadership is spread: every node leads some of the events topic's partitions.
    assert {p["leader"] for p in partitions[EVENTS.name]} == {1, 2, 3}
    # Creating them again changes nothing.
    assert asyncio.run(ensure_topics(cluster.connection, ALL_TOPICS)) == []


async def create_raw(bootstrap: str, name: str, partitions: int, replicas: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=replicas)])
    finally:
        await admin.close()


def test_an_existing_topic_that_disagrees_is_refused_naming_it_and_what_differs(cluster: Broker) -> None:
    name = f"test.{uuid.uuid4().hex[:8]}.events"
    asyncio.run(create_raw(cluster.bootstrap, name, partitions=2, replicas=1))
    wanted = replace(EVENTS, name=name)
    with pytest.raises(TopicMismatch) as refused:
        asyncio.run(ensure_topics(cluster.connection, [wanted]))
    assert refused.value.problems == [
        f"topic {name} has 2 partition(s), footfall needs 6",
        f"topic {name} has 1 replica(s), footfall needs 3 (FOOTFALL_KAFKA_REPLICATION)",
    ]
    # Nothing was changed on the refused topic.
    _, configs = shown(cluster.bootstrap, [name])
    assert configs[name]["min.insync.replicas"] == "1"


def test_a_replication_above_the_brokers_is_refused(cluster: Broker) -> None:
    with pytest.raises(ValueError, match=r"FOOTFALL_KAFKA_REPLICATION is 4 but the Kafka cluster has 3 broker\(s\)"):
        asyncio.run(ensure_topics(cluster.connection, [replace(EVENTS, name=f"test.{uuid.uuid4().hex[:8]}")], replication=4))


def test_the_pipeline_gives_exact_sessions_on_the_cluster(cluster: Broker, tmp_path: Path) -> None:
    pipeline = start_pipeline(cluster, tmp_path)
    try:
        run_id = uuid.uuid4().hex[:8]
        assert_landed_exactly(pipeline, run_id, send_visits(pipeline.collector.url, run_id))
    finally:
        pipeline.stop()


def test_up_uses_brokers_it_did_not_start_and_status_shows_each(cluster: Broker, tmp_path: Path) -> None:
    env = {**stack_env(tmp_path), "FOOTFALL_KAFKA_BOOTSTRAP": cluster.bootstrap}
    try:
        up = run(["up", "--detach"], env)
        assert up.returncode == 0, up.stdout + up.stderr
        assert f"using kafka at {cluster.bootstrap}, not started by footfall" in up.stdout.replace("\n", "")
        started = Registry(tmp_path / "state" / "stack.json").load()
        assert {p.name for p in started} == {"collector", "processors", "sink"}

        url = f"http://127.0.0.1:{env['FOOTFALL_COLLECTOR_PORT']}/v1/track"
        event = {"event": "On the cluster", "anonymousId": f"cluster-{uuid.uuid4().hex[:8]}"}
        assert httpx.post(url, json=event, auth=("shop_key", "")).status_code == 200

        status = run(["status"], env)
        assert status.returncode == 0, status.stdout
        rows = [line for line in status.stdout.splitlines() if "127.0.0.1" in line and ("up" in line or "down" in line)]
        for node in cluster.nodes:
            assert any(f" {node.node_id} " in row and node.bootstrap in row and " up " in row for row in rows), status.stdout

        def landed_once() -> object:
            sql = f"SELECT count() AS n FROM footfall.events WHERE anonymous_id = '{event['anonymousId']}'"
            answer = run(["query", "--format", "tsv", sql], env)
            return True if answer.stdout.splitlines()[-1:] == ["1"] else answer.stdout + answer.stderr

        wait_for(landed_once, 90, "the event in ClickHouse")
        assert run(["down"], env).returncode == 0
        assert cluster.answers(), "down must leave brokers footfall did not start running"
    finally:
        run(["down"], env)


def test_up_refuses_brokers_it_cannot_reach_and_starts_nothing(tmp_path: Path) -> None:
    env = {**stack_env(tmp_path), "FOOTFALL_KAFKA_BOOTSTRAP": "kafka.invalid:9092"}
    up = run(["up", "--detach"], env)
    assert up.returncode == 1
    assert "kafka at kafka.invalid:9092 cannot be used" in up.stdout.replace("\n", " ")
    assert Registry(tmp_path / "state" / "stack.json").load() == []


def test_up_with_brokers_starts_a_local_cluster_and_status_shows_each_broker(tmp_path: Path) -> None:
    # Ports two apart from the configured ones: a base whose neighbours are free too.
    base, controller = free_port(), free_port()
    env = {
        **stack_env(tmp_path),
        "FOOTFALL_KAFKA_BOOTSTRAP": f"127.0.0.1:{base}",
        "FOOTFALL_KAFKA_CONTROLLER_PORT": str(controller),
        "FOOTFALL_KAFKA_HEAP": CLUSTER_HEAP,
    }
    try:
        up = run(["up", "--detach", "--brokers", "3"], env)
        assert up.returncode == 0, up.stdout + up.stderr
        for node_id in (1, 2, 3):
            assert f"kafka-{node_id} is up" in up.stdout
        status = run(["status"], env)
        assert status.returncode == 0, status.stdout
        for node_id, port in ((1, base), (2, base + 2), (3, base + 4)):
            row = next(line for line in status.stdout.splitlines() if f"127.0.0.1:{port} " in line and ("up" in line or "down" in line) and "kafka" not in line)
            assert row.split("│")[1].strip() == str(node_id) and " up " in row, status.stdout
        partitions, configs = shown(",".join(f"127.0.0.1:{base + 2 * i}" for i in range(3)), [EVENTS.name])
        assert all(len(p["replicas"]) == 3 for p in partitions[EVENTS.name])
        assert configs[EVENTS.name]["min.insync.replicas"] == "2"
    finally:
        run(["down"], env)
