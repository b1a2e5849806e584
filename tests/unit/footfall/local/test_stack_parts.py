"""`footfall up` starts the webhook deliverer when a site has webhooks, and only then."""

from __future__ import annotations

from pathlib import Path

from footfall.local.processes import Registry
from footfall.local.stack import parts
from infra.config import Settings, Site

HOOK = {"url": "https://crm.example/hook", "secret": "0123456789abcdef", "on": ["funnel_completed"]}


def test_the_deliverer_is_a_part_only_when_a_site_has_webhooks(tmp_path: Path) -> None:
    registry = Registry(tmp_path / "stack.json")
    plain = Settings(state_dir=tmp_path, sites=[Site(id="blog", write_key="b")])
    assert [part.name for part in parts(plain, registry)] == ["kafka", "collector", "processors", "sink"]
    hooked = Settings(state_dir=tmp_path, webhook_metrics_port=9300,
                      sites=[Site(id="blog", write_key="b"), Site(id="shop", write_key="s", webhooks=[HOOK])])
    names = [part.name for part in parts(hooked, registry, monitoring=True)]
    assert names == ["kafka", "collector", "processors", "sink", "webhooks", "prometheus"]
    [deliverer] = [part for part in parts(hooked, registry) if part.name == "webhooks"]
    assert deliverer.address == "http://127.0.0.1:9300/metrics"
    assert not deliverer.healthy()  # nothing listens there
