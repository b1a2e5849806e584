"""The committed Prometheus configuration is the one footfall writes for the default ports."""

from __future__ import annotations

import yaml

from footfall.local.prometheus_server import WEBHOOKS_JOB, Targets, duration, scrape_config
from tests.support.paths import DEPLOY
from infra.config import Settings, Site


def test_committed_config_scrapes_the_default_stack() -> None:
    defaults = Settings.model_construct()  # the defaults alone, whatever this environment sets
    committed = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    assert committed == scrape_config(Targets.from_settings(defaults), ["alerts.yml"])
    assert committed["scrape_configs"][0]["static_configs"][0]["targets"] == ["127.0.0.1:8080"]


def test_a_collector_on_every_interface_is_scraped_on_loopback() -> None:
    settings = Settings.model_construct(collector_host="0.0.0.0", collector_port=9000)
    assert Targets.from_settings(settings).collector == ["127.0.0.1:9000"]


def test_durations_are_what_prometheus_accepts() -> None:
    assert [duration(15), duration(1.0), duration(0.5)] == ["15s", "1s", "500ms"]


def test_the_webhook_deliverer_is_scraped_when_a_site_has_webhooks() -> None:
    hook = {"url": "https://crm.example/hook", "secret": "0123456789abcdef", "on": ["segment_entered"]}
    settings = Settings(sites=[Site(id="shop", write_key="k", webhooks=[hook])], webhook_metrics_port=9200)
    jobs = {job["job_name"]: job["static_configs"][0]["targets"] for job in scrape_config(Targets.from_settings(settings), [])["scrape_configs"]}
    assert jobs[WEBHOOKS_JOB] == ["127.0.0.1:9200"]
    without = scrape_config(Targets.from_settings(Settings.model_construct()), [])["scrape_configs"]
    assert WEBHOOKS_JOB not in {job["job_name"] for job in without}
