"""User-agent strings parsed into browser, OS and device class by ua-parser.

The parser compiles its regexes lazily: compiling all of them up front (as the native
resolver does) costs about 25 MB in every collector worker, while traffic only ever
exercises a few; results are cached per distinct string, so the slower first match is
paid once per agent.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from ua_parser import BasicResolver, Parser, load_lazy_builtins

BOT_DEVICE_FAMILIES = {"Spider"}
TABLET_HINTS = ("ipad", "tablet", "kindle", "silk/", "playbook")
# Real user agents are a few hundred characters; what a sender adds past this is not read,
# since matching the parser's regexes costs time in proportion to the length.
MAX_AGENT_CHARS = 512
# Agents remembered, parsed, across requests; and agents one request may have parsed afresh.
# A new agent costs milliseconds of regex matching: a batch of thousands of distinct ones
# would hold a collector worker for seconds, and every request waiting on that worker.
KNOWN_AGENTS = 20_000
NEW_AGENTS_PER_REQUEST = 64


@dataclass(frozen=True)
class Agent:
    """What a user agent says about the browser, its system and the device it runs on."""

    browser: str | None
    browser_version: str | None
    os: str | None
    os_version: str | None
    device: str  # desktop | mobile | tablet | bot | unknown
    spider: bool = False  # one of the crawlers ua-parser knows


UNKNOWN = Agent(None, None, None, None, "unknown")
PARSER = Parser(BasicResolver(load_lazy_builtins()))


def _version(part: object) -> str | None:
    numbers = [getattr(part, name) for name in ("major", "minor", "patch")]
    numbers = [n for n in numbers if n]
    return ".".join(numbers) or None


def device_class(user_agent: str, device_family: str | None, os_family: str | None) -> str:
    """ua-parser names the device model; analysts want its class, which this derives.

    Tablets are told apart from phones the usual way: iPads and tablets by name, and Android
    devices without "Mobile" in the string (Google's guidance for Android tablets).
    """
    lowered = user_agent.lower()
    if device_family in BOT_DEVICE_FAMILIES or "bot" in lowered or "crawler" in lowered:
        return "bot"
    if any(hint in lowered for hint in TABLET_HINTS):
        return "tablet"
    if os_family == "Android":
        return "mobile" if "mobile" in lowered else "tablet"
    if "mobi" in lowered or os_family in {"iOS", "Windows Phone", "KaiOS"}:
        return "mobile"
    if os_family is None or os_family == "Other":
        return "unknown"
    return "desktop"


def agent_text(user_agent: str | None) -> str | None:
    """The part of a user agent that is read, and what the caches below are keyed by."""
    return user_agent[:MAX_AGENT_CHARS] if user_agent else None


_known: OrderedDict[str, Agent] = OrderedDict()


def parse_user_agent(user_agent: str | None) -> Agent:
    """Parsed once per distinct string (traffic repeats a few hundred agents over and over),
    the least recently seen forgotten first."""
    text = agent_text(user_agent)
    if not text:
        return UNKNOWN
    agent = _known.get(text)
    if agent is not None:
        _known.move_to_end(text)
        return agent
    agent = _known[text] = _parse(text)
    if len(_known) > KNOWN_AGENTS:
        _known.popitem(last=False)
    return agent


@dataclass
class AgentBudget:
    """The agents one request may still have parsed afresh; past it, its messages are stored
    without a browser, system, device or bot mark, as a message without any agent is."""

    remaining: int = NEW_AGENTS_PER_REQUEST

    def allows(self, user_agent: str | None) -> bool:
        text = agent_text(user_agent)
        if not text or text in _known:
            return True
        if self.remaining <= 0:
            return False
        self.remaining -= 1
        return True


def _parse(user_agent: str) -> Agent:
    result = PARSER.parse(user_agent)
    browser = result.user_agent
    os = result.os
    device = result.device
    os_family = os.family if os else None
    device_family = device.family if device else None
    return Agent(
        browser=browser.family if browser and browser.family != "Other" else None,
        browser_version=_version(browser) if browser else None,
        os=os_family if os_family != "Other" else None,
        os_version=_version(os) if os else None,
        device=device_class(user_agent, device_family, os_family),
        spider=device_family in BOT_DEVICE_FAMILIES,
    )
