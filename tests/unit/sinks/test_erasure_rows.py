"""The sink and the people forgotten: a record of theirs, on any topic the sink reads, is
left out of the batch as if never published (and counted), by any id it holds or its
key's visitor; a dead letter by any string of the raw message it keeps; everyone else's
records are built as ever."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from infra.erasures import Forgotten
from infra.keys import keyed_hash
from schemas.erasures import Erasure
from schemas.topics import CUSTOMERS, DEAD_LETTER, FUNNEL_PROGRESS, SEGMENT_CHANGES, SESSIONISED, SESSIONS
from sinks.rejections import UNREADABLE
from sinks.rows import RowBatch

KEY = b"shop-key"
AT = "2026-11-25T10:00:00+00:00"


def forgotten(*ids: str) -> Forgotten:
    people = Forgotten(lambda site_id: KEY)
    erasure = Erasure(site_id="shop", id_hashes=[keyed_hash(KEY, id_) for id_ in ids], requested_at=datetime.now(UTC))
    people.apply(erasure.key, erasure.model_dump_json().encode())
    return people


def records_of(anonymous_id: str, user_id: str) -> list[tuple[str, bytes, bytes]]:
    """One record of each topic the sink reads, as the stages publish them, for one visitor."""
    key = f"shop:{anonymous_id}".encode()
    person = {"site_id": "shop", "anonymous_id": anonymous_id}
    event = {**person, "event_id": f"e-{anonymous_id}", "user_id": user_id, "type": "purchase", "name": "Order Completed",
             "ts": AT, "received_at": AT, "session_id": "s1", "revenue": 5.0}
    session = {**person, "user_id": user_id, "session_id": "s1", "started_at_ms": 1_795_600_800_000, "ended_at_ms": 1_795_600_800_000,
               "duration_s": 0.0, "events": 1, "pageviews": 0, "clicks": 0, "max_scroll_pct": 0.0, "purchases": 1, "revenue": 5.0,
               "entry_path": "", "exit_path": "", "is_bounce": True, "utm_source": "", "utm_medium": "", "utm_campaign": "",
               "referrer_host": "", "version": 1, "is_deleted": False}
    change = {**person, "customer_id": user_id, "segment": "buyers", "change": "entered", "rule": "", "at_ms": 1_795_600_800_000, "version": 1}
    customer = {**person, "customer_id": user_id, "user_id": user_id, "purchases": 1, "updated_ms": 1_795_600_800_000, "version": 1,
                **dict.fromkeys(("first_purchase_ms", "last_purchase_ms", "nps_ms", "csat_ms", "ces_ms"))}
    funnel = {**person, "customer_id": user_id, "funnel": "checkout", "reached_ms": [1_795_600_800_000], "version": 1, "late": False}
    raw = orjson.dumps({"type": "track", "userId": user_id, "event": "x" * 40}).decode()[:50]  # cut short, as the collector keeps it
    dead = {"site_id": "shop", "received_at": AT, "endpoint": "/v1/batch", "reason": "bad", "raw": raw}
    return [
        (SESSIONISED.name, key, orjson.dumps({"kind": "event", "event": event})),
        (SESSIONISED.name, key, orjson.dumps({"kind": "moved", "site_id": "shop", "event_ids": ["e1"], "session_id": "s2"})),
        (SESSIONS.name, key, orjson.dumps(session)),
        (SEGMENT_CHANGES.name, key, orjson.dumps(change)),
        (CUSTOMERS.name, key, orjson.dumps(customer)),
        (FUNNEL_PROGRESS.name, key, orjson.dumps(funnel)),
        (DEAD_LETTER.name, b"shop", orjson.dumps(dead)),
    ]


def batch_of(people: Forgotten, records: list[tuple[str, bytes, bytes]]) -> RowBatch:
    batch = RowBatch(forgotten=people)
    for offset, (topic, key, value) in enumerate(records):
        batch.take(topic, 0, offset, value, key)
    return batch


def test_every_record_of_a_forgotten_person_is_left_out_and_counted() -> None:
    people = forgotten("anon-1", "user-1")
    batch = batch_of(people, records_of("anon-1", "user-1") + records_of("anon-2", "user-2"))
    assert [row["anonymous_id"] for row in batch.events] == ["anon-2"] and len(batch.moves) == 1
    assert [row["anonymous_id"] for row in batch.sessions] == ["anon-2"]
    assert [row["customer_id"] for rows in batch.analytics.values() for row in rows] == ["user-2"] * 4
    assert len(batch.invalid) == 1 and "user-2" in batch.invalid[0]["raw"]
    assert batch.rejected == []
    assert batch.erased == {"events": 2, "sessions": 1, "segment_changes": 1, "customers": 1, "funnel_progress": 1, "invalid_events": 1}
    assert len(batch) == len(batch_of(Forgotten(lambda site_id: KEY), records_of("anon-2", "user-2"))) + 7


def test_one_id_of_the_person_is_enough() -> None:
    # Known by the user id alone: every record carrying it goes, whichever anonymous id it has.
    batch = batch_of(forgotten("user-1"), records_of("anon-9", "user-1"))
    # The move names no person but through its key, which is anon-9's: it stays.
    assert batch.events == [] and len(batch.moves) == 1 and batch.erased.total() == 6


def test_other_sites_and_an_empty_list_keep_everything() -> None:
    for people in (Forgotten(lambda site_id: KEY), forgotten("someone-else")):
        batch = batch_of(people, records_of("anon-1", "user-1"))
        assert batch.erased.total() == 0 and len(batch.events) == 1 and len(batch.invalid) == 1
    blog = [(topic, key.replace(b"shop", b"blog"), value.replace(b'"shop"', b'"blog"')) for topic, key, value in records_of("anon-1", "user-1")]
    assert batch_of(forgotten("anon-1", "user-1"), blog).erased.total() == 0


def test_hostile_records_are_set_aside_as_ever_never_fatal() -> None:
    people = forgotten("anon-1")
    hostile = [
        (SESSIONS.name, b"shop:anon-1", orjson.dumps([1, 2])),
        (SESSIONS.name, b"shop:anon-1", orjson.dumps({"site_id": 5, "anonymous_id": "anon-1"})),
        (SESSIONISED.name, b"shop:anon-1", orjson.dumps({"kind": "event", "event": "text"})),
        (DEAD_LETTER.name, None, orjson.dumps({"site_id": "shop", "raw": ["anon-1"]})),
        (CUSTOMERS.name, b"\xff\xfe:\xff", orjson.dumps({"site_id": "shop", "anonymous_id": {"deep": "anon-1"}})),
    ]
    batch = batch_of(people, hostile)
    # A record not of the stages' shapes is unreadable, as it was before erasures: its
    # person cannot be told, and it is set aside (not stored in its table), unless the text
    # kept would quote a forgotten id (its site's, or any site's when its site is unknown):
    # left out then, as `footfall forget` deletes such a row from footfall.rejected_rows.
    assert [r.reason_class for r in batch.rejected] == [UNREADABLE] * 2
    assert [r.content for r in batch.rejected] == ["[1,2]", '{"kind":"event","event":"text"}']
    assert batch.erased == {"rejected_rows": 3}
    assert batch.events == batch.sessions == batch.invalid == [] and not batch.analytics


def test_an_unreadable_record_of_another_site_or_person_is_set_aside_as_ever() -> None:
    people = forgotten("anon-1")
    kept = [
        (SESSIONS.name, b"blog:anon-1", orjson.dumps({"site_id": "blog", "anonymous_id": ["anon-1"]})),
        (SESSIONS.name, b"shop:anon-10", b'{"site_id": "shop", "anonymous_id": "anon-10", cut short'),
    ]
    batch = batch_of(people, kept + [(SESSIONS.name, b"x", b'{"anonymous_id": "anon-1", cut short')])
    assert [r.content for r in batch.rejected] == [value.decode() for _, _, value in kept]
    assert batch.erased == {"rejected_rows": 1}
