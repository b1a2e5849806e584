"""Who sent a request: X-Forwarded-For only from trusted proxies, and the keys addresses are
rate limited under."""

from __future__ import annotations

import ipaddress

import pytest

from collector.addresses import MAX_FORWARDED_HOPS, client_address, limit_key

PROXIES = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8:ffff::/48")]


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        ("203.0.113.9", None, "203.0.113.9"),
        ("203.0.113.9", "198.51.100.7", "203.0.113.9"),  # not from a proxy: the header is the sender's say-so
        ("10.0.0.2", None, "10.0.0.2"),
        ("10.0.0.2", "198.51.100.7", "198.51.100.7"),
        ("10.0.0.2", "1.2.3.4, 198.51.100.7", "198.51.100.7"),  # what the client wrote is further left
        ("10.0.0.2", "1.2.3.4, 198.51.100.7, 10.1.1.1", "198.51.100.7"),  # through two proxies
        ("10.0.0.2", "10.9.9.9, 10.1.1.1", "10.9.9.9"),  # every hop a proxy
        ("10.0.0.2", "198.51.100.7, not-an-address", "10.0.0.2"),  # a broken chain stops at the last proxy
        ("10.0.0.2", " 2001:db8::1 ", "2001:db8::1"),
        ("::ffff:203.0.113.9", None, "203.0.113.9"),
        ("2001:db8:ffff::5", "198.51.100.7", "198.51.100.7"),
        ("testclient", "198.51.100.7", "testclient"),  # not an address at all: kept as it is
        (None, "198.51.100.7", None),
    ],
)
def test_the_client_is_the_connection_unless_a_trusted_proxy_names_it(peer: str | None, forwarded_for: str | None, client: str | None) -> None:
    assert client_address(peer, forwarded_for, PROXIES) == client


def test_no_proxy_is_trusted_unless_configured() -> None:
    assert client_address("10.0.0.2", "198.51.100.7", []) == "10.0.0.2"


def test_a_huge_forwarded_chain_is_read_only_near_its_end() -> None:
    chain = ", ".join(["198.51.100.7"] + ["10.0.0.1"] * (MAX_FORWARDED_HOPS + 1000))
    assert client_address("10.0.0.2", chain, PROXIES) == "10.0.0.1"


def test_an_ipv6_host_is_limited_by_its_64_network_and_ipv4_by_its_address() -> None:
    assert limit_key("2001:db8:1:2:aaaa::1") == limit_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert limit_key("2001:db8:1:3::1") != limit_key("2001:db8:1:2::1")
    assert limit_key("203.0.113.9") == "203.0.113.9" != limit_key("203.0.113.10")
    assert limit_key(None) == ""
    assert len(limit_key("x" * 10_000)) == 64
