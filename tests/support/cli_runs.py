"""The `footfall` command of this checkout run as users run it, with a stack of its own:
configured by a file in the test's folder, on free ports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from footfall.local.processes import free_port
from tests.support.paths import REPOSITORY

CONFIG = """
[[sites]]
id = "shop"
write_key = "shop_key"
allowed_origins = ["https://shop.example"]
"""


def footfall(args: list[str], env: dict[str, str], timeout_s: float = 300) -> subprocess.CompletedProcess[str]:
    """`footfall ARGS` from this checkout's code (not whatever an installed script points at)."""
    command = [sys.executable, "-m", "footfall.cli", *args]
    return subprocess.run(command, env=env, cwd=REPOSITORY, capture_output=True, text=True, timeout=timeout_s)


def stack_env(folder: Path, **overrides: str) -> dict[str, str]:
    config = folder / "footfall.toml"
    config.write_text(CONFIG)
    return {
        **os.environ,
        "FOOTFALL_CONFIG": str(config),
        "FOOTFALL_STATE_DIR": str(folder / "state"),
        "FOOTFALL_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}",
        "FOOTFALL_KAFKA_CONTROLLER_PORT": str(free_port()),
        "FOOTFALL_COLLECTOR_PORT": str(free_port()),
        "FOOTFALL_COLLECTOR_WORKERS": "1",
        "FOOTFALL_SINK_PORT": str(free_port()),
        "FOOTFALL_PROCESSOR_METRICS_PORT": str(free_port()),
        "FOOTFALL_PROMETHEUS_PORT": str(free_port()),
        "COLUMNS": "200",
        **overrides,
    }
