"""The local Kafka: the Apache Kafka broker in KRaft mode, one node, run from Maven's jars.

The same code starts the broker for `footfall up` and for the integration tests (on free
ports, in a temporary folder), so what the tests exercise is what users run.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from infra.kafka.admin import broker_answers, create_topics
from footfall.local.processes import Started, free_port, port_open, spawn, stop, wait_until
from infra.config import Retention, Settings

START_TIMEOUT_S = 90.0


@dataclass(frozen=True)
class BrokerConfig:
    host: str
    port: int
    controller_port: int
    data_dir: Path
    libs: Path
    log4j_config: Path
    heap: str = "768m"

    @classmethod
    def from_settings(cls, settings: Settings) -> "BrokerConfig":
        host, _, port = settings.kafka_bootstrap.rpartition(":")
        return cls(
            host=host,
            port=int(port),
            controller_port=settings.kafka_controller_port,
            data_dir=settings.state_dir / "kafka",
            libs=settings.kafka_libs,
            log4j_config=settings.deploy_dir / "kafka" / "log4j.properties",
            heap=settings.kafka_heap,
        )

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def properties_file(self) -> Path:
        return self.data_dir / "server.properties"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "data"


def server_properties(config: BrokerConfig) -> str:
    """One node that is both broker and controller, reachable only on loopback."""
    lines = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{config.host}:{config.controller_port}",
        "listeners": f"PLAINTEXT://{config.host}:{config.port},CONTROLLER://{config.host}:{config.controller_port}",
        "advertised.listeners": f"PLAINTEXT://{config.host}:{config.port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(config.log_dir),
        # One node: internal topics cannot be replicated further.
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "12",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        # Topics are created by footfall with their own partitions and retention.
        "auto.create.topics.enable": "false",
        "num.partitions": "1",
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


def format_storage(config: BrokerConfig) -> list[str] | None:
    """The command that formats the log folder for KRaft, or None when it already is."""
    if (config.log_dir / "meta.properties").exists():
        return None
    return java_command(
        config, "kafka.tools.StorageTool", "format", "-t", cluster_id(), "-c", str(config.properties_file)
    )


def start(config: BrokerConfig, log: Path) -> Started:
    """Write the configuration, format storage on first use, start, and wait for the port."""
    check_libs(config.libs)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    config.properties_file.write_text(server_properties(config))
    formatting = format_storage(config)
    if formatting is not None:
        formatted = subprocess.run(formatting, capture_output=True, text=True)
        if formatted.returncode != 0:
            raise RuntimeError(f"formatting Kafka storage failed: {formatted.stdout}{formatted.stderr}")
    command = java_command(config, "kafka.Kafka", str(config.properties_file), heap=config.heap)
    broker = spawn("kafka", command, log, config.bootstrap)
    wait_until(lambda: port_open(config.host, config.port), START_TIMEOUT_S, "Kafka broker", broker)
    return broker


@dataclass
class Broker:
    """A broker this process owns, which can be stopped and started again on the same data
    (tests inject outages with it; benchmarks measure against it)."""

    config: BrokerConfig
    log: Path
    retention: Retention
    process: Started | None = None

    @property
    def bootstrap(self) -> str:
        return self.config.bootstrap

    def start(self) -> None:
        self.process = start(self.config, self.log)
        wait_until(lambda: broker_answers(self.bootstrap), START_TIMEOUT_S, "Kafka broker", self.process)
        create_topics(self.bootstrap, self.retention)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None


def start_private(folder: Path, settings: Settings, heap: str = "512m") -> Broker:
    """A broker on free loopback ports with its data in `folder`, topics created; the jars
    and logging configuration are the ones `settings` names."""
    local = BrokerConfig.from_settings(settings)
    config = BrokerConfig("127.0.0.1", free_port(), free_port(), folder / "kafka", local.libs, local.log4j_config, heap)
    broker = Broker(config, folder / "kafka.log", settings.retention)
    broker.start()
    return broker
