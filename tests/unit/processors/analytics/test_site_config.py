"""Per-site analytics configuration from the sites Settings read: defaults, parsing and errors."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError

from infra.config import DEMO_SITE, Settings, Site
from processors.analytics import site_config
from processors.analytics.parameters import Parameters

CONFIG = """
[[sites]]
id = "shop"
write_key = "shop_key"

[sites.analytics]
cart_abandonment_hours = 2
funnel_lateness_hours = 24

[[sites.segments]]
name = "french_mobile"
description = "visitors on phones in France"
all = [{field = "country", op = "eq", value = "FR"}, {field = "device", op = "in", value = ["mobile", "tablet"]}]

[[sites.funnels]]
name = "signup"
window_s = 86400
steps = [
  {type = "page_view", field = "path", op = "eq", value = "/pricing"},
  {event = "Signed Up", any = [{field = "properties.plan", op = "in", value = ["pro", "team"]}]},
]

[[sites]]
id = "blog"
write_key = "blog_key"
"""


def sites(raw: list[dict]) -> list[Site]:
    return [Site.model_validate(site) for site in raw]


def test_a_site_with_segments_funnels_and_parameters(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "footfall.toml"
    path.write_text(CONFIG)
    monkeypatch.setenv("FOOTFALL_CONFIG", str(path))
    shop = site_config.for_sites(Settings().sites).for_site("shop")
    assert shop.analytics.cart_abandonment_hours == 2
    assert shop.analytics.churn_days == 90
    names = [segment.name for segment in shop.segment_rules]
    assert names[-1] == "french_mobile" and {"cart_abandoners", "churned", "rfm_champions"} <= set(names)
    (signup,) = shop.funnel_definitions
    assert (signup.name, len(signup.steps), signup.window_ms, signup.lateness_ms) == ("signup", 2, 86_400_000, 86_400_000)


def test_sites_without_analytics_get_the_defaults() -> None:
    config = site_config.for_sites(sites(tomllib.loads(CONFIG)["sites"]))
    blog, demo = config.for_site("blog"), site_config.for_sites([DEMO_SITE]).for_site("demo")
    for site in (blog, demo):
        assert site.analytics == Parameters()
        assert "new" in {segment.name for segment in site.segment_rules}
    assert blog.funnel_definitions == ()
    # The demo shop configures its checkout, which the demo traffic walks through.
    (checkout,) = demo.funnel_definitions
    assert (checkout.name, len(checkout.steps), checkout.window_ms) == ("checkout", 4, 86_400_000)


def test_builtins_can_be_turned_off() -> None:
    site = site_config.for_sites(sites([{"id": "s", "write_key": "k", "analytics": {"builtin_segments": False}}])).for_site("s")
    assert site.segment_rules == ()


@pytest.mark.parametrize(
    ("site", "message"),
    [
        ({"analytics": {"churn_days": 10, "at_risk_days": 30}}, r"churn_days \(10.0\) must be greater than at_risk_days"),
        ({"analytics": {"cart_abandonment_hour": 2}}, "cart_abandonment_hour"),
        ({"analytics": {"deep_scroll_pct": 120}}, "deep_scroll_pct"),
        ({"segments": [{"name": "new", "field": "sessions", "op": "eq", "value": 1}]}, "segment names must be unique .*: new"),
        ({"segments": [{"name": "x", "field": "revenue", "op": "gtt", "value": 1}]}, r"segments\[0\] \(x\): field 'revenue' has unknown op 'gtt'"),
        ({"funnels": [{"name": "f", "window_s": 0, "steps": [{"event": "A"}]}]}, "window_s"),
        ({"funnels": [{"name": "f", "window_s": 60, "steps": [{"type": "clik"}]}]}, r"steps\[0\]: unknown type 'clik'"),
        ({"funnels": [{"name": "f", "window_s": 60, "steps": [{"event": "A"}]}] * 2}, "funnel names must be unique: f"),
        ({"webhooks": [{"url": "https://crm.example/h", "secret": "0123456789abcdef", "on": ["segment_left"],
                        "segments": ["cart_abandoners", "cart_abandonners"]}]}, "webhooks name segments the site does not have: cart_abandonners"),
    ],
)
def test_mistakes_name_the_site_and_what_is_wrong(site: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as error:
        site_config.for_sites(sites([{"id": "shop", "write_key": "k", **site}]))
    assert "sites.0" in str(error.value)


def test_webhooks_may_filter_on_built_in_and_own_segments() -> None:
    hook = {"url": "https://crm.example/h", "secret": "0123456789abcdef", "on": ["segment_entered"], "segments": ["purchasers", "vip"]}
    own = [{"name": "vip", "field": "revenue", "op": "gte", "value": 1000}]
    site = site_config.for_sites(sites([{"id": "shop", "write_key": "k", "segments": own, "webhooks": [hook]}])).for_site("shop")
    assert site.webhook_segments == ("purchasers", "vip")
