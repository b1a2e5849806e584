"""footfall on a 3-node KRaft cluster whose nodes each run in a network namespace of their
own, while the broker leading most of the events topic's partitions is cut off the other
brokers and every client (its link taken down) under steady load, then joined again. It
keeps running throughout, as a partitioned broker does. The checks are those of the
failover tests: every acknowledged event once, sessions exact, refusals bounded, and no part
of the pipeline restarted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from footfall.local.kafka_broker import Broker
from tests.support.failover import Outage, through_an_outage
from tests.support.isolated_nodes import Links, isolated_cluster


@pytest.fixture(scope="module")
def partitionable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Broker, Links]]:
    with isolated_cluster(tmp_path_factory.mktemp("partitionable")) as running:
        yield running


@pytest.mark.timeout(600)
def test_the_leading_broker_cut_off_and_joined_again_loses_and_doubles_nothing(partitionable: tuple[Broker, Links], tmp_path: Path) -> None:
    cluster, links = partitionable
    through_an_outage(cluster, tmp_path, Outage("cut off", links.cut, links.mend))
    assert all(process.alive() for process in cluster.processes.values()), "a broker cut off is still running"
