"""Fixtures that start real components: the Kafka broker and the collector, on free ports."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from footfall.kafka_broker import Broker, start_private
from footfall.processes import Started, free_port, stop, wait_until
from footfall.settings import Settings
from footfall.stack import http_ok, spawn_collector


def new_broker(folder: Path) -> Broker:
    return start_private(folder, Settings().kafka_libs)


@pytest.fixture(scope="session")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    broker = new_broker(tmp_path_factory.mktemp("kafka"))
    yield broker
    broker.stop()


@dataclass
class Collector:
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


@pytest.fixture(scope="session")
def collector(kafka: Broker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Collector]:
    running = start_collector(kafka.bootstrap, tmp_path_factory.mktemp("collector"))
    yield running
    stop(running.process)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "integration" in Path(str(item.fspath)).parts:
            item.add_marker(pytest.mark.integration)
