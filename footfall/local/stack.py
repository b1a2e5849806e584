"""The local stack: which parts it has, how each starts, and how to tell it is healthy.

Parts start in order (the broker before what writes to it) and stop in reverse. Every
process started is recorded at once, so even a half-started stack can be brought down.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from infra.health import PROBE_TIMEOUT_S, http_ok

from footfall.local import kafka_broker, prometheus_server
from aiokafka.errors import KafkaError

from infra.kafka.admin import BrokerState, broker_answers, connect_error, create_topics
from infra.kafka.admin import brokers as cluster_brokers
from footfall.local.processes import Registry, Started, port_open, spawn, stop, wait_until
from infra.config import Settings

HEALTH_TIMEOUT_S = 90.0
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class Part:
    name: str
    address: str
    # None for a part footfall does not start (brokers of an existing cluster).
    start: Callable[[], Started] | None
    healthy: Callable[[], bool]
    # Runs once the part is healthy, before the next part starts (topic creation, say).
    prepare: Callable[[], object] = lambda: None
    # Why a part footfall does not start cannot be used, or None when it can.
    unusable: Callable[[], str | None] = lambda: None


def spawn_module(name: str, module: str, log: Path, address: str, settings: Settings, env: dict[str, str] | None = None) -> Started:
    """A stage as its own process (`python -m module`); it reads the same FOOTFALL_…
    settings as this one, with the brokers these settings name (a local cluster's every
    node, so no stage depends on the first to reach the others), then `env`."""
    return spawn(name, (sys.executable, "-m", module), log, address, {"FOOTFALL_KAFKA_BOOTSTRAP": settings.kafka_bootstrap, **(env or {})})


def brokers_not_ours(settings: Settings, registry: Registry) -> bool:
    """Whether FOOTFALL_KAFKA_BOOTSTRAP names brokers footfall did not start: something
    answers there that this stack did not start, or an address is not on this machine.
    A loopback address where nothing listens is where footfall starts its own."""
    if any(process.name.startswith("kafka") for process in registry.load() if process.alive()):
        return False
    addresses = [address.rpartition(":") for address in settings.kafka.brokers]
    if any(host.strip("[]") not in LOOPBACK for host, _, _ in addresses):
        return True
    return any(port_open(host.strip("[]"), int(port)) for host, _, port in addresses)


def local_brokers(settings: Settings, registry: Registry, brokers: int | None) -> list[kafka_broker.BrokerConfig]:
    """The nodes of the local cluster: as many as asked, else as many as the running stack has."""
    running = [process for process in registry.load() if process.name.startswith("kafka")]
    return kafka_broker.local_cluster(settings, brokers or max(len(running), 1))


def broker_parts(settings: Settings, nodes: list[kafka_broker.BrokerConfig]) -> list[Part]:
    """One part per local node. Nodes before the last are up once their controller listens
    (a node answers only once a majority of controllers run); the last once the cluster
    answers, and it then creates the topics."""
    connection = settings.kafka
    logs = settings.state_dir / "logs"
    prepared: list[bool] = []

    def node_part(node: kafka_broker.BrokerConfig, last: bool) -> Part:
        def start() -> Started:
            if not prepared:  # the whole cluster's folders, once, by the first node started
                kafka_broker.prepare(nodes)
                prepared.append(True)
            return kafka_broker.spawn_node(node, logs / f"{node.name}.log")

        def ready_cluster() -> None:
            kafka_broker.ready_cluster(connection, len(nodes), settings.retention, settings.kafka_replication)

        listening = lambda: port_open(node.host, node.port) or port_open(node.host, node.controller_port)  # noqa: E731
        return Part(
            name=node.name,
            address=node.bootstrap,
            start=start,
            healthy=(lambda: broker_answers(connection)) if last else listening,
            prepare=ready_cluster if last else (lambda: None),
        )

    return [node_part(node, node is nodes[-1]) for node in nodes]


def existing_cluster_part(settings: Settings) -> Part:
    """Brokers footfall did not start: used as they are, refused with the reason when they
    cannot be reached or refuse footfall's credentials; the topics are created or checked."""
    connection = settings.kafka
    return Part(
        name="kafka",
        address=connection.bootstrap,
        start=None,
        healthy=lambda: broker_answers(connection),
        prepare=lambda: create_topics(connection, settings.retention, settings.kafka_replication),
        unusable=lambda: connect_error(connection),
    )


