"""Fixtures shared by the whole suite: one Kafka broker and one collector for the session,
a 3-node cluster for each module that asks for one, the integration marker, and the logs of the pipelines a failing test's file started."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from footfall.local.kafka_broker import Broker
from footfall.local.processes import stop
from tests.support.clickhouse_server import ClickHouseServer, start_private
from tests.support.pipeline import Collector, new_broker, new_cluster, pipelines_started_by, start_collector


@pytest.fixture(scope="session")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    broker = new_broker(tmp_path_factory.mktemp("kafka"))
    yield broker
    broker.stop()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """A module's own cluster: the outages one module injects reach no other."""
    running = new_cluster(tmp_path_factory.mktemp("cluster"))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def collector(kafka: Broker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Collector]:
    running = start_collector(kafka.bootstrap, tmp_path_factory.mktemp("collector"))
    yield running
    stop(running.process)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "integration" in Path(str(item.fspath)).parts:
            item.add_marker(pytest.mark.integration)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[pytest.TestReport]:
    report = yield
    if report.failed:
        for pipeline in pipelines_started_by(item.nodeid):
            report.sections.append((f"logs of the pipeline in {pipeline.folder}", pipeline.log_tails()))
    return report


@pytest.fixture
def clickhouse_server(tmp_path: Path) -> Iterator[ClickHouseServer]:
    """A private clickhouse-server (Debian's) on free ports, its data in the test's folder."""
    running = start_private(tmp_path / "clickhouse")
    yield running
    running.stop()
