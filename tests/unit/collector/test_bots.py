"""Which events robots sent: real user agents of crawlers, headless browsers, browsers and
server-side senders, one per row."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from collector.bots import is_bot
from collector.enrich import RequestMeta, normalise
from collector.geo import Place
from collector.parsing import validate_message
from collector.useragent import MAX_AGENT_CHARS

CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"

AGENTS = [
    # Crawlers: ua-parser's spiders and the crawler list's patterns.
    (GOOGLEBOT, True),
    ("Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.6778.69 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", True),
    ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", True),
    ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) "
     "Chrome/116.0.1938.76 Safari/537.36", True),
    ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; GPTBot/1.2; +https://openai.com/gptbot", True),
    ("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", True),
    # Headless browsers, as Puppeteer and Playwright run Chromium by default, and PhantomJS.
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36", True),
    ("Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1", True),
    # People's browsers.
    (CHROME, False),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.5 Mobile/15E148 Safari/604.1", False),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", False),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", False),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", False),
    # Server-side senders: SDKs and HTTP clients, which the crawler list would call scrapers.
    ("analytics-python/2.4.0", False),
    ("analytics-node/6.0.0", False),
    ("curl/8.5.0", False),
    ("python-requests/2.32.3", False),
    ("Go-http-client/1.1", False),
    ("Java/17.0.1", False),  # a spider to ua-parser, but no browser runs it
    ("okhttp/4.12.0", False),
    ("", False),
    (None, False),
]


@pytest.mark.parametrize(("user_agent", "bot"), AGENTS)
def test_crawlers_and_headless_browsers_are_bots_and_nothing_else(user_agent: str | None, bot: bool) -> None:
    assert is_bot(user_agent) is bot


def test_only_the_first_characters_of_a_huge_agent_are_read() -> None:
    assert is_bot(GOOGLEBOT + " " + "x" * 100_000)
    assert not is_bot(CHROME + " " * MAX_AGENT_CHARS + "GPTBot/1.2")


def event_of(message: dict, header_agent: str | None):
    meta = RequestMeta("shop", datetime(2026, 11, 25, 10, tzinfo=UTC), "203.0.113.9", header_agent)
    return normalise(validate_message(message), meta, lambda: "fallback", lambda ip: Place(None, None, None))


@pytest.mark.parametrize(
    ("context_agent", "header_agent", "bot"),
    [
        (None, GOOGLEBOT, True),  # a crawler running the page's script
        (None, "analytics-python/2.4.0", False),  # a backend sending on its own behalf
        (None, None, False),  # an import that names nothing
        (CHROME, "analytics-python/2.4.0", False),  # a backend forwarding a person's visit
        (GOOGLEBOT, "analytics-node/6.0.0", True),  # a backend forwarding a crawler's visit
        ("curl/8.5.0", GOOGLEBOT, False),  # the message's own agent is the one read
    ],
)
def test_the_event_is_marked_by_the_messages_agent_else_the_requests(
    context_agent: str | None, header_agent: str | None, bot: bool
) -> None:
    message = {"type": "page", "anonymousId": "a1", "messageId": "m1"}
    if context_agent is not None:
        message["context"] = {"userAgent": context_agent}
    event = event_of(message, header_agent)
    assert event.bot is bot
    assert '"bot":' + ("true" if bot else "false") in event.model_dump_json()