def spawn_collector(settings: Settings, log: Path, env: dict[str, str] | None = None) -> Started:
    return spawn_module("collector", "collector", log, settings.collector_url, settings, env)


def spawn_processor(settings: Settings, log: Path, env: dict[str, str] | None = None) -> Started:
    return spawn_module("processors", "processors", log, f"kafka://{settings.kafka_bootstrap}", settings, env)


def spawn_sink(settings: Settings, log: Path, env: dict[str, str] | None = None) -> Started:
    return spawn_module("sink", "sinks", log, settings.sink_url, settings, env)


def spawn_webhooks(settings: Settings, log: Path, env: dict[str, str] | None = None) -> Started:
    return spawn_module("webhooks", "webhooks", log, webhooks_metrics_url(settings), settings, env)


def webhooks_metrics_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.webhook_metrics_port}/metrics"


ASSIGNED = re.compile(r"^footfall_webhook_partitions_assigned (\S+)$", re.MULTILINE)


def webhooks_ready(metrics_url: str) -> bool:
    """The deliverer answers and reads its partitions: a change made from now on is sent."""
    try:
        found = ASSIGNED.search(httpx.get(metrics_url, timeout=PROBE_TIMEOUT_S).text)
    except httpx.HTTPError:
        return False
    return found is not None and float(found.group(1)) > 0


def webhooks_part(settings: Settings) -> Part:
    url = webhooks_metrics_url(settings)
    return Part(
        name="webhooks",
        address=url,
        start=lambda: spawn_webhooks(settings, settings.state_dir / "logs" / "webhooks.log"),
        healthy=lambda: webhooks_ready(url),
    )


def prometheus_part(settings: Settings) -> Part:
    url = f"http://127.0.0.1:{settings.prometheus_port}"
    return Part(
        name="prometheus",
        address=url,
        start=lambda: prometheus_server.start_for_stack(settings, settings.state_dir / "logs" / "prometheus.log"),
        healthy=lambda: http_ok(f"{url}/-/ready"),
    )


def kafka_plan(settings: Settings, registry: Registry, brokers: int | None) -> tuple[Settings, list[kafka_broker.BrokerConfig]]:
    """The local nodes to run (none when the brokers are not ours), and the settings every
    stage then uses: with a local cluster, every node as bootstrap, so no stage depends on
    the first node to reach the others."""
    if brokers_not_ours(settings, registry):
        if brokers is not None:
            raise ValueError(
                f"--brokers starts local brokers, but FOOTFALL_KAFKA_BOOTSTRAP ({settings.kafka_bootstrap}) "
                "names brokers footfall did not start; unset one of them"
            )
        return settings, []
    nodes = local_brokers(settings, registry, brokers)
    return settings.model_copy(update={"kafka_bootstrap": kafka_broker.cluster_bootstrap(nodes)}), nodes


