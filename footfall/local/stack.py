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
from infra.kafka.admin import broker_answers, create_topics
from footfall.local.processes import Registry, Started, spawn, stop, wait_until
from infra.config import Settings

HEALTH_TIMEOUT_S = 90.0


@dataclass(frozen=True)
class Part:
    name: str
    address: str
    start: Callable[[], Started]
    healthy: Callable[[], bool]
    # Runs once the part is healthy, before the next part starts (topic creation, say).
    prepare: Callable[[], object] = lambda: None


def spawn_module(name: str, module: str, log: Path, address: str, env: dict[str, str] | None = None) -> Started:
    """A stage as its own process (`python -m module`); it reads the same FOOTFALL_…
    settings as this one, plus `env`."""
    return spawn(name, (sys.executable, "-m", module), log, address, env)


def spawn_collector(settings: Settings, log: Path, env: dict[str, str] | None = None) -> Started:
    return spawn_module("collector", "collector", log, settings.collector_url, env)


def spawn_processor(settings: Settings, log: Path, env: dict[str, str] | None = None) -> Started:
    return spawn_module("processors", "processors", log, f"kafka://{settings.kafka_bootstrap}", env)


def spawn_sink(settings: Settings, log: Path, env: dict[str, str] | None = None) -> Started:
    return spawn_module("sink", "sinks", log, settings.sink_url, env)


def spawn_webhooks(settings: Settings, log: Path, env: dict[str, str] | None = None) -> Started:
    return spawn_module("webhooks", "webhooks", log, webhooks_metrics_url(settings), env)


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


def parts(settings: Settings, registry: Registry, monitoring: bool = False) -> list[Part]:
    """The stack's parts, in starting order; the webhook deliverer when a site has webhooks;
    Prometheus last, as it only watches the others."""
    broker = kafka_broker.BrokerConfig.from_settings(settings)
    logs = settings.state_dir / "logs"
    pipeline = [
        Part(
            name="kafka",
            address=broker.bootstrap,
            start=lambda: kafka_broker.start(broker, logs / "kafka.log"),
            healthy=lambda: broker_answers(broker.bootstrap),
            prepare=lambda: create_topics(broker.bootstrap, settings.retention),
        ),
        Part(
            name="collector",
            address=settings.collector_url,
            start=lambda: spawn_collector(settings, logs / "collector.log"),
            healthy=lambda: http_ok(f"{settings.collector_url}/readyz"),
        ),
        Part(
            name="processors",
            address=f"kafka://{broker.bootstrap}",
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


class Stack:
    """The local stack: the parts `footfall up` starts, their processes and health."""

    def __init__(self, settings: Settings, monitoring: bool = False):
        """`monitoring` adds Prometheus; a stack started with it keeps it in its status."""
        self.settings = settings
        self.registry = Registry(settings.state_dir / "stack.json")
        monitoring = monitoring or any(p.name == "prometheus" for p in self.registry.load())
        self.parts = parts(settings, self.registry, monitoring)

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

    def status(self) -> list[tuple[Part, Started | None, bool]]:
        running = self.running()
        return [(part, running.get(part.name), part.healthy()) for part in self.parts]
