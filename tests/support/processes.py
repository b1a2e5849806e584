"""Crashing a part on purpose: fault-injection tests end a process with SIGKILL, which the
product itself never does (it stops its parts with SIGTERM and a grace period)."""

from __future__ import annotations

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
