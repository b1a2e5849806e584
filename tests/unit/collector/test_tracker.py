"""The tracking script's own unit tests (collector/tracker/test), run by node's test runner
as part of the Python suite, so that `make test` runs both."""

from __future__ import annotations

import re
import shutil
import subprocess

from collector.script import SCRIPT_PATH

TRACKER = SCRIPT_PATH.parent.parent


def test_tracker_unit_tests_pass_under_node() -> None:
    node = shutil.which("node")
    assert node, "node is needed for the tracking script's tests"
    run = subprocess.run([node, "--test"], cwd=TRACKER, capture_output=True, text=True, timeout=120)
    summary = dict(re.findall(r"^# (pass|fail) (\d+)$", run.stdout, re.MULTILINE))
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert int(summary["pass"]) > 0 and summary["fail"] == "0", run.stdout[-4000:]
