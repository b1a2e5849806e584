"""Privacy at the edge: a browser's request not to be tracked, and IP anonymisation,
applied before an address is kept anywhere."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from functools import lru_cache


def declines_tracking(headers: Mapping[str, str]) -> bool:
    """Whether the browser sent Do Not Track (`DNT: 1`) or Global Privacy Control (`Sec-GPC: 1`).

    footfall.js checks the same signals before sending anything; this holds the line for any
    other SDK that runs in a browser.
    """
    return headers.get("dnt", "").strip() == "1" or headers.get("sec-gpc", "").strip() == "1"


def _dotted_quad(raw: str) -> list[str] | None:
    parts = raw.split(".")
    if len(parts) == 4 and all(p.isdigit() and len(p) <= 3 and int(p) <= 255 for p in parts):
        return parts
    return None


@lru_cache(maxsize=65536)
def anonymise_ip(raw: str | None) -> str | None:
    """Zero the host part: the last octet of IPv4, the last 80 bits of IPv6.

    What remains still places a visitor in a network (enough for geography) but no longer
    names one machine. IPv4 mapped into IPv6, or carried in a 6to4 address, is treated as
    the IPv4 it carries. Anything that is not an IP address gives None rather than being
    passed through. Plain IPv4, by far the most common, takes a string fast path: this
    runs for every event.
    """
    if not raw:
        return None
    raw = raw.strip()
    quad = _dotted_quad(raw)
    if quad is not None:
        return f"{int(quad[0])}.{int(quad[1])}.{int(quad[2])}.0"
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        # A 6to4 address carries its IPv4 address whole in the bits a /48 keeps.
        address = address.ipv4_mapped or address.sixtofour or address
    if isinstance(address, ipaddress.IPv4Address):
        return str(ipaddress.IPv4Network((address, 24), strict=False).network_address)
    return str(ipaddress.IPv6Network((address, 48), strict=False).network_address)
