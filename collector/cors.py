"""Cross-origin rules: which web pages may send to the collector, decided per site."""

from __future__ import annotations

from collections.abc import Iterable

from infra.config import Site

ALLOWED_METHODS = "POST, GET, OPTIONS"
ALLOWED_HEADERS = "Content-Type, Content-Encoding, Authorization"
PREFLIGHT_MAX_AGE_S = "86400"


def preflight_allowed(origin: str, sites: Iterable[Site]) -> bool:
    """A preflight carries no write key, so it is allowed when some site allows the origin;
    the request that follows is checked against its own site."""
    return any(site.allows_origin(origin) for site in sites)


def cors_headers(origin: str | None, allowed: bool) -> dict[str, str]:
    if not origin or not allowed:
        return {"Vary": "Origin"}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Allow-Methods": ALLOWED_METHODS,
        "Access-Control-Allow-Headers": ALLOWED_HEADERS,
        "Access-Control-Max-Age": PREFLIGHT_MAX_AGE_S,
        "Vary": "Origin",
    }
