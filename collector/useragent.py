"""User-agent strings parsed into browser, OS and device class by ua-parser.

The parser compiles its regexes lazily: compiling all of them up front (as the native
resolver does) costs about 25 MB in every collector worker, while traffic only ever
exercises a few; results are cached per distinct string, so the slower first match is
paid once per agent.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ua_parser import BasicResolver, Parser, load_lazy_builtins

BOT_DEVICE_FAMILIES = {"Spider"}
TABLET_HINTS = ("ipad", "tablet", "kindle", "silk/", "playbook")
# Real user agents are a few hundred characters; what a sender adds past this is not read,
# since matching the parser's regexes costs time in proportion to the length.
MAX_AGENT_CHARS = 512


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


def parse_user_agent(user_agent: str | None) -> Agent:
    return _parsed(agent_text(user_agent))


@lru_cache(maxsize=20_000)
def _parsed(user_agent: str | None) -> Agent:
    """Parsed once per distinct string: traffic repeats a few hundred agents over and over."""
    if not user_agent:
        return UNKNOWN
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
