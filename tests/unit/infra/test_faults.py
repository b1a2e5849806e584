"""A fault point kills the process at the visit asked for, and only there."""

from __future__ import annotations

import signal
import subprocess
import sys

CHILD = """
from infra import faults
for visit in range(1, 6):
    faults.reached("other.point")
    faults.reached("test.point")
    print(visit, flush=True)
"""


def run(setting: str | None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin"} | ({"FOOTFALL_FAULT": setting} if setting else {})
    return subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=60, cwd=".")


def test_unset_no_point_fires() -> None:
    done = run(None)
    assert done.returncode == 0 and done.stdout.split() == ["1", "2", "3", "4", "5"]


def test_the_process_is_killed_at_the_nth_visit_of_its_point() -> None:
    done = run("test.point:3")
    assert done.returncode == -signal.SIGKILL
    assert done.stdout.split() == ["1", "2"]


def test_a_point_without_a_count_fires_at_its_first_visit() -> None:
    done = run("test.point")
    assert done.returncode == -signal.SIGKILL and done.stdout == ""


def test_another_point_named_leaves_this_one_alone() -> None:
    assert run("nowhere.point").returncode == 0
