import time
from datetime import UTC, datetime

import pytest

from collector.enrich import RequestMeta, normalise
from collector.geo import Geolocator
from collector.parsing import validate_message
from collector.useragent import AgentBudget, device_class, parse_user_agent

LOCATE = Geolocator().locate

CASES = [
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
     "Chrome", "Windows", "desktop"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
     "Mobile Safari", "iOS", "mobile"),
    ("Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
     "Mobile Safari", "iOS", "tablet"),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36",
     "Chrome Mobile", "Android", "mobile"),
    ("Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
     "Chrome", "Android", "tablet"),
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Googlebot", None, "bot"),
]


@pytest.mark.parametrize(("ua", "browser", "os", "device"), CASES)
def test_known_agents(ua: str, browser: str, os: str | None, device: str) -> None:
    agent = parse_user_agent(ua)
    assert (agent.browser, agent.os, agent.device) == (browser, os, device)


def test_versions_and_missing_agent() -> None:
    assert parse_user_agent(CASES[0][0]).browser_version == "130.0.0"
    assert parse_user_agent(None).device == "unknown"
    assert parse_user_agent("").browser is None


def test_device_class_falls_back_to_unknown() -> None:
    assert device_class("curl/8.0", None, None) == "unknown"
    assert device_class("Mozilla/5.0 (X11; Linux x86_64)", None, "Linux") == "desktop"


def test_one_request_has_a_bounded_number_of_new_agents_parsed() -> None:
    budget = AgentBudget(remaining=3)
    fresh = [f"Mozilla/5.0 (X11; Linux x86_64) Budget/{n}.{time.time_ns()}" for n in range(5)]
    assert [budget.allows(agent) for agent in fresh] == [True, True, True, False, False]
    assert budget.allows(None) and budget.allows("")
    parse_user_agent(fresh[0])  # parsed once, known from then on
    assert AgentBudget(remaining=0).allows(fresh[0]) and not AgentBudget(remaining=0).allows(fresh[4])


def test_a_request_past_its_budget_stores_its_messages_without_describing_them() -> None:
    meta = RequestMeta("demo", datetime.now(UTC), "192.0.2.1", None, AgentBudget(remaining=1))
    stamp = time.time_ns()
    agents = [f"Mozilla/5.0 (compatible; Googlebot/2.1; +{stamp}-{n})" for n in range(2)]
    events = [normalise(validate_message({"type": "page", "anonymousId": "a", "context": {"userAgent": agent}}), meta, lambda: "x", LOCATE)
              for agent in agents]
    assert events[0].bot and events[0].device == "bot"
    assert not events[1].bot and events[1].device == "unknown" and events[1].browser is None
