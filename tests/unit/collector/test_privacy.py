import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from collector.privacy import anonymise_ip


@given(st.ip_addresses(v=4))
def test_ipv4_loses_exactly_its_last_octet(address: ipaddress.IPv4Address) -> None:
    anonymised = ipaddress.IPv4Address(anonymise_ip(str(address)))
    assert int(anonymised) == int(address) & 0xFFFFFF00


@given(st.ip_addresses(v=6))
def test_ipv6_loses_exactly_its_last_80_bits(address: ipaddress.IPv6Address) -> None:
    result = anonymise_ip(str(address))
    carried = address.ipv4_mapped or address.sixtofour
    if carried is not None:
        assert result == anonymise_ip(str(carried))
        return
    assert int(ipaddress.IPv6Address(result)) == int(address) >> 80 << 80


def test_examples_and_garbage() -> None:
    assert anonymise_ip("203.0.113.195") == "203.0.113.0"
    assert anonymise_ip(" 10.1.2.3 ") == "10.1.2.0"
    assert anonymise_ip("2001:db8:85a3:1234:5678:8a2e:370:7334") == "2001:db8:85a3::"
    assert anonymise_ip("::ffff:198.51.100.9") == "198.51.100.0"
    for garbage in (None, "", "not-an-ip", "300.1.1.1", "1.2.3", "01.2.3.4.5"):
        assert anonymise_ip(garbage) is None


def test_a_6to4_address_loses_the_last_octet_of_the_ipv4_it_carries() -> None:
    """2002:AABB:CCDD::/48 is the IPv4 address AA.BB.CC.DD whole: a /48 would keep it."""
    assert anonymise_ip("2002:cb00:714d::1") == "203.0.113.0"
    assert anonymise_ip("2002:CB00:714D:1234:5678:9abc:def0:1") == "203.0.113.0"
