"""footfall on a 3-node KRaft cluster on loopback while a broker fails under steady load
through the collector: the broker leading most of the events topic's partitions is killed
(SIGKILL) or stopped cleanly, then started again. Every event the collector acknowledged is
in ClickHouse exactly once, grouped into sessions as the reference groups them; the
collector refuses (503) no longer than the partitions' new leaders take to be elected plus
its own acknowledgement timeout; the workers, the sink and the collector carry on by
themselves, none restarted."""

from __future__ import annotations

from pathlib import Path

import pytest

from footfall.local.kafka_broker import Broker
from tests.support.failover import Outage, through_an_outage
from tests.support.processes import kill


@pytest.mark.timeout(600)
def test_the_leading_broker_killed_and_restarted_loses_and_doubles_nothing(cluster: Broker, tmp_path: Path) -> None:
    through_an_outage(cluster, tmp_path, Outage("killed", lambda node: kill(cluster.processes.pop(node)), cluster.start_node))


@pytest.mark.timeout(600)
def test_the_leading_broker_stopped_cleanly_and_restarted_loses_and_doubles_nothing(cluster: Broker, tmp_path: Path) -> None:
    through_an_outage(cluster, tmp_path, Outage("stopped", cluster.stop_node, cluster.start_node))
