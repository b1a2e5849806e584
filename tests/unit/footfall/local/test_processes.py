"""Processes known by PID and start time: a recycled PID is left alone, the registry
round-trips, and a part ends with the processes it started."""

import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from footfall.local.processes import Registry, Started, spawn, stop, wait_until
from tests.support.processes import kill


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
