"""How many replicas footfall's topics get on a cluster, and whether an existing topic agrees.

Pure rules, apart from any client, so that the defaulting is tested on its own: the admin
calls (infra.kafka.admin) ask the cluster how many brokers it has and apply these.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.topics import Topic

# Three copies survive one broker down while another is restarted; more rarely pays.
DEFAULT_REPLICATION = 3
# With three copies or more a write is acknowledged once two hold it (acks=all): one broker
# may be lost without losing an acknowledged event, or stopping the writes.
MIN_INSYNC_WHEN_REPLICATED = 2
DEFAULT_CLEANUP_POLICY = "delete"


def replication_factor(configured: int | None, brokers: int) -> int:
    """FOOTFALL_KAFKA_REPLICATION when set, else 3 on a cluster of 3 brokers or more and one
    per broker below; refused when the cluster has fewer brokers than the factor asks for."""
    if brokers < 1:
        raise ValueError("the Kafka cluster reports no brokers")
    if configured is None:
        return min(DEFAULT_REPLICATION, brokers)
    if configured > brokers:
        raise ValueError(
            f"FOOTFALL_KAFKA_REPLICATION is {configured} but the Kafka cluster has {brokers} broker(s); "
            "lower it or add brokers"
        )
    return configured


def min_insync_replicas(factor: int) -> int:
    return MIN_INSYNC_WHEN_REPLICATED if factor >= DEFAULT_REPLICATION else 1


def replicated_config(factor: int) -> dict[str, str]:
    """What every topic is created with besides its own configuration: how many copies must
    hold a write, and no out-of-sync replica ever made leader (it would drop acknowledged
    records)."""
    return {"min.insync.replicas": str(min_insync_replicas(factor)), "unclean.leader.election.enable": "false"}


@dataclass(frozen=True)
class ExistingTopic:
    """What the cluster says of a topic that is already there."""

    name: str
    partitions: int
    # The fewest replicas any of its partitions has.
    replication: int
    cleanup_policy: str


def disagreements(wanted: Topic, factor: int, found: ExistingTopic) -> list[str]:
    """How an existing topic differs from the one footfall needs, in words naming it;
    empty when it agrees. None of these can be changed in place without moving data, so
    footfall refuses rather than run on a topic that would lose order or events."""
    problems = []
    if found.partitions != wanted.partitions:
        problems.append(f"has {found.partitions} partition(s), footfall needs {wanted.partitions}")
    if found.replication < factor:
        problems.append(f"has {found.replication} replica(s), footfall needs {factor} (FOOTFALL_KAFKA_REPLICATION)")
    policy = wanted.config.get("cleanup.policy", DEFAULT_CLEANUP_POLICY)
    if sorted(found.cleanup_policy.split(",")) != sorted(policy.split(",")):
        problems.append(f"has cleanup.policy={found.cleanup_policy}, footfall needs {policy}")
    return [f"topic {found.name} {problem}" for problem in problems]


class TopicMismatch(RuntimeError):
    """Existing topics disagree with what footfall needs; the message names each."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("existing Kafka topics disagree with footfall: " + "; ".join(problems))
