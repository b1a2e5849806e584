"""Ending a part on purpose: fault-injection tests end a process with SIGKILL, which the
product itself never does (it stops its parts with SIGTERM and a grace period), and check
how a part ended."""

from __future__ import annotations

import signal
from pathlib import Path

import psutil

from footfall.local.processes import Started, kill_left_behind


def kill(started: Started) -> None:
    """SIGKILL at once, the processes it started included: a crash."""
    if started.alive():
        process = psutil.Process(started.pid)
        children = process.children(recursive=True)
        process.kill()
        process.wait(5)
        kill_left_behind(children)


def exit_status(started: Started, timeout_s: float = 30) -> int | None:
    """How a process started by this test run ended, once it has: its exit code, or minus
    the signal that ended it; None if something else collected its status first."""
    try:
        process = psutil.Process(started.pid)
    except psutil.NoSuchProcess:
        return None
    return process.wait(timeout_s)


def assert_stops_by_itself(worker: Started, grace_s: float = 10) -> None:
    """SIGTERM, as `footfall down` and Ctrl-C send it: the worker must leave by itself,
    well within footfall's own stop grace (20 s), without a crash (an agent waiting for
    events ends when Faust closes its channel)."""
    process = psutil.Process(worker.pid)
    process.send_signal(signal.SIGTERM)
    try:
        status = process.wait(grace_s)
    except psutil.TimeoutExpired:
        raise AssertionError(f"the worker was still running {grace_s} s after SIGTERM; see {worker.log}") from None
    assert status == 0 and "Crashed" not in Path(worker.log).read_text(), f"the worker ended with status {status}; see {worker.log}"