def parts(settings: Settings, nodes: list[kafka_broker.BrokerConfig], registry: Registry, monitoring: bool = False) -> list[Part]:
    """The stack's parts, in starting order: the local nodes (or the existing cluster, when
    `nodes` is empty) first; the webhook deliverer when a site has webhooks; Prometheus
    last, as it only watches the others."""
    logs = settings.state_dir / "logs"
    pipeline = [
        *(broker_parts(settings, nodes) if nodes else [existing_cluster_part(settings)]),
        Part(
            name="collector",
            address=settings.collector_url,
            start=lambda: spawn_collector(settings, logs / "collector.log"),
            healthy=lambda: http_ok(f"{settings.collector_url}/readyz"),
        ),
        Part(
            name="processors",
            address=f"kafka://{settings.kafka_bootstrap}",
            start=lambda: spawn_processor(settings, logs / "processors.log"),
            healthy=lambda: any(p.name == "processors" and p.alive() for p in registry.load()),
        ),
        Part(
            name="sink",
            address=settings.sink_url,
            start=lambda: spawn_sink(settings, logs / "sink.log"),
            healthy=lambda: http_ok(f"{settings.sink_url}/healthz"),
        ),
    ]
    if settings.webhooks_configured:
        pipeline.append(webhooks_part(settings))
    return [*pipeline, prometheus_part(settings)] if monitoring else pipeline


@dataclass(frozen=True)
class BrokerRow:
    """One broker as `footfall status` shows it."""

    node_id: int
    address: str
    up: bool
    # Partitions of footfall's topics it leads now.
    leads: int


def broker_rows(local: list[kafka_broker.BrokerConfig], alive: list[BrokerState]) -> list[BrokerRow]:
    """Every broker of the cluster metadata, up, and every local node it lacks, down: the
    metadata lists only live brokers, and a local node that died must still show."""
    rows = {state.node_id: BrokerRow(state.node_id, state.address, True, state.leads) for state in alive}
    for node in local:
        rows.setdefault(node.node_id, BrokerRow(node.node_id, node.bootstrap, False, 0))
    return [rows[node_id] for node_id in sorted(rows)]


class Stack:
    """The local stack: the parts `footfall up` starts, their processes and health."""

    def __init__(self, settings: Settings, monitoring: bool = False, brokers: int | None = None):
        """`monitoring` adds Prometheus; a stack started with it keeps it in its status.
        `brokers` starts a local cluster of that many nodes; a stack started with one keeps it."""
        self.registry = Registry(settings.state_dir / "stack.json")
        monitoring = monitoring or any(p.name == "prometheus" for p in self.registry.load())
        self.settings, self.local_brokers = kafka_plan(settings, self.registry, brokers)
        self.parts = parts(self.settings, self.local_brokers, self.registry, monitoring)

    def running(self) -> dict[str, Started]:
        return {p.name: p for p in self.registry.load() if p.alive()}

    def up(self, on_progress: Callable[[str], None] = lambda message: None) -> None:
        """Start every part not already running and wait until each answers."""
        started = list(self.running().values())
        running = {p.name for p in started}
        for part in self.parts:
            if part.name in running:
                on_progress(f"{part.name} already running at {part.address}")
                continue
            if part.start is None:
                on_progress(f"using {part.name} at {part.address}, not started by footfall")
                problem = part.unusable()
                if problem is not None:
                    raise RuntimeError(f"{part.name} at {part.address} cannot be used: {problem}")
                part.prepare()
                continue
            on_progress(f"starting {part.name} at {part.address}")
            process = part.start()
            started.append(process)
            self.registry.save(started)
            wait_until(part.healthy, HEALTH_TIMEOUT_S, part.name, process)
            part.prepare()
            on_progress(f"{part.name} is up")

    def down(self, on_progress: Callable[[str], None] = lambda message: None) -> None:
        """Stop what `up` started, newest first; nothing else is touched."""
        for process in reversed(self.registry.load()):
            if stop(process):
                on_progress(f"stopped {process.name} (pid {process.pid})")
        self.registry.clear()

    def brokers(self) -> list[BrokerRow]:
        """Each broker of the cluster, from its metadata, with the local nodes that are down."""
        try:
            alive = cluster_brokers(self.settings.kafka)
        except (KafkaError, OSError, TimeoutError):
            alive = []
        return broker_rows(self.local_brokers, alive)

    def status(self) -> list[tuple[Part, Started | None, bool]]:
        running = self.running()
        return [(part, running.get(part.name), part.healthy()) for part in self.parts]
