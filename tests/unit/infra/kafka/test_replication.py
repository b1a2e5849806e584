"""The replication rules: how many copies a topic gets on a cluster, and when an existing
topic is refused."""

from __future__ import annotations

import pytest

from infra.kafka.replication import ExistingTopic, TopicMismatch, disagreements, min_insync_replicas, replicated_config, replication_factor
from schemas.topics import ERASURES, EVENTS, VISITORS_CHANGELOG


@pytest.mark.parametrize(("brokers", "factor"), [(1, 1), (2, 2), (3, 3), (4, 3), (12, 3)])
def test_the_default_is_three_copies_or_one_per_broker_below_three(brokers: int, factor: int) -> None:
    assert replication_factor(None, brokers) == factor


def test_a_configured_factor_is_used_as_it_is_when_the_cluster_has_the_brokers() -> None:
    assert replication_factor(2, 5) == 2
    assert replication_factor(5, 5) == 5


def test_a_factor_above_the_brokers_is_refused_naming_both() -> None:
    with pytest.raises(ValueError, match=r"FOOTFALL_KAFKA_REPLICATION is 3 but the Kafka cluster has 2 broker\(s\)"):
        replication_factor(3, 2)


def test_a_cluster_without_brokers_is_refused() -> None:
    with pytest.raises(ValueError, match="no brokers"):
        replication_factor(None, 0)


@pytest.mark.parametrize(("factor", "insync"), [(1, 1), (2, 1), (3, 2), (5, 2)])
def test_two_copies_must_hold_a_write_once_there_are_three(factor: int, insync: int) -> None:
    assert min_insync_replicas(factor) == insync
    assert replicated_config(factor) == {"min.insync.replicas": str(insync), "unclean.leader.election.enable": "false"}


def agreeing(topic, replication: int = 3) -> ExistingTopic:  # type: ignore[no-untyped-def]
    return ExistingTopic(topic.name, topic.partitions, replication, topic.config.get("cleanup.policy", "delete"))


def test_a_topic_as_footfall_makes_it_agrees_and_more_replicas_than_asked_are_fine() -> None:
    for topic in (EVENTS, ERASURES, VISITORS_CHANGELOG):
        assert disagreements(topic, 3, agreeing(topic)) == []
        assert disagreements(topic, 3, agreeing(topic, replication=5)) == []


def test_a_cleanup_policy_agrees_whatever_the_order_of_its_parts() -> None:
    found = ExistingTopic(ERASURES.name, ERASURES.partitions, 3, "delete,compact")
    assert disagreements(ERASURES, 3, found) == []


def test_each_disagreement_names_the_topic_and_what_differs() -> None:
    found = ExistingTopic(EVENTS.name, 3, 1, "compact")
    assert disagreements(EVENTS, 3, found) == [
        "topic footfall.events has 3 partition(s), footfall needs 6",
        "topic footfall.events has 1 replica(s), footfall needs 3 (FOOTFALL_KAFKA_REPLICATION)",
        "topic footfall.events has cleanup.policy=compact, footfall needs delete",
    ]


def test_a_mismatch_lists_every_problem() -> None:
    error = TopicMismatch(["topic a has 1 partition(s), footfall needs 6", "topic b has 1 replica(s), footfall needs 3"])
    assert str(error) == (
        "existing Kafka topics disagree with footfall: topic a has 1 partition(s), footfall needs 6; "
        "topic b has 1 replica(s), footfall needs 3"
    )
