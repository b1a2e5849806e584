"""Monitoring against the real thing: a Prometheus started here scrapes a running
pipeline (its own broker, a two-worker collector, a sessioniser worker, the sink) while
traffic flows; every dashboard panel's and alert rule's expression is evaluated through
Prometheus' HTTP API, and stopping the broker fires the matching alerts.

The committed alert rules are loaded with their `for:` shortened to nothing (the only
change), so a condition fires at the first evaluation that sees it.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from footfall.local import prometheus_server
from footfall.local.kafka_broker import Broker
from footfall.local.processes import Started, free_port, stop, wait_until
from footfall.local.prometheus_server import Targets
from footfall.local.stack import spawn_webhooks, webhooks_ready
from infra.config import Settings
from infra.health import http_ok
from schemas.topics import EVENTS
from tests.support.paths import DEPLOY
from tests.support.pipeline import Pipeline, new_broker, start_pipeline
from tests.support.webhook_receiver import Receiver

DASHBOARDS = sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))
ALERT_RULES = DEPLOY / "prometheus" / "alerts.yml"
# What Grafana puts in place of its variables before a query reaches Prometheus.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__range": "1h", "$site": ".*"}
COMPARISON = re.compile(r"^(?P<measure>.+?)\s*(==|!=|>=|<=|>|<)\s*(?P<threshold>[-+0-9.e]+)$", re.S)
METRIC_NAME = re.compile(r"\b(?:footfall|process)_[a-z0-9_]+\b")
AUTH = ("demo_key", "")  # the demo site's write key
SERIES_TIMEOUT_S = 90.0


def dashboard_exprs() -> list[tuple[str, str]]:
    """(panel title, expression as Prometheus receives it) for every target of every panel."""
    found = []
    for path in DASHBOARDS:
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel.get("targets", []):
                expr = target["expr"]
                for variable, value in GRAFANA_VARIABLES.items():
                    expr = expr.replace(variable, value)
                found.append((f"{path.stem}: {panel['title']}", expr))
    return found


def alert_rules() -> list[dict]:
    return [rule for group in yaml.safe_load(ALERT_RULES.read_text())["groups"] for rule in group["rules"]]


class Prometheus:
    """A Prometheus process of this test, and its HTTP API."""

    def __init__(self, process: Started, url: str):
        self.process = process
        self.url = url

    def query(self, expr: str) -> list[dict]:
        answer = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=10).json()
        assert answer["status"] == "success", f"{expr}: {answer}"
        return answer["data"]["result"]

    def firing(self) -> set[str]:
        alerts = httpx.get(f"{self.url}/api/v1/alerts", timeout=10).json()["data"]["alerts"]
        return {alert["labels"]["alertname"] for alert in alerts if alert["state"] == "firing"}

    def targets_up(self) -> dict[str, bool]:
        targets = httpx.get(f"{self.url}/api/v1/targets", timeout=10).json()["data"]["activeTargets"]
        return {target["labels"]["job"]: target["health"] == "up" for target in targets}


def start_prometheus(folder: Path, targets: Targets) -> Prometheus:
    rules = {"groups": yaml.safe_load(ALERT_RULES.read_text())["groups"]}
    for group in rules["groups"]:
        for rule in group["rules"]:
            rule["for"] = "0s"
    folder.mkdir(parents=True, exist_ok=True)
    rule_file = folder / "alerts.yml"
    rule_file.write_text(yaml.safe_dump(rules, sort_keys=False))
    config = prometheus_server.scrape_config(targets, [str(rule_file)], interval_s=1)
    port = free_port()
    process = prometheus_server.start(
        prometheus_server.write_config(folder / "prometheus.yml", config), folder / "data", port, folder / "prometheus.log"
    )
    prometheus = Prometheus(process, f"http://127.0.0.1:{port}")
    try:
        wait_until(lambda: http_ok(f"{prometheus.url}/-/ready"), 60, "prometheus", process)
    except (TimeoutError, RuntimeError):
        stop(process)
        raise
    return prometheus


def visit(visitor: str, purchase: bool) -> list[dict]:
    events: list[dict] = [
        {"type": "page", "anonymousId": visitor, "properties": {"url": "https://shop.example/", "title": "Home"}},
        {"type": "track", "event": "Page Scrolled", "anonymousId": visitor, "properties": {"depth": 50}},
    ]
    if purchase:
        order = {"order_id": f"o-{uuid.uuid4()}", "revenue": 12.5, "currency": "EUR"}
        events.append({"type": "track", "event": "Order Completed", "anonymousId": visitor, "properties": order})
    # Ids of their own: a returning visitor sends the same content again, which without one
    # would be taken for a retry of the same event.
    return [event | {"messageId": str(uuid.uuid4())} for event in events]


class Traffic:
    """Posts visits continuously from a thread: returning visitors, purchases, an invalid
    message in some batches and a Do-Not-Track request now and then."""

    def __init__(self, collector_url: str):
        self.url = collector_url
        self.running = threading.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.rounds = 0

    def run(self) -> None:
        with httpx.Client(auth=AUTH, timeout=10) as client:
            while not self.stopping.is_set():
                if not self.running.wait(0.1):
                    continue
                self.send(client)
                self.rounds += 1
                self.stopping.wait(0.2)

    def send(self, client: httpx.Client) -> None:
        # A visitor comes back every 12 rounds, about 3 s later: past the 2 s gap, a new session.
        batch = visit(f"visitor-{self.rounds % 12}", purchase=self.rounds % 3 == 0)
        if self.rounds % 4 == 0:
            batch.append({"type": "track", "event": "No visitor"})  # invalid: no ids
        try:
            client.post(f"{self.url}/v1/batch", json={"batch": batch})
            if self.rounds % 5 == 0:
                client.post(f"{self.url}/v1/track", json=batch[0] | {"type": "track", "event": "x"}, headers={"DNT": "1"})
        except httpx.HTTPError:
            pass  # the broker is away in the fault test: answers take long or fail

    def start(self) -> None:
        self.thread.start()
        self.running.set()

    def pause(self) -> None:
        self.running.clear()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(30)


@dataclass
class Monitored:
    broker: Broker
    pipeline: Pipeline
    processor_metrics: str
    webhooks_metrics: str
    prometheus: Prometheus
    traffic: Traffic

    def metrics_urls(self) -> dict[str, str]:
        return {
            "collector": f"{self.pipeline.collector.url}/metrics",
            "processors": self.processor_metrics,
            "sink": f"{self.pipeline.sink_url}/metrics",
            "webhooks": self.webhooks_metrics,
        }


@pytest.fixture(scope="module")
def monitored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Monitored]:
    folder = tmp_path_factory.mktemp("monitoring")
    broker = new_broker(folder / "broker")
    processor_port, webhooks_port = free_port(), free_port()
    # A funnel the traffic goes through, so the funnel panels have series to show, and a
    # webhook receiving its completions, so the deliverer's alerts have theirs.
    receiver = Receiver({"/hook": lambda n: 204}, hang_s=0).start()
    config = folder / "footfall.toml"
    config.write_text(
        '[[sites]]\nid = "demo"\nwrite_key = "demo_key"\n\n'
        '[[sites.funnels]]\nname = "visit_to_purchase"\nwindow_s = 60\nsteps = [{type = "page_view"}, {type = "purchase"}]\n\n'
        f'[[sites.webhooks]]\nurl = "{receiver.url}/hook"\nsecret = "monitoring-secret-0123"\non = ["funnel_completed"]\n'
    )
    pipeline = prometheus = traffic = deliverer = None
    try:
        pipeline = start_pipeline(
            broker,
            folder / "stack",
            FOOTFALL_CONFIG=str(config),
            FOOTFALL_COLLECTOR_WORKERS="2",
            FOOTFALL_PROCESSOR_METRICS_PORT=str(processor_port),
            # Sessions close within seconds: a 2 s gap, 1 s lateness, idle visitors forgotten every second.
            FOOTFALL_SESSION_GAP_S="2",
            FOOTFALL_ALLOWED_LATENESS_S="1",
            FOOTFALL_IDLE_CHECK_S="1",
        )
        processor_metrics = f"http://127.0.0.1:{processor_port}/metrics"
        wait_until(lambda: http_ok(processor_metrics), 90, "sessioniser metrics", pipeline.workers[0])
        webhooks_metrics = f"http://127.0.0.1:{webhooks_port}/metrics"
        deliverer = spawn_webhooks(Settings(), folder / "stack" / "webhooks.log", {**pipeline.env, "FOOTFALL_WEBHOOK_METRICS_PORT": str(webhooks_port)})
        wait_until(lambda: webhooks_ready(webhooks_metrics), 90, "the webhook deliverer", deliverer)
        targets = Targets(
            collector=[pipeline.collector.url.removeprefix("http://")],
            processors=[f"127.0.0.1:{processor_port}"],
            sink=[pipeline.sink_url.removeprefix("http://")],
            webhooks=[f"127.0.0.1:{webhooks_port}"],
        )
        prometheus = start_prometheus(folder / "prometheus", targets)
        traffic = Traffic(pipeline.collector.url)
        traffic.start()
        yield Monitored(broker, pipeline, processor_metrics, webhooks_metrics, prometheus, traffic)
    finally:
        if traffic is not None:
            traffic.stop()
        if prometheus is not None:
            stop(prometheus.process)
        if deliverer is not None:
            stop(deliverer)
        if pipeline is not None:
            pipeline.stop()
        broker.stop()
        receiver.stop()


def scrape(url: str) -> dict[str, float]:
    """Every sample of a /metrics answer, by name and labels."""
    samples = {}
    for family in text_string_to_metric_families(httpx.get(url, timeout=10).text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}"] = sample.value
    return samples


def total(samples: dict[str, float], name: str, **labels: str) -> float:
    wanted = [f"{k}={v}" for k, v in labels.items()]
    return sum(v for key, v in samples.items() if key.startswith(name + "{") and all(w in key for w in wanted))


def test_promtool_passes_the_committed_configuration_and_rules() -> None:
    promtool = prometheus_server.binary("promtool")
    for check in (["check", "config", str(DEPLOY / "prometheus" / "prometheus.yml")], ["check", "rules", str(ALERT_RULES)]):
        result = subprocess.run([promtool, *check], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "SUCCESS" in result.stdout + result.stderr


def test_prometheus_scrapes_every_part(monitored: Monitored) -> None:
    expected = {prometheus_server.COLLECTOR_JOB: True, prometheus_server.PROCESSORS_JOB: True, prometheus_server.SINK_JOB: True,
                prometheus_server.WEBHOOKS_JOB: True}
    wait_until(lambda: monitored.prometheus.targets_up() == expected, 60, "every part scraped")
    for part, url in monitored.metrics_urls().items():
        samples = scrape(url)
        assert total(samples, "process_resident_memory_bytes") > 0, part
        assert total(samples, "process_cpu_seconds_total") > 0, part


def test_collector_metrics_add_up_over_its_worker_processes(monitored: Monitored) -> None:
    """Each scrape reaches one of the two workers; every one must report all requests."""
    url = monitored.pipeline.collector.url
    supervisor = psutil.Process(monitored.pipeline.collector.process.pid)
    assert len(supervisor.children()) >= 2
    requests = 40
    with ThreadPoolExecutor(max_workers=20) as pool:  # concurrent connections reach both workers
        statuses = list(pool.map(partial(identify, url), range(requests)))
    assert statuses == [200] * requests
    for _ in range(10):
        samples = scrape(f"{url}/metrics")  # a new connection each time, to either worker
        assert total(samples, "footfall_collector_requests_total", endpoint="identify", status="200") == requests
    rss = sum(p.memory_info().rss for p in [supervisor, *supervisor.children()])
    assert total(scrape(f"{url}/metrics"), "process_resident_memory_bytes") > 0.8 * rss


def identify(url: str, n: int) -> int:
    return httpx.post(f"{url}/v1/identify", json={"userId": f"u-{n}", "traits": {"plan": "pro"}}, auth=AUTH, timeout=10).status_code


def wait_for_series(prometheus: Prometheus, exprs: list[tuple[str, str]]) -> list[str]:
    """The expressions (with where they come from) still returning no series at the deadline;
    an expression Prometheus refuses fails at once."""
    waiting = {expr: origin for origin, expr in exprs}

    def all_answer() -> bool:
        for expr in list(waiting):
            if prometheus.query(expr):
                del waiting[expr]
        return not waiting

    try:
        wait_until(all_answer, SERIES_TIMEOUT_S, "series for every expression")
    except TimeoutError:
        pass
    return [f"{origin}: {expr}" for expr, origin in waiting.items()]


def test_every_dashboard_panel_returns_series(monitored: Monitored) -> None:
    exprs = dashboard_exprs()
    assert len(DASHBOARDS) == 2 and len(exprs) > 30
    assert wait_for_series(monitored.prometheus, exprs) == []


def test_every_alert_rule_evaluates_and_its_measure_returns_series(monitored: Monitored) -> None:
    rules = alert_rules()
    measures = []
    for rule in rules:
        match = COMPARISON.match(rule["expr"].strip())
        assert match, f"{rule['alert']}: not `measure <op> threshold`"
        measures.append((rule["alert"], match["measure"]))
        monitored.prometheus.query(rule["expr"])  # evaluates without error
        assert rule.get("for"), f"{rule['alert']} needs a `for:` duration"
        assert rule["annotations"].get("summary"), rule["alert"]
    assert wait_for_series(monitored.prometheus, measures) == []


def test_every_metric_a_dashboard_or_rule_uses_is_exported(monitored: Monitored) -> None:
    used = set()
    for _, expr in dashboard_exprs():
        used |= set(METRIC_NAME.findall(expr))
    for rule in alert_rules():
        used |= set(METRIC_NAME.findall(rule["expr"]))
    exported = {key.partition("{")[0] for url in monitored.metrics_urls().values() for key in scrape(url)}
    assert used - exported == set()
    # Each part exports its own metrics: a name nothing exports would leave a panel empty.
    assert {"footfall_processor_consumer_lag_messages", "footfall_sink_freshness_seconds_bucket"} <= used


def test_consumer_lag_covers_every_partition_and_returns_to_zero(monitored: Monitored) -> None:
    prometheus = monitored.prometheus
    # The agent's input, footfall.events: one series per partition.
    wait_until(lambda: len(prometheus.query("footfall_processor_consumer_lag_messages")) == EVENTS.partitions, 60,
               "lag of every partition")
    series = {(s["metric"]["topic"], s["metric"]["partition"]) for s in prometheus.query("footfall_processor_consumer_lag_messages")}
    assert series == {(EVENTS.name, str(p)) for p in range(EVENTS.partitions)}
    monitored.traffic.pause()
    try:
        wait_until(lambda: total(scrape(monitored.processor_metrics), "footfall_processor_consumer_lag_messages") == 0, 60, "lag 0")
    finally:
        monitored.traffic.running.set()


def test_session_counters_agree_with_clickhouse(monitored: Monitored) -> None:
    """Once traffic stops and every session closed, the counters match the sessions table."""
    monitored.traffic.pause()
    try:
        figures: dict[str, float] = {}

        def settled() -> bool:
            samples = scrape(monitored.processor_metrics)
            figures.update(
                opened=total(samples, "footfall_processor_sessions_opened_total"),
                closed=total(samples, "footfall_processor_sessions_closed_total"),
                open_now=total(samples, "footfall_processor_open_sessions"),
                converted=total(samples, "footfall_processor_sessions_closed_total", converted="true"),
                revenue=total(samples, "footfall_processor_closed_session_revenue_total"),
                **monitored.pipeline.query(
                    "SELECT count() AS landed, countIf(purchases > 0) AS landed_converted, sum(revenue) AS landed_revenue "
                    "FROM footfall.sessions FINAL WHERE NOT is_deleted"
                )[0],
            )
            return figures["open_now"] == 0 and figures["opened"] == figures["closed"] == figures["landed"] > 0

        with contextlib.suppress(TimeoutError):
            wait_until(settled, 60, "every session closed and landed")
        assert figures["open_now"] == 0, figures
        assert figures["opened"] == figures["closed"] == figures["landed"] > 0, figures
        assert figures["converted"] == figures["landed_converted"] > 0, figures
        assert figures["revenue"] == pytest.approx(figures["landed_revenue"]), figures
    finally:
        monitored.traffic.running.set()


def test_broker_stopped_fires_the_matching_alerts(monitored: Monitored) -> None:
    """Last in this module: it takes the module's broker away."""
    expected = {"FootfallCollectorErrorRatioHigh", "FootfallKafkaProduceErrors"}
    prometheus = monitored.prometheus
    assert expected & prometheus.firing() == set()
    rounds = monitored.traffic.rounds
    wait_until(lambda: monitored.traffic.rounds > rounds + 5, 30, "traffic flowing")
    monitored.broker.stop()
    wait_until(lambda: expected <= prometheus.firing(), 120, "the broker-outage alerts")
