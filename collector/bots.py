"""Which events robots sent: crawlers and headless browsers, told apart from server-side traffic.

Robots that reach the collector run the page's script, so they run a browser, and every
browser's user agent begins with "Mozilla/". A crawler says so in it: ua-parser knows the
well-known spiders, and the crawler-user-agents list (maintained by many hands) knows
about 1,500 patterns, headless Chrome and PhantomJS among them. A user agent that is not a
browser's comes from a program (an SDK, curl, an import job) sending on a backend's behalf:
that is the site's own traffic, and so is a message that names no user agent at all.
"""

from __future__ import annotations

from functools import lru_cache

from crawleruseragents import is_crawler

from collector.useragent import agent_text, parse_user_agent

BROWSER_PREFIXES = ("Mozilla/", "Opera/")


def browser_agent(user_agent: str) -> bool:
    return user_agent.startswith(BROWSER_PREFIXES)


def is_bot(user_agent: str | None) -> bool:
    """Whether the user agent an event was sent with (the message's context.userAgent, else
    the request's User-Agent) is a crawler's or a headless browser's."""
    return _robot(agent_text(user_agent))


@lru_cache(maxsize=20_000)
def _robot(user_agent: str | None) -> bool:
    if not user_agent or not browser_agent(user_agent):
        return False
    return parse_user_agent(user_agent).spider or is_crawler(user_agent)
