"""Where a visitor is, from the IP address of their request, found before the address is
anonymised (afterwards it no longer names a network precisely enough).

The country always comes from an offline registry database that ships inside a Python
wheel: no file to download, no account, no network. Registries record the country an
address block was assigned to, which agrees with where it is used for the great majority
of addresses. An operator who wants region and city configures a MaxMind City database
(GeoLite2-City or GeoIP2-City, FOOTFALL_GEOIP_CITY_DB); where it knows an address its
country wins too, since MaxMind places addresses where they are used.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import iptocc
import maxminddb

# Visitors come back, and a page sends several batches: most lookups repeat.
CACHED_ADDRESSES = 65536


@dataclass(frozen=True)
class Place:
    country: str | None = None  # ISO 3166-1 alpha-2
    region: str | None = None  # the first-level subdivision: a state, a region, a nation
    city: str | None = None


NOWHERE = Place()


class GeoDatabaseError(RuntimeError):
    """The configured MaxMind database cannot be used; raised when the collector starts."""


def open_city_database(path: Path) -> maxminddb.Reader:
    try:
        reader = maxminddb.open_database(str(path))
    except (OSError, ValueError, maxminddb.InvalidDatabaseError) as exc:
        raise GeoDatabaseError(f"FOOTFALL_GEOIP_CITY_DB={path}: not a readable MaxMind database ({exc})") from None
    database_type = reader.metadata().database_type
    if "City" not in database_type:
        reader.close()
        raise GeoDatabaseError(
            f"FOOTFALL_GEOIP_CITY_DB={path}: a {database_type} database has no regions or "
            "cities; configure a GeoLite2-City or GeoIP2-City database"
        )
    return reader


def _english_name(record: dict[str, Any] | None) -> str | None:
    return ((record or {}).get("names") or {}).get("en")


def place_in(record: dict[str, Any] | None) -> Place:
    """A MaxMind City record as a Place; its fields are all optional."""
    if not record:
        return NOWHERE
    subdivisions = record.get("subdivisions") or [None]
    country = (record.get("country") or record.get("registered_country") or {}).get("iso_code")
    return Place(country, _english_name(subdivisions[0]), _english_name(record.get("city")))


def _plain_address(raw: str) -> str | None:
    """The address as the databases expect it: IPv4 carried in IPv6 unwrapped; None when
    it is no address at all."""
    if ":" not in raw:
        return raw
    try:
        address = ipaddress.IPv6Address(raw)
    except ValueError:
        return None
    return str(address.ipv4_mapped or address)


class Geolocator:
    """Looks addresses up; one per collector process, opened once."""

    def __init__(self, city_database: Path | None = None):
        self._city = open_city_database(city_database) if city_database else None
        self.locate = lru_cache(maxsize=CACHED_ADDRESSES)(self._locate)

    def _locate(self, raw: str | None) -> Place:
        address = _plain_address(raw.strip()) if raw else None
        if not address:
            return NOWHERE
        country = iptocc.country_code(address)
        if self._city is None:
            return Place(country) if country else NOWHERE
        try:
            found = place_in(self._city.get(address))
        except ValueError:  # not an address
            return NOWHERE
        return Place(found.country or country, found.region, found.city)
