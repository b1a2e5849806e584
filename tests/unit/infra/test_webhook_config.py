"""`[[sites.webhooks]]` as a site writes it: read from the TOML file, and every mistake
refused when the configuration loads, with the field at fault and never the secret."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from infra.config import Settings, Site

SECRET = "whsec-0123456789abcdef"
CONFIG = f"""
[[sites]]
id = "shop"
write_key = "shop_key"

[[sites.funnels]]
name = "checkout"
window_s = 600
steps = [{{type = "page_view"}}, {{type = "purchase"}}]

[[sites.webhooks]]
url = "https://crm.example/hooks/footfall"
secret = "{SECRET}"
on = ["segment_entered", "segment_left", "funnel_completed"]
segments = ["cart_abandoners"]
funnels = ["checkout"]
"""


def site(**hook) -> Site:
    return Site(id="shop", write_key="k", funnels=[{"name": "checkout", "steps": []}],
                webhooks=[{"url": "https://crm.example/hook", "secret": SECRET, "on": ["segment_entered"], **hook}])


def test_a_site_lists_its_webhooks_in_the_config_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "footfall.toml"
    config.write_text(CONFIG)
    monkeypatch.setenv("FOOTFALL_CONFIG", str(config))
    settings = Settings()
    [hook] = settings.sites[0].webhooks
    assert (hook.url, hook.secret, hook.segments, hook.funnels) == ("https://crm.example/hooks/footfall", SECRET, ["cart_abandoners"], ["checkout"])
    assert hook.on == ["segment_entered", "segment_left", "funnel_completed"]
    assert settings.webhooks_configured
    assert not Settings(sites=[Site(id="blog", write_key="b")]).webhooks_configured


@pytest.mark.parametrize("hook, refusal", [
    ({"on": ["segment_entred"]}, "on.0"),
    ({"on": []}, "at least 1 item"),
    ({"on": ["segment_left", "segment_left"]}, "more than once"),
    ({"url": "ftp://crm.example/hook"}, "http:// or https://"),
    ({"url": "javascript:alert(1)"}, "http:// or https://"),
    ({"url": "crm.example/hook"}, "http:// or https://"),
    ({"url": "https:///hook"}, "names no host"),
    ({"url": "https://user:pw@crm.example/hook"}, "credentials"),
    ({"url": "https://crm.example:99999/hook"}, "not a URL"),
    ({"url": "https://crm.example/ho ok"}, "spaces or control"),
    ({"url": "https://crm.example/" + "a" * 3000}, "at most 2048"),
    ({"secret": "short"}, "at least 16"),
    ({"segments": ["a b"]}, "segments.0"),
    ({"segments": [f"s{i}" for i in range(101)]}, "at most 100"),
    ({"funnels": ["signup"]}, "funnels the site does not have: signup"),
    ({"headers": {"x": "y"}}, "Extra inputs"),
])
def test_a_mistake_is_refused_at_load_with_a_clear_reason(hook: dict, refusal: str) -> None:
    with pytest.raises(ValidationError, match=refusal) as refused:
        site(**hook)
    assert SECRET not in str(refused.value) and "pw@" not in str(refused.value)


def test_a_site_has_a_bounded_number_of_hooks() -> None:
    hooks = [{"url": f"https://crm.example/{i}", "secret": SECRET, "on": ["segment_left"]} for i in range(21)]
    with pytest.raises(ValidationError, match="at most 20"):
        Site(id="shop", write_key="k", webhooks=hooks)


def test_retry_settings_are_bounded() -> None:
    with pytest.raises(ValidationError, match="webhook_timeout_s"):
        Settings(webhook_timeout_s=0)
    with pytest.raises(ValidationError, match="webhook_retry_s"):
        Settings(webhook_retry_s=-1)
