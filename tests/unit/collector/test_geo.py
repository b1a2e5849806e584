"""Geography from the full address: the registry's country always, region and city from a
MaxMind City database when one is configured, and clear refusals of a database that
cannot serve."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from collector.enrich import RequestMeta, normalise
from collector.geo import NOWHERE, GeoDatabaseError, Geolocator, Place
from collector.parsing import validate_message

RECEIVED = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)
# Networks registered in one country each (checked against the registry data in the wheel).
LONDON_CAFE = "86.128.12.77"
BERLIN = "79.192.40.3"


def city_database(path: Path, database_type: str = "GeoLite2-City") -> Path:
    """A MaxMind database with one London address, the rest of its /24 in Manchester,
    and a network the registry places in Germany but MaxMind in Austria."""
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type=database_type, languages=["en"])
    london = {"country": {"iso_code": "GB"}, "subdivisions": [{"names": {"en": "England"}}, {"names": {"en": "Greater London"}}],
              "city": {"names": {"en": "London"}}}
    manchester = {"country": {"iso_code": "GB"}, "subdivisions": [{"names": {"en": "England"}}], "city": {"names": {"en": "Manchester"}}}
    writer.insert_network(IPSet(["86.128.12.0/24"]), manchester)
    writer.insert_network(IPSet([f"{LONDON_CAFE}/32"]), london)
    writer.insert_network(IPSet(["79.192.40.0/24"]), {"country": {"iso_code": "AT"}, "city": {"names": {"en": "Vienna"}}})
    writer.to_db_file(str(path))
    return path


def test_the_registry_gives_the_country_of_ipv4_ipv6_and_ipv4_inside_ipv6() -> None:
    locate = Geolocator().locate
    assert locate(LONDON_CAFE) == Place("GB")
    assert locate(f"::ffff:{LONDON_CAFE}") == Place("GB")
    assert locate(" 73.0.1.1 ") == Place("US")
    assert locate("2001:4860:4860::8888").country == "US"


@pytest.mark.parametrize("raw", [None, "", "127.0.0.1", "10.1.2.3", "192.168.0.9", "::1", "not an address", "999.1.1.1", ":::"])
def test_private_loopback_and_malformed_addresses_are_nowhere(raw: str | None, tmp_path: Path) -> None:
    assert Geolocator().locate(raw) == NOWHERE
    assert Geolocator(city_database(tmp_path / "city.mmdb")).locate(raw) == NOWHERE


def test_a_city_database_adds_region_and_city_and_its_country_wins(tmp_path: Path) -> None:
    locate = Geolocator(city_database(tmp_path / "city.mmdb")).locate
    assert locate(LONDON_CAFE) == Place("GB", "England", "London")
    assert locate("86.128.12.1") == Place("GB", "England", "Manchester")
    assert locate(BERLIN) == Place("AT", None, "Vienna")
    assert locate("73.0.1.1") == Place("US")  # not in it: the registry's country alone


def test_an_event_is_placed_by_its_full_address_and_keeps_only_the_anonymised_one(tmp_path: Path) -> None:
    """The /24 the event keeps would say Manchester; the full address says London."""
    locate = Geolocator(city_database(tmp_path / "city.mmdb")).locate
    meta = RequestMeta(site_id="demo", received_at=RECEIVED, client_ip=LONDON_CAFE, user_agent=None)
    from_request = normalise(validate_message({"type": "page", "anonymousId": "a"}), meta, lambda: "id", locate)
    assert (from_request.country, from_request.region, from_request.city) == ("GB", "England", "London")
    assert from_request.ip == "86.128.12.0" and LONDON_CAFE not in from_request.model_dump_json()

    server_side = validate_message({"type": "track", "event": "E", "userId": "u", "context": {"ip": BERLIN}})
    from_context = normalise(server_side, meta, lambda: "id", locate)
    assert (from_context.country, from_context.city, from_context.ip) == ("AT", "Vienna", "79.192.40.0")


def test_a_missing_file_or_a_database_without_cities_is_refused_with_the_setting_named(tmp_path: Path) -> None:
    with pytest.raises(GeoDatabaseError, match="FOOTFALL_GEOIP_CITY_DB=.*not a readable MaxMind database"):
        Geolocator(tmp_path / "absent.mmdb")
    (tmp_path / "junk.mmdb").write_bytes(b"not a database")
    with pytest.raises(GeoDatabaseError, match="not a readable MaxMind database"):
        Geolocator(tmp_path / "junk.mmdb")
    country_only = city_database(tmp_path / "country.mmdb", database_type="GeoLite2-Country")
    with pytest.raises(GeoDatabaseError, match="GeoLite2-Country database has no regions or cities"):
        Geolocator(country_only)
