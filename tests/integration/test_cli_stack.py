"""`footfall up --detach`, `status` and `down` on real processes, configured by file and env."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import psutil

from footfall.local.processes import Registry, wait_until
from tests.support.cli_runs import footfall as run
from tests.support.cli_runs import stack_env

def test_up_status_down_manage_exactly_the_stack_they_started(tmp_path: Path) -> None:
    env = stack_env(tmp_path)
    collector_port = int(env["FOOTFALL_COLLECTOR_PORT"])
    bystander = subprocess.Popen(["sleep", "300"])
    try:
        up = run(["up", "--detach"], env)
        assert up.returncode == 0, up.stdout + up.stderr
        for part in ("kafka", "collector", "processors", "sink"):
            assert f"{part} is up" in up.stdout

        status = run(["status"], env)
        assert status.returncode == 0, status.stdout
        assert status.stdout.count("healthy") == 4
        assert f"http://127.0.0.1:{collector_port}" in status.stdout

        url = f"http://127.0.0.1:{collector_port}/v1/track"
        event = {"event": "Configured", "anonymousId": "a"}
        assert httpx.post(url, json=event, auth=("shop_key", "")).status_code == 200
        assert httpx.post(url, json=event, auth=("demo_key", "")).status_code == 401

        again = run(["up", "--detach"], env)
        assert again.returncode == 0 and "already running" in again.stdout

        started = Registry(tmp_path / "state" / "stack.json").load()
        assert {p.name for p in started} == {"kafka", "collector", "processors", "sink"}
        down = run(["down"], env)
        assert down.returncode == 0, down.stdout
        assert not any(psutil.pid_exists(p.pid) and p.alive() for p in started)
        assert bystander.poll() is None, "down must stop only what up started"

        after = run(["status"], env)
        assert after.returncode == 1 and "not answering" in after.stdout
    finally:
        run(["down"], env)
        bystander.kill()
        bystander.wait()


def test_up_with_monitoring_starts_prometheus_scraping_every_part(tmp_path: Path) -> None:
    env = stack_env(tmp_path)
    prometheus = f"http://127.0.0.1:{env['FOOTFALL_PROMETHEUS_PORT']}"
    try:
        up = run(["up", "--detach", "--with-monitoring"], env)
        assert up.returncode == 0, up.stdout + up.stderr
        assert "prometheus is up" in up.stdout and f"Prometheus: {prometheus}" in up.stdout

        status = run(["status"], env)  # knows Prometheus is part of this stack
        assert status.returncode == 0 and status.stdout.count("healthy") == 5, status.stdout

        def every_part_scraped() -> bool:
            targets = httpx.get(f"{prometheus}/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
            return sorted((t["labels"]["job"], t["health"]) for t in targets) == [
                ("footfall-collector", "up"), ("footfall-processors", "up"), ("footfall-sink", "up")
            ]

        wait_until(every_part_scraped, 90, "Prometheus scraping every part")
        started = Registry(tmp_path / "state" / "stack.json").load()
        assert "prometheus" in {p.name for p in started}
        assert run(["down"], env).returncode == 0
        assert not any(p.alive() for p in started)
    finally:
        run(["down"], env)
