"""Which brokers the local stack starts, and the brokers `footfall status` lists."""

from __future__ import annotations

from pathlib import Path

import pytest

from footfall.local.kafka_broker import local_cluster
from footfall.local.processes import Registry, free_port
from footfall.local.stack import BrokerRow, Stack, broker_rows, brokers_not_ours
from infra.config import Settings
from infra.kafka.admin import BrokerState


def test_a_free_loopback_address_is_where_footfall_starts_its_own(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, kafka_bootstrap=f"127.0.0.1:{free_port()}")
    assert not brokers_not_ours(settings, Registry(tmp_path / "stack.json"))
    stack = Stack(settings, brokers=3)
    assert [part.name for part in stack.parts[:3]] == ["kafka-1", "kafka-2", "kafka-3"]
    # Every stage is told of every node.
    assert stack.settings.kafka_bootstrap == ",".join(node.bootstrap for node in stack.local_brokers)


def test_an_address_off_this_machine_is_an_existing_cluster_and_footfall_starts_no_broker(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, kafka_bootstrap="kafka-1.example:9092,kafka-2.example:9092")
    stack = Stack(settings)
    assert stack.local_brokers == []
    assert [part.name for part in stack.parts] == ["kafka", "collector", "processors", "sink"]
    assert stack.parts[0].start is None and stack.parts[0].address == "kafka-1.example:9092,kafka-2.example:9092"


def test_asking_for_local_brokers_with_an_existing_cluster_is_refused(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, kafka_bootstrap="kafka.example:9092")
    with pytest.raises(ValueError, match="--brokers starts local brokers, but FOOTFALL_KAFKA_BOOTSTRAP"):
        Stack(settings, brokers=3)


def test_status_lists_live_brokers_from_the_metadata_and_local_nodes_it_lacks_as_down(tmp_path: Path) -> None:
    nodes = local_cluster(Settings(state_dir=tmp_path, kafka_bootstrap="127.0.0.1:9192", kafka_controller_port=9193), 3)
    alive = [BrokerState(3, "127.0.0.1:9196", 20), BrokerState(1, "127.0.0.1:9192", 22)]
    assert broker_rows(nodes, alive) == [
        BrokerRow(1, "127.0.0.1:9192", True, 22),
        BrokerRow(2, "127.0.0.1:9194", False, 0),
        BrokerRow(3, "127.0.0.1:9196", True, 20),
    ]
    # An existing cluster: only what its metadata shows.
    assert broker_rows([], alive) == [BrokerRow(1, "127.0.0.1:9192", True, 22), BrokerRow(3, "127.0.0.1:9196", True, 20)]
