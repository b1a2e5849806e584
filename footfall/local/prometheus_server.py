"""A local Prometheus (Debian's `prometheus` package) scraping the stack.

The scrape configuration is built here from the settings, so the Prometheus that
`footfall up --with-monitoring` starts and the tests' one scrape wherever the parts
really listen; deploy/prometheus/prometheus.yml is the same configuration for the
default ports (a test keeps the two in step). Alert rules are the committed
deploy/prometheus/alerts.yml.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from footfall.local.processes import Started, spawn
from infra.config import Settings



def alert_rules(settings: Settings) -> Path:
    """The alerting rules every footfall Prometheus loads, kept with the deployment files."""
    return settings.deploy_dir / "prometheus" / "alerts.yml"
COLLECTOR_JOB = "footfall-collector"
PROCESSORS_JOB = "footfall-processors"
SINK_JOB = "footfall-sink"
WEBHOOKS_JOB = "footfall-webhooks"


@dataclass(frozen=True)
class Targets:
    """host:port of each part's /metrics."""

    collector: Sequence[str]
    processors: Sequence[str]
    sink: Sequence[str]
    # The webhook deliverer runs only when a site has webhooks; no target otherwise.
    webhooks: Sequence[str] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> Targets:
        # A collector listening on every interface is still scraped on loopback.
        host = "127.0.0.1" if settings.collector_host in ("0.0.0.0", "::", "") else settings.collector_host
        return cls(
            collector=[f"{host}:{settings.collector_port}"],
            processors=[f"127.0.0.1:{settings.processor_metrics_port}"],
            sink=[f"127.0.0.1:{settings.sink_port}"],
            webhooks=[f"127.0.0.1:{settings.webhook_metrics_port}"] if settings.webhooks_configured else [],
        )


def duration(seconds: float) -> str:
    """A Prometheus duration: whole seconds as `15s`, anything finer in milliseconds."""
    return f"{int(seconds)}s" if float(seconds).is_integer() else f"{round(seconds * 1000)}ms"


def scrape_config(targets: Targets, rule_files: Sequence[str], interval_s: float = 15) -> dict:
    jobs = ((COLLECTOR_JOB, targets.collector), (PROCESSORS_JOB, targets.processors), (SINK_JOB, targets.sink), (WEBHOOKS_JOB, targets.webhooks))
    return {
        "global": {"scrape_interval": duration(interval_s), "evaluation_interval": duration(interval_s)},
        "rule_files": list(rule_files),
        "scrape_configs": [{"job_name": job, "static_configs": [{"targets": list(hosts)}]} for job, hosts in jobs if hosts],
    }


def write_config(path: Path, config: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def binary(name: str = "prometheus") -> str:
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed (Debian package `prometheus`; `make setup` installs it)")
    return found


def start(config: Path, data_dir: Path, port: int, log: Path) -> Started:
    """Prometheus on loopback; its data in `data_dir`, its log in `log`."""
    data_dir.mkdir(parents=True, exist_ok=True)
    command = (
        binary(),
        f"--config.file={config}",
        f"--storage.tsdb.path={data_dir}",
        f"--web.listen-address=127.0.0.1:{port}",
    )
    return spawn("prometheus", command, log, f"http://127.0.0.1:{port}")


def start_for_stack(settings: Settings, log: Path) -> Started:
    """The Prometheus of `footfall up --with-monitoring`, under the state folder."""
    folder = settings.state_dir / "prometheus"
    config = scrape_config(Targets.from_settings(settings), [str(alert_rules(settings))])
    return start(write_config(folder / "prometheus.yml", config), folder / "data", settings.prometheus_port, log)
