"""footfall's parts started as real processes for the integration tests: a private broker,
a collector, and whole pipelines (collector, sessioniser workers, sink) on free ports.

A pipeline started during a test is remembered under that test's file, so that a failure
there can report the logs of every part, which outlive the processes.
"""

from __future__ import annotations

import asyncio
import os
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from footfall.local.kafka_broker import Broker, start_private
from footfall.local.processes import Started, free_port, stop, wait_until
from infra.health import http_ok
from footfall.local.stack import spawn_collector, spawn_processor, spawn_sink
from infra.config import Settings
from infra.keys import sink_token
from infra.kafka.publisher import Publisher, Record


METRICS_PORT = "FOOTFALL_PROCESSOR_METRICS_PORT"


# A local cluster's size and each node's heap: three replicas, and room on a small machine.
CLUSTER_NODES = 3
CLUSTER_HEAP = "384m"


def new_broker(folder: Path) -> Broker:
    """A broker of its own, its data in `folder`, every topic created."""
    return start_private(folder, Settings())


def new_cluster(folder: Path) -> Broker:
    """CLUSTER_NODES nodes on loopback, each broker and controller, every topic created."""
    return start_private(folder, Settings(), heap=CLUSTER_HEAP, size=CLUSTER_NODES)


@dataclass
class Collector:
    """A running collector and the URL it answers on."""

    url: str
    process: Started


def collector_env(bootstrap: str, folder: Path, **overrides: str) -> dict[str, str]:
    return {
        "FOOTFALL_KAFKA_BOOTSTRAP": bootstrap,
        "FOOTFALL_COLLECTOR_PORT": str(free_port()),
        "FOOTFALL_COLLECTOR_WORKERS": "1",
        "FOOTFALL_STATE_DIR": str(folder),
        "FOOTFALL_KAFKA_ACK_TIMEOUT_S": "3",
        **overrides,
    }


def start_collector(bootstrap: str, folder: Path, **overrides: str) -> Collector:
    env = collector_env(bootstrap, folder, **overrides)
    url = f"http://127.0.0.1:{env['FOOTFALL_COLLECTOR_PORT']}"
    process = spawn_collector(Settings(collector_port=int(env["FOOTFALL_COLLECTOR_PORT"])), folder / "collector.log", env)
    wait_until(lambda: http_ok(f"{url}/readyz"), 60, "collector", process)
    return Collector(url, process)


@dataclass
class Pipeline:
    """Collector, sessioniser worker(s) and sink on one broker, each its own process."""

    kafka: Broker
    folder: Path
    env: dict[str, str]
    collector: Collector
    workers: list[Started]
    sink: Started
    sink_url: str
    # Each worker's /metrics, by PID: how a test sees which partitions a worker owns.
    metrics_urls: dict[int, str] = field(default_factory=dict)

    def query(self, sql: str) -> list[dict]:
        token = sink_token(Settings(state_dir=self.folder))
        answer = httpx.post(f"{self.sink_url}/query", content=sql.encode(), headers={"Authorization": f"Bearer {token}"}, timeout=60)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def start_worker(self, **overrides: str) -> Started:
        """One more worker, serving its metrics on a port of its own unless the pipeline's
        settings name one; `overrides` reach this worker only (a fault point, say)."""
        log = self.folder / f"worker-{len(self.workers)}.log"
        env = {METRICS_PORT: str(free_port()), **self.env, **overrides}
        worker = spawn_processor(Settings(), log, env)
        self.workers.append(worker)
        self.metrics_urls[worker.pid] = f"http://127.0.0.1:{env[METRICS_PORT]}/metrics"
        return worker

    def start_sink(self, ready: bool = True, **overrides: str) -> Started:
        """The sink, (re)started; awaited until healthy if `ready` (not for a sink that may
        die at a fault point as soon as it writes); `overrides` reach it only."""
        self.sink = spawn_sink(Settings(), self.folder / "sink.log", {**self.env, **overrides})
        if ready:
            wait_until(lambda: http_ok(f"{self.sink_url}/healthz"), 60, "sink", self.sink)
        return self.sink

    def publish(self, records: list[Record]) -> None:
        """Records written straight onto the pipeline's topics, as a faulty or hostile
        producer would."""

        async def send() -> None:
            publisher = Publisher(self.kafka.connection, 30.0, client_id="footfall-test")
            await publisher.start()
            try:
                await publisher.publish(records)
            finally:
                await publisher.stop()

        asyncio.run(send())

    def stop(self) -> None:
        for process in [self.sink, *self.workers, self.collector.process]:
            if process is not None:
                stop(process)

    def log_tails(self, lines: int = 40) -> str:
        """The end of each part's log: what a failure report shows."""
        parts = []
        for log in sorted(self.folder.rglob("*.log")):
            tail = log.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {log.relative_to(self.folder)}\n" + "\n".join(tail))
        return "\n".join(parts)


_STARTED: dict[str, list[Pipeline]] = defaultdict(list)


def _file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def pipelines_started_by(nodeid: str) -> list[Pipeline]:
    """The pipelines the tests in the file of this test id have started so far."""
    return _STARTED[_file_of(nodeid)]


def start_pipeline(kafka: Broker, folder: Path, workers: int = 1, sink: bool = True, **overrides: str) -> Pipeline:
    """A collector, `workers` workers and (unless `sink` is False, for a test that starts
    it itself) the sink, with their state in `folder`, `overrides` reaching every part."""
    collector = start_collector(kafka.bootstrap, folder / "collector", **overrides)
    sink_port = free_port()
    env = {
        "FOOTFALL_KAFKA_BOOTSTRAP": kafka.bootstrap,
        "FOOTFALL_STATE_DIR": str(folder),
        "FOOTFALL_SINK_PORT": str(sink_port),
        "FOOTFALL_SINK_BATCH_S": "0.2",
        **overrides,
    }
    pipeline = Pipeline(kafka, folder, env, collector, [], None, f"http://127.0.0.1:{sink_port}")  # type: ignore[arg-type]
    pipelines_started_by(os.environ.get("PYTEST_CURRENT_TEST", "")).append(pipeline)
    for _ in range(workers):
        pipeline.start_worker()
    if sink:
        pipeline.start_sink()
    return pipeline


@contextmanager
def configured_pipeline(folder: Path, config: str, **overrides: str) -> Iterator[tuple[Pipeline, Path]]:
    """A broker of its own and a pipeline whose footfall.toml holds `config`, both stopped
    after; the pipeline and the configuration file, for the commands run against it."""
    path = folder / "footfall.toml"
    path.write_text(config)
    broker = new_broker(folder / "broker")
    try:
        pipeline = start_pipeline(broker, folder / "stack", FOOTFALL_CONFIG=str(path), **overrides)
        try:
            yield pipeline, path
        finally:
            pipeline.stop()
    finally:
        broker.stop()
