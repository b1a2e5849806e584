"""Whether a local service answers its health URL: one probe for every caller that asks."""

from __future__ import annotations

import httpx

PROBE_TIMEOUT_S = 2.0


def http_ok(url: str) -> bool:
    """True when a GET of `url` answers 200; False when it answers otherwise or not at all."""
    try:
        return httpx.get(url, timeout=PROBE_TIMEOUT_S).status_code == 200
    except httpx.HTTPError:
        return False
