"""Personal traits and properties: the defaults, a site's own entries, and the shapes and
spellings senders really use."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from collector.enrich import RequestMeta, normalise
from collector.geo import Place
from collector.parsing import validate_message
from collector.personal_data import HASH_PREFIX, TOO_DEEP, PersonalData, folded, personal_hash
from infra.config import Settings, Site
from infra.keys import keyed_hash, site_key

KEY = b"site-key-for-tests-0123456789abcdef"
DEFAULTS = PersonalData.for_site({}, lambda: KEY)
META = RequestMeta(site_id="shop", received_at=datetime(2026, 11, 25, 10, tzinfo=UTC), client_ip=None, user_agent=None)


def hashed(value: object) -> str:
    return personal_hash(KEY, value)


def test_default_names_are_hashed_with_the_site_key_and_others_kept() -> None:
    traits = {"email": "jane@example.com", "phone": "+44 20 7946 0000", "first_name": "Jane", "lastName": "Doe",
              "name": "Jane Doe", "birthday": "1990-04-01", "username": "jdoe", "plan": "pro", "age": 34}
    scrubbed = DEFAULTS.traits(traits)
    assert scrubbed == {**{k: hashed(v) for k, v in traits.items() if k not in ("plan", "age")}, "plan": "pro", "age": 34}
    assert scrubbed["email"] == "hmac-sha256:" + keyed_hash(KEY, "jane@example.com")
    assert list(scrubbed) == list(traits)  # in the order sent


def test_a_site_overrides_a_default_and_adds_names_of_its_own() -> None:
    site = PersonalData.for_site({"email": "keep", "national_id": "drop", "loyalty_card": "hash"}, lambda: KEY)
    traits = {"email": "jane@example.com", "National-ID": "AB123456C", "loyaltyCard": 4411, "phone": "555"}
    assert site.traits(traits) == {"email": "jane@example.com", "loyaltyCard": hashed(4411), "phone": hashed("555")}


@pytest.mark.parametrize("spelling", ["email", "EMAIL", "E-Mail", "e_mail", "Email Address", "email.address", "ＥＭＡＩＬ"])
def test_names_match_whatever_their_case_and_separators(spelling: str) -> None:
    assert DEFAULTS.traits({spelling: "jane@example.com"}) == {spelling: hashed("jane@example.com")}


def test_equal_values_hash_alike_however_they_are_written() -> None:
    assert hashed(" Jane@Example.COM ") == hashed("jane@example.com")
    assert hashed(5551234) == hashed("5551234")
    assert hashed({"b": 1, "a": "X"}) == hashed({"a": "x", "b": 1})
    assert hashed("jane@example.com") != personal_hash(b"another site's key", "jane@example.com")
    assert hashed("x").startswith(HASH_PREFIX) and len(hashed("x")) == len(HASH_PREFIX) + 64


def test_the_hash_is_the_one_an_operator_computes_with_the_site_key(tmp_path) -> None:
    settings = Settings(state_dir=tmp_path, sites=[Site(id="shop", write_key="k")])
    personal = PersonalData.for_site({}, lambda: site_key(settings, "shop"))
    assert personal.traits({"email": "Jane@Example.com"})["email"] == "hmac-sha256:" + keyed_hash(
        site_key(settings, "shop"), "jane@example.com"
    )


def test_nested_objects_and_arrays_are_searched_and_a_personal_object_is_hashed_whole() -> None:
    traits = {
        "address": {"street": "1 Main St", "city": "Leeds"},
        "contacts": [{"email": "a@example.com", "role": "owner"}, {"email": "b@example.com"}, "plain"],
        "company": {"name": "Acme", "plan": "pro"},
        "deep": {"a": {"b": [{"c": {"phone": "555"}}]}},
    }
    assert DEFAULTS.traits(traits) == {
        "address": hashed({"street": "1 Main St", "city": "Leeds"}),
        "contacts": [{"email": hashed("a@example.com"), "role": "owner"}, {"email": hashed("b@example.com")}, "plain"],
        "company": {"name": hashed("Acme"), "plan": "pro"},
        "deep": {"a": {"b": [{"c": {"phone": hashed("555")}}]}},
    }


def test_a_kept_address_leaves_its_city_while_its_street_is_still_hashed() -> None:
    site = PersonalData.for_site({"address": "keep"}, lambda: KEY)
    assert site.traits({"address": {"street": "1 Main St", "postal_code": "LS1", "city": "Leeds"}}) == {
        "address": {"street": hashed("1 Main St"), "postal_code": hashed("LS1"), "city": "Leeds"}
    }


def test_dropping_removes_the_key_at_any_depth() -> None:
    site = PersonalData.for_site({"email": "drop", "phone": "drop"}, lambda: KEY)
    assert site.traits({"email": "x@y.z", "nested": [{"Phone": 1, "keep": 2}]}) == {"nested": [{"keep": 2}]}


def test_name_is_personal_in_traits_but_a_product_or_page_name_in_properties() -> None:
    properties = {"name": "Home", "products": [{"name": "Rain Shell", "email": "x@y.z"}]}
    assert DEFAULTS.properties(properties) == {"name": "Home", "products": [{"name": "Rain Shell", "email": hashed("x@y.z")}]}
    assert DEFAULTS.traits({"name": "Jane"}) == {"name": hashed("Jane")}
    listed = PersonalData.for_site({"name": "hash"}, lambda: KEY)
    assert listed.properties({"name": "Home"}) == {"name": hashed("Home")}


def test_spellings_that_fold_alike_take_the_stricter_action() -> None:
    site = PersonalData.for_site({"Email": "keep", "e-mail": "drop", "EMAIL": "hash"}, lambda: KEY)
    assert site.traits({"email": "x@y.z"}) == {}


def test_null_stays_null_and_nothing_personal_is_the_same_object_without_the_key_asked() -> None:
    def no_key() -> bytes:
        raise AssertionError("the key is asked for only when a value is hashed")

    personal = PersonalData.for_site({}, no_key)
    untouched = {"plan": "pro", "items": [{"sku": "a"}], "x": 1.5}
    assert personal.traits(untouched) is untouched
    assert personal.traits({"email": None}) == {"email": None}


def test_hostile_keys_and_values() -> None:
    long_key = "k" * 8192
    traits = {long_key: "v", "": "empty", "e\u0000mail": "nul", "email": ["a@example.com", {"b": True}], "phone": 1e300}
    scrubbed = DEFAULTS.traits(traits)
    assert scrubbed[long_key] == "v" and scrubbed[""] == "empty" and scrubbed["e\u0000mail"] == "nul"
    assert scrubbed["email"] == hashed(["a@example.com", {"b": True}])
    assert scrubbed["phone"] == hashed(1e300)
    assert folded("First Name") == folded("first_name") == folded("firstName") == "firstname"


def test_a_personal_value_too_deep_to_write_is_not_kept() -> None:
    deep: list = []
    inner = deep
    for _ in range(300):
        inner.append([])
        inner = inner[0]
    assert DEFAULTS.traits({"email": deep}) == {"email": TOO_DEEP}


def event_for(message: dict, personal: PersonalData):
    return normalise(personal.applied(validate_message(message)), META, lambda: "id", lambda ip: Place(None, None, None))


def test_an_identify_event_keeps_hashed_traits_and_the_message_itself_is_untouched() -> None:
    message = validate_message({"type": "identify", "userId": "u1", "traits": {"email": "jane@example.com", "plan": "pro"}})
    event = normalise(DEFAULTS.applied(message), META, lambda: "id", lambda ip: Place(None, None, None))
    assert event.traits == {"email": hashed("jane@example.com"), "plan": "pro"}
    assert message.traits["email"] == "jane@example.com"


def test_track_and_page_properties_are_scrubbed_and_reserved_fields_follow() -> None:
    site = PersonalData.for_site({"text": "drop", "order_id": "hash"}, lambda: KEY)
    click = event_for({"type": "track", "event": "Element Clicked", "anonymousId": "a",
                       "properties": {"selector": "#hello", "text": "Hello Jane", "x": 1, "y": 2}}, site)
    assert click.text is None and "text" not in click.properties
    order = event_for({"type": "track", "event": "Order Completed", "anonymousId": "a",
                       "properties": {"order_id": "o-1", "total": 5, "email": "jane@example.com"}}, site)
    assert order.order_id == hashed("o-1") and order.properties["email"] == hashed("jane@example.com")
    page = event_for({"type": "page", "anonymousId": "a", "properties": {"path": "/", "phone": "555"}}, site)
    assert page.properties == {"path": "/", "phone": hashed("555")}
