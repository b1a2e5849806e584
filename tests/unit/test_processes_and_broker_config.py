import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given
from hypothesis import strategies as st

from footfall.local.kafka_broker import BrokerConfig, cluster_id, server_properties
from footfall.local.processes import Registry, Started, kill, spawn, stop, wait_until
from infra.kafka.publisher import partition_for


def test_a_recycled_pid_is_not_stopped(tmp_path: Path) -> None:
    bystander = subprocess.Popen(["sleep", "60"])
    try:
        impostor = Started("kafka", bystander.pid, create_time=1.0, address="", log="")
        assert not impostor.alive()
        assert stop(impostor) is False
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_registry_round_trip(tmp_path: Path) -> None:
    registry = Registry(tmp_path / "stack.json")
    assert registry.load() == []
    entries = [Started("kafka", 10, 1.5, "127.0.0.1:9092", "k.log")]
    registry.save(entries)
    assert registry.load() == entries
    registry.clear()
    assert registry.load() == []


def test_server_properties_bind_loopback_and_disable_auto_create(tmp_path: Path) -> None:
    config = BrokerConfig("127.0.0.1", 19092, 19093, tmp_path, tmp_path, tmp_path / "log4j.properties")
    properties = dict(line.split("=", 1) for line in server_properties(config).splitlines())
    assert properties["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert properties["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert properties["auto.create.topics.enable"] == "false"
    assert properties["log.dirs"] == str(tmp_path / "data")


def test_cluster_ids_never_look_like_an_option() -> None:
    ids = {cluster_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(len(i) == 22 and not i.startswith("-") for i in ids)


@given(st.binary(min_size=1, max_size=64), st.integers(1, 64))
def test_partitioning_matches_kafkas_default(key: bytes, partitions: int) -> None:
    every = list(range(partitions))
    assert partition_for(key, every, every) == DefaultPartitioner()(key, every, every)


@pytest.mark.parametrize("end", [stop, kill])
def test_a_part_ends_with_the_processes_it_started(tmp_path: Path, end) -> None:
    """A parent that dies leaves its children running on their own (as the collector's
    workers would); stopping or killing the part ends them too."""
    parent = spawn(
        "parent", (sys.executable, "-c", "import subprocess, time; subprocess.Popen(['sleep', '120']); time.sleep(120)"),
        tmp_path / "parent.log", "nowhere",
    )
    wait_until(lambda: bool(psutil.Process(parent.pid).children()), 10, "the child")
    (child,) = psutil.Process(parent.pid).children()
    end(parent)
    assert not parent.alive()
    assert not child.is_running() or child.status() == psutil.STATUS_ZOMBIE
