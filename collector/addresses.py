"""Who sent a request: the connection's address, or the client a trusted proxy names.

X-Forwarded-For is written by whoever sends the request, so it is read only from a
connection of a proxy the configuration trusts; anyone else could pick any address to
dodge a rate limit or to be placed in another country.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# A proxy chain longer than this is not read further: the header is the sender's to fill.
MAX_FORWARDED_HOPS = 20
# An IPv6 host is usually given a whole /64: counting its addresses one by one would let it
# take a fresh one for every request.
IPV6_LIMIT_PREFIX = 64
MAX_KEY_CHARS = 64


def parse_address(text: str) -> Address | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def trusted(address: Address, proxies: Sequence[Network]) -> bool:
    return any(address.version == network.version and address in network for network in proxies)


def client_address(peer: str | None, forwarded_for: str | None, proxies: Sequence[Network]) -> str | None:
    """The connection's address; from a trusted proxy, the nearest untrusted address in
    X-Forwarded-For (read from the right, each proxy appends the address it was reached
    from). A hop that is not an address stops the walk at the last proxy that was trusted."""
    address = parse_address(peer) if peer else None
    if address is None or not forwarded_for or not trusted(address, proxies):
        return peer if address is None else str(address)
    for hop in reversed(forwarded_for.rsplit(",", MAX_FORWARDED_HOPS)[-MAX_FORWARDED_HOPS:]):
        forwarded = parse_address(hop)
        if forwarded is None:
            break
        address = forwarded
        if not trusted(forwarded, proxies):
            break
    return str(address)


def limit_key(address: str | None) -> str:
    """The key an address is rate limited under: IPv4 as is, IPv6 by its /64 network."""
    if address is None:
        return ""
    parsed = parse_address(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((parsed, IPV6_LIMIT_PREFIX), strict=False))
    return address[:MAX_KEY_CHARS]
