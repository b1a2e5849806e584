"""The people forgotten, as the erasures topic says: records applied as compaction keeps
them, ids matched only through the site's keyed hashes, and every record that is not an
erasure refused alone, with a reason, whatever it holds."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from infra.erasures import Forgotten, MalformedErasure
from infra.keys import keyed_hash
from schemas.erasures import MAX_IDS, Erasure

KEYS = {"shop": b"shop-key", "blog": b"blog-key"}


def forgotten() -> Forgotten:
    return Forgotten(KEYS.__getitem__)


def erasure(site_id: str, *ids: str) -> Erasure:
    return Erasure(site_id=site_id, id_hashes=[keyed_hash(KEYS[site_id], id_) for id_ in ids], requested_at=datetime(2026, 1, 2, tzinfo=UTC))


def record(e: Erasure) -> tuple[bytes, bytes]:
    return e.key, e.model_dump_json().encode()


def test_an_erasure_names_its_ids_on_its_site_only() -> None:
    people = forgotten()
    assert not people and not people.holds("shop")
    applied = people.apply(*record(erasure("shop", "anon-1", "user-1")))
    assert applied is not None and applied.site_id == "shop"
    assert people and people.holds("shop") and not people.holds("blog")
    assert people.names("shop", [None, "", "anon-1"]) and people.names("shop", ["user-1"])
    assert not people.names("shop", ["anon-2", None]) and not people.names("blog", ["anon-1"])
    assert (len(people), people.erasures, people.sites()) == (2, 1, {"shop"})


def test_ids_of_other_types_never_match_nor_fail() -> None:
    people = forgotten()
    people.apply(*record(erasure("shop", "123")))
    assert not people.names("shop", [123, 1.5, ["123"], {"id": "123"}, b"123", True])
    assert people.names("shop", [123, "123"])


def test_records_are_kept_as_compaction_keeps_them() -> None:
    people = forgotten()
    first, second = b"shop:first", b"shop:second"
    people.apply(first, erasure("shop", "anon-1", "shared").model_dump_json().encode())
    people.apply(second, erasure("shop", "anon-2", "shared").model_dump_json().encode())
    # The same key again replaces what it said; a tombstone withdraws it.
    people.apply(first, erasure("shop", "anon-3").model_dump_json().encode())
    assert not people.names("shop", ["anon-1"]) and people.names("shop", ["anon-3"]) and people.names("shop", ["shared"])
    assert people.apply(second, None) is None
    assert not people.names("shop", ["anon-2"]) and not people.names("shop", ["shared"])
    # A hash two requests share stays until both are withdrawn.
    people.apply(first, erasure("shop", "anon-1", "shared").model_dump_json().encode())
    people.apply(second, erasure("shop", "anon-2", "shared").model_dump_json().encode())
    people.apply(first, None)
    assert people.names("shop", ["shared"]) and people.names("shop", ["anon-2"]) and not people.names("shop", ["anon-1"])
    people.apply(second, None)
    assert not people and len(people) == 0
    assert people.apply(b"never-seen", None) is None and people.apply(None, None) is None


def test_an_erasure_of_ten_thousand_ids_is_held_and_matched() -> None:
    people = forgotten()
    ids = [f"anon-{n}" for n in range(MAX_IDS)]
    people.apply(*record(erasure("shop", *ids)))
    assert len(people) == MAX_IDS
    assert people.names("shop", ["anon-0"]) and people.names("shop", [f"anon-{MAX_IDS - 1}"])
    assert not people.names("shop", [f"anon-{MAX_IDS}"])


GOOD = erasure("shop", "anon-1")
MALFORMED_RECORDS = [
    (None, record(GOOD)[1], "without a key"),
    (b"", record(GOOD)[1], "without a key"),
    (GOOD.key, b"not json", "not an erasure"),
    (GOOD.key, b"\xff\xfe\x00", "not an erasure"),
    (GOOD.key, b"[]", "not an erasure"),
    (GOOD.key, b"null", "not an erasure"),
    (GOOD.key, b"[" * 100_000 + b"]" * 100_000, "not an erasure"),
    (GOOD.key, orjson.dumps({"site_id": "shop", "requested_at": "2026-01-02T00:00:00Z"}), "not an erasure"),
    (GOOD.key, orjson.dumps({"site_id": "shop", "id_hashes": [], "requested_at": "2026-01-02T00:00:00Z"}), "not an erasure"),
    (GOOD.key, orjson.dumps({"site_id": "shop", "id_hashes": "abc", "requested_at": "2026-01-02T00:00:00Z"}), "not an erasure"),
    (GOOD.key, orjson.dumps({"site_id": "shop", "id_hashes": [1], "requested_at": "2026-01-02T00:00:00Z"}), "not an erasure"),
    (GOOD.key, orjson.dumps({"site_id": "../etc", "id_hashes": GOOD.id_hashes, "requested_at": "2026-01-02T00:00:00Z"}), "not an erasure"),
    (GOOD.key, orjson.dumps({"site_id": "shop", "id_hashes": GOOD.id_hashes, "requested_at": "yesterday"}), "not an erasure"),
    (GOOD.key, orjson.dumps({"site_id": "shop", "id_hashes": ["anon-1"], "requested_at": "2026-01-02T00:00:00Z"}), "64 lowercase hex"),
    (GOOD.key, orjson.dumps({"site_id": "shop", "id_hashes": [GOOD.id_hashes[0].upper()], "requested_at": "2026-01-02T00:00:00Z"}), "64 lowercase hex"),
    (GOOD.key, orjson.dumps({"site_id": "shop", "id_hashes": ["a" * 10**6], "requested_at": "2026-01-02T00:00:00Z"}), "64 lowercase hex"),
    (GOOD.key, orjson.dumps({"site_id": "shop", "id_hashes": ["0" * 64] * (MAX_IDS + 1), "requested_at": "2026-01-02T00:00:00Z"}), "not an erasure"),
]


@pytest.mark.parametrize(("key", "value", "reason"), MALFORMED_RECORDS)
def test_a_record_that_is_no_erasure_is_refused_and_changes_nothing(key: bytes | None, value: bytes, reason: str) -> None:
    people = forgotten()
    people.apply(*record(erasure("shop", "anon-2")))
    with pytest.raises(MalformedErasure, match=reason):
        people.apply(key, value)
    assert people.names("shop", ["anon-2"]) and not people.names("shop", ["anon-1"]) and people.erasures == 1


def test_a_malformed_record_under_a_known_key_leaves_its_erasure_in_place() -> None:
    people = forgotten()
    people.apply(*record(GOOD))
    with pytest.raises(MalformedErasure):
        people.apply(GOOD.key, b"{}")
    assert people.names("shop", ["anon-1"])


def test_ids_are_found_in_text_cut_short_or_not_json() -> None:
    people = forgotten()
    people.apply(*record(erasure("shop", "anon-1", 'odd "quoted" id')))
    raw = orjson.dumps({"type": "track", "anonymousId": "anon-1", "properties": {"x": 1}}).decode()
    assert people.names_in_text("shop", raw)
    assert people.names_in_text("shop", raw[:raw.index("properties")])  # cut where the collector cut it
    assert people.names_in_text("shop", orjson.dumps({"context": {"traits": {"id": 'odd "quoted" id'}}}).decode())
    assert not people.names_in_text("shop", '{"anonymousId": "anon-10"}')
    assert not people.names_in_text("shop", "anon-1 without quotes")
    assert not people.names_in_text("blog", raw)
    assert not people.names_in_text("shop", '"\\ud800 a lone surrogate" "unterminated')


def test_an_id_sent_as_a_json_number_is_found_under_an_id_field_only() -> None:
    # The collector takes `"userId": 12345` as the id "12345"; its dead letter keeps the number.
    people = forgotten()
    people.apply(*record(erasure("shop", "12345", "-1.5")))
    for text in ('{"userId":12345,"type":"x"}', '{"type":"x","anonymousId":12345}', '{"user_id":-1.5}', '["x", {"anonymous_id":12345,'):
        assert people.names_in_text("shop", text), text
    for text in ('{"score":12345}', '{"userId":123456}', '{"userId":12345.0}', '{"userId":12345', '{"traits":"userId:12345,"}'):
        assert not people.names_in_text("shop", text), text
