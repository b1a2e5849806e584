"""The local Kafka: the Apache Kafka broker in KRaft mode, one node or a cluster of nodes that
are each broker and controller, run from Maven's jars.

The same code starts the broker for `footfall up` and for the integration tests (on free
ports, in a temporary folder), so what the tests exercise is what users run.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path


from aiokafka.errors import KafkaError

from infra.kafka.admin import broker_answers, brokers, create_topics
from infra.kafka.connection import KafkaConnection
from footfall.local.processes import Started, free_port, port_open, spawn, stop, wait_until
from infra.config import Retention, Settings

START_TIMEOUT_S = 90.0


# Replicas of Kafka's own topics (consumer offsets, transactions) on a local cluster.
INTERNAL_REPLICATION = 3


@dataclass(frozen=True)
class BrokerConfig:
    """One node of a local KRaft cluster: both broker and controller, on loopback."""

    host: str
    port: int
    controller_port: int
    data_dir: Path
    libs: Path
    log4j_config: Path
    heap: str = "768m"
    node_id: int = 1
    # controller.quorum.voters of the whole cluster ("1@host:port,2@…"); empty, the node alone.
    voters: str = ""
    cluster_size: int = 1
    # Properties set over footfall's own (a secured listener, say), as (key, value) pairs.
    overrides: tuple[tuple[str, str], ...] = ()
    # A network namespace to run in: a test cuts a node off the others by its link.
    namespace: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> "BrokerConfig":
        return local_cluster(settings, 1)[0]

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def name(self) -> str:
        """Its part name in the local stack: `kafka` alone, `kafka-<id>` in a cluster."""
        return "kafka" if self.cluster_size == 1 else f"kafka-{self.node_id}"

    @property
    def properties_file(self) -> Path:
        return self.data_dir / "server.properties"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "data"


def cluster_nodes(host: str, ports: list[tuple[int, int]], folder: Path, libs: Path, log4j_config: Path, heap: str) -> list[BrokerConfig]:
    """The nodes of a cluster with these (broker, controller) ports: one alone keeps its
    data in `folder`, those of a cluster each in `folder/node-<id>`."""
    size = len(ports)
    voters = ",".join(f"{node_id}@{host}:{controller}" for node_id, (_, controller) in enumerate(ports, start=1))
    return [
        BrokerConfig(
            host, port, controller, folder if size == 1 else folder / f"node-{node_id}", libs, log4j_config, heap,
            node_id=node_id, voters=voters, cluster_size=size,
        )
        for node_id, (port, controller) in enumerate(ports, start=1)
    ]


def local_cluster(settings: Settings, size: int) -> list[BrokerConfig]:
    """`footfall up --brokers N`: N nodes from the configured broker and controller ports
    up, two apart (9092, 9094, … and 9093, 9095, …); a cluster's data apart from the single
    node's, as the two cannot share a metadata log."""
    host, _, port = settings.kafka.brokers[0].rpartition(":")
    ports = [(int(port) + 2 * i, settings.kafka_controller_port + 2 * i) for i in range(size)]
    folder = settings.state_dir / ("kafka" if size == 1 else f"kafka-{size}")
    return cluster_nodes(host, ports, folder, settings.kafka_libs, settings.deploy_dir / "kafka" / "log4j.properties", settings.kafka_heap)


def all_registered(connection: KafkaConnection, size: int) -> bool:
    """Whether the cluster's metadata lists all its `size` brokers. A cluster answers once a
    majority of controllers run, before every broker has registered: topics created then
    would get the replication of the brokers present, not of the cluster."""
    try:
        return len(brokers(connection)) >= size
    except (KafkaError, OSError, TimeoutError):
        return False


def ready_cluster(connection: KafkaConnection, size: int, retention: Retention, replication: int | None,
                  started: Started | None = None) -> None:
    """Once every one of the cluster's `size` brokers has registered, its topics created,
    replicated for the cluster's size rather than for the brokers one of them lists alive at
    that moment: a broker whose metadata lags, or one fenced for a heartbeat missed on a
    loaded machine, would otherwise leave every topic a replica short for good (the
    controller places replicas on a fenced broker when it must)."""
    wait_until(lambda: all_registered(connection, size), START_TIMEOUT_S, "every Kafka broker registered", started)
    create_topics(connection, retention, replication, cluster_size=size)


def cluster_bootstrap(nodes: list[BrokerConfig]) -> str:
    return ",".join(node.bootstrap for node in nodes)


def server_properties(config: BrokerConfig) -> str:
    """A node that is both broker and controller, reachable only on loopback."""
    internal = min(INTERNAL_REPLICATION, config.cluster_size)
    lines = {
        "process.roles": "broker,controller",
        "node.id": str(config.node_id),
        "controller.quorum.voters": config.voters or f"{config.node_id}@{config.host}:{config.controller_port}",
        "listeners": f"PLAINTEXT://{config.host}:{config.port},CONTROLLER://{config.host}:{config.controller_port}",
        "advertised.listeners": f"PLAINTEXT://{config.host}:{config.port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(config.log_dir),
        # Kafka's own topics as replicated as the cluster allows, as footfall's are.
        "offsets.topic.replication.factor": str(internal),
        "offsets.topic.num.partitions": "12",
        "transaction.state.log.replication.factor": str(internal),
        "transaction.state.log.min.isr": str(min(2, internal)),
        "group.initial.rebalance.delay.ms": "0",
        # Topics are created by footfall with their own partitions and retention.
        "auto.create.topics.enable": "false",
        "num.partitions": "1",
        **dict(config.overrides),
    }
    return "".join(f"{key}={value}\n" for key, value in lines.items())


def cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding. Like Kafka's
    own, never one starting with "-", which the storage tool would read as an option."""
    while True:
        candidate = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not candidate.startswith("-"):
            return candidate


def check_libs(libs: Path) -> None:
    if not any(libs.glob("kafka_2.13-*.jar")):
        raise FileNotFoundError(f"no Kafka jars in {libs}; run `make setup` to fetch them with Maven")


def java() -> str:
    found = shutil.which("java")
    if found is None:
        raise FileNotFoundError("java is not installed; run `make setup`")
    return found


def java_command(config: BrokerConfig, main_class: str, *args: str, heap: str = "256m") -> list[str]:
    return [
        java(),
        f"-Xmx{heap}",
        "-XX:+UseG1GC",
        f"-Dlog4j.configuration=file:{config.log4j_config}",
        "-cp",
        f"{config.libs}/*",
        main_class,
        *args,
    ]


def formatted_cluster_id(config: BrokerConfig) -> str | None:
    """The cluster id a node's storage was formatted with, or None when it is not yet."""
    meta = config.log_dir / "meta.properties"
    if not meta.exists():
        return None
    for line in meta.read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "cluster.id":
            return value.strip()
    return None


def format_storage(config: BrokerConfig, cluster: str) -> list[str] | None:
    """The command that formats the log folder for KRaft, or None when it already is."""
    if (config.log_dir / "meta.properties").exists():
        return None
    return java_command(
        config, "kafka.tools.StorageTool", "format", "-t", cluster, "-c", str(config.properties_file)
    )


def prepare(nodes: list[BrokerConfig]) -> None:
    """Write each node's configuration and format the storage of those new, all with the
    cluster id any of them already has (every node of a cluster must share it)."""
    check_libs(nodes[0].libs)
    cluster = next((found for found in map(formatted_cluster_id, nodes) if found), None) or cluster_id()
    for config in nodes:
        config.data_dir.mkdir(parents=True, exist_ok=True)
        config.properties_file.write_text(server_properties(config))
        formatting = format_storage(config, cluster)
        if formatting is not None:
            formatted = subprocess.run(formatting, capture_output=True, text=True)
            if formatted.returncode != 0:
                raise RuntimeError(f"formatting Kafka storage of node {config.node_id} failed: {formatted.stdout}{formatted.stderr}")


def spawn_node(config: BrokerConfig, log: Path) -> Started:
    """Start a prepared node; it answers once a majority of its cluster's controllers run."""
    command = java_command(config, "kafka.Kafka", str(config.properties_file), heap=config.heap)
    inside = ["ip", "netns", "exec", config.namespace] if config.namespace else []  # which then execs java
    return spawn(config.name, inside + command, log, config.bootstrap)


@dataclass
class Broker:
    """Brokers this process owns (one, or the nodes of a local cluster), which can be
    stopped and started again on the same data, together or one node at a time (tests
    inject outages with it; benchmarks measure against it)."""

    nodes: list[BrokerConfig]
    logs: Path
    retention: Retention
    processes: dict[int, Started] = field(default_factory=dict)
    # How footfall's clients reach a broker with a secured listener; unset, in plain text.
    secured: KafkaConnection | None = None

    @property
    def bootstrap(self) -> str:
        return cluster_bootstrap(self.nodes)

    @property
    def connection(self) -> KafkaConnection:
        return self.secured or KafkaConnection(bootstrap=self.bootstrap)

    @property
    def config(self) -> BrokerConfig:
        """The first node's configuration (the only one of a single broker)."""
        return self.nodes[0]

    @property
    def process(self) -> Started | None:
        """The first node's process (the only one of a single broker)."""
        return self.processes.get(self.nodes[0].node_id)

    def log_of(self, node_id: int) -> Path:
        return self.logs / ("kafka.log" if len(self.nodes) == 1 else f"kafka-{node_id}.log")

    def start(self) -> None:
        """Every node not running, then wait until the cluster answers and create the topics."""
        prepare(self.nodes)
        for node in self.nodes:
            self.start_node(node.node_id, wait=False)
        ready_cluster(self.connection, len(self.nodes), self.retention, None, self.process)

    def start_node(self, node_id: int, wait: bool = True) -> None:
        """(Re)start one node; `wait` for its broker port to open."""
        node = self.nodes[node_id - 1]
        running = self.processes.get(node_id)
        if running is None or not running.alive():
            self.processes[node_id] = spawn_node(node, self.log_of(node_id))
        if wait:
            wait_until(lambda: port_open(node.host, node.port), START_TIMEOUT_S, f"Kafka node {node_id}", self.processes[node_id])

    def stop_node(self, node_id: int) -> None:
        process = self.processes.pop(node_id, None)
        if process is not None:
            stop(process)

    def answers(self) -> bool:
        return broker_answers(self.connection)

    def stop(self) -> None:
        for node_id in list(self.processes):
            self.stop_node(node_id)


def private_nodes(folder: Path, settings: Settings, size: int, heap: str) -> list[BrokerConfig]:
    local = BrokerConfig.from_settings(settings)
    ports = [(free_port(), free_port()) for _ in range(size)]
    return cluster_nodes("127.0.0.1", ports, folder / "kafka", local.libs, local.log4j_config, heap)


def start_private(folder: Path, settings: Settings, heap: str = "512m", size: int = 1) -> Broker:
    """A broker (or a cluster of `size` nodes) on free loopback ports with its data in
    `folder`, topics created; the jars and logging configuration are the ones `settings`
    names. Nodes that started are stopped if the cluster does not come up."""
    broker = Broker(private_nodes(folder, settings, size, heap), folder, settings.retention)
    try:
        broker.start()
    except BaseException:
        broker.stop()
        raise
    return broker
