"""One person found, exported and erased on the real embedded engine, ids as hostile as
ids can be; another person on the same pages is left exactly as they were."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from infra.clickhouse.embedded import EmbeddedClickHouse
from infra.clickhouse.migrations import migrate
from infra.config import Settings
from infra.keys import keyed_hash, site_key
from infra.people.finding import Refused, TooManyIds, find_person
from infra.people.request import PersonRequest
from infra.people.service import People
from schemas.erasures import Erasure
from tests.support.person_traces import holding as holding_in
from tests.support.person_traces import rows_naming

SITE = "shop"
USER = "U'; DROP TABLE footfall.events; --\\"
FIRST = "a1\x00'\\é𝄞"
SECOND = "a2-" + "\\'" * 90
OTHER = "other-visitor"
TRAIT = "jane.doe@example.com"
HOUR = "2026-11-30 10"
PERSON_ROWS = {"events": 5, "sessions": 2, "segment_membership": 1, "segment_changes": 1, "funnel_progress": 1,
               "customers": 1, "customer_personas": 1, "invalid_events": 1, "rejected_rows": 1}


def event(n: int, anonymous_id: str, user_id: str = "", name: str = "Page Viewed", **fields: object) -> dict:
    kind = {"Page Viewed": "page_view", "Order Completed": "purchase"}.get(name, "track")
    return {"event_id": f"e{n}", "site_id": SITE, "type": kind, "name": name, "ts": f"{HOUR}:0{n % 10}:00.000",
            "received_at": f"{HOUR}:00:00.000", "anonymous_id": anonymous_id, "user_id": user_id, "session_id": f"s-{anonymous_id}",
            "path": "/pricing", "properties": "{}", "version": 1, "bot": 0, **fields}


def click(n: int, anonymous_id: str) -> dict:
    return event(n, anonymous_id, name="Element Clicked", x=10.0, y=10.0, page_width=1000.0)


def visitor_rows(visitor: str, customer: str) -> dict[str, list[dict]]:
    at = f"{HOUR}:00:00.000"
    return {
        "sessions": [{"site_id": SITE, "session_id": f"s-{visitor}", "anonymous_id": visitor, "user_id": "", "started_at": at,
                      "ended_at": at, "version": 1, "is_deleted": 0}],
        "segment_membership": [{"site_id": SITE, "segment": "new", "anonymous_id": visitor, "customer_id": customer, "since": at,
                                "version": 1, "is_deleted": 0}],
        "segment_changes": [{"site_id": SITE, "segment": "new", "anonymous_id": visitor, "customer_id": customer,
                             "change": "entered", "at": at, "version": 1}],
        "funnel_progress": [{"site_id": SITE, "funnel": "checkout", "anonymous_id": visitor, "customer_id": customer, "level": 1,
                             "step_at": [at], "late": 0, "version": 1}],
    }


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[EmbeddedClickHouse]:
    backend = EmbeddedClickHouse(tmp_path / "clickhouse")
    migrate(backend)
    at = f"{HOUR}:00:00.000"
    backend.insert("footfall.events", [
        event(1, FIRST), click(2, FIRST), event(3, FIRST, USER, "Order Completed", revenue=30.0),
        event(4, SECOND, USER, properties=orjson.dumps({"email": TRAIT}).decode(), traits='{"age":41,"occupation":"nurse"}'),
        event(5, SECOND, name="Survey Responded", properties='{"survey": "nps", "score": 9}'),
        event(6, OTHER), click(7, OTHER),
    ])
    for visitor, customer in ((FIRST, USER), (OTHER, OTHER)):
        for table, rows in visitor_rows(visitor, customer).items():
            backend.insert(f"footfall.{table}", rows)
    backend.insert("footfall.sessions", [{"site_id": SITE, "session_id": "s-second", "anonymous_id": SECOND, "user_id": USER,
                                          "started_at": at, "ended_at": at, "version": 1, "is_deleted": 0}])
    backend.insert("footfall.customers", [
        {"site_id": SITE, "customer_id": customer, "anonymous_id": anonymous, "user_id": user, "purchases": 1, "revenue": 30.0,
         "nps": 9, "updated_at": at, "version": 1, "is_deleted": 0}
        for customer, anonymous, user in ((USER, SECOND, USER), (OTHER, OTHER, ""))
    ])
    backend.insert("footfall.customer_personas", [
        {"site_id": SITE, "customer_id": customer, "persona_id": 1, "fitted_at": at} for customer in (USER, OTHER)
    ])
    backend.insert("footfall.invalid_events", [
        {"site_id": SITE, "received_at": at, "endpoint": "/v1/batch", "reason": "bad timestamp",
         "raw": orjson.dumps({"anonymousId": visitor, "traits": {"email": TRAIT if visitor == FIRST else "x@y.z"}}).decode()}
        for visitor in (FIRST, OTHER)
    ])
    backend.insert("footfall.rejected_rows", [
        {"site_id": SITE, "target_table": "customers", "reason_class": "refused", "reason": "out of range", "source": "",
         "content": orjson.dumps({"customer_id": customer}).decode(), "rejected_at": at, "key": customer}
        for customer in (USER, OTHER)
    ])
    yield backend
    backend.close()


def people(engine: EmbeddedClickHouse, tmp_path: Path, published: list[Erasure]) -> People:
    return People(engine, Settings(state_dir=tmp_path), publish=lambda settings, erasure: published.append(erasure))


def holding(engine: EmbeddedClickHouse, value: str) -> list[str]:
    return holding_in(engine.query, value)


def others(engine: EmbeddedClickHouse) -> dict[str, list[bytes]]:
    return rows_naming(engine.query, tuple(PERSON_ROWS), OTHER)


def rollups(engine: EmbeddedClickHouse) -> dict[str, list[dict]]:
    return {
        "page_hourly": engine.query("SELECT path, hour, bot, uniqExactMerge(views) AS views, uniqMerge(visitors) AS visitors "
                                    "FROM footfall.page_hourly GROUP BY path, hour, bot ORDER BY path, hour"),
        "heatmap_clicks": engine.query("SELECT path, hour, y_band, x_bucket, uniqExactMerge(clicks) AS clicks "
                                       "FROM footfall.heatmap_clicks GROUP BY path, hour, y_band, x_bucket ORDER BY path"),
    }


def test_every_id_linked_to_an_anonymous_id_is_found(engine: EmbeddedClickHouse) -> None:
    person = find_person(engine, PersonRequest(site_id=SITE, anonymous_id=FIRST))
    assert (person.user_ids, set(person.anonymous_ids)) == ((USER,), {FIRST, SECOND})
    assert find_person(engine, PersonRequest(site_id="elsewhere", anonymous_id=FIRST)).ids == (FIRST,)
    with pytest.raises(TooManyIds):
        find_person(engine, PersonRequest(site_id=SITE, user_id=USER), limit=2)


def test_the_export_holds_every_row_of_theirs_and_none_of_anyone_else(engine: EmbeddedClickHouse, tmp_path: Path) -> None:
    text = b"".join(people(engine, tmp_path, []).export(PersonRequest(site_id=SITE, user_id=USER)))
    document = orjson.loads(text)
    assert {table: len(rows) for table, rows in document["tables"].items()} == PERSON_ROWS
    assert document["summary"] == {**PERSON_ROWS, "survey_answers": 1}
    assert (document["user_ids"], set(document["anonymous_ids"])) == ([USER], {FIRST, SECOND})
    assert OTHER.encode() not in text and b"x@y.z" not in text
    assert TRAIT in document["tables"]["invalid_events"][0]["raw"]
    assert [row["traits"] for row in document["tables"]["events"] if row["traits"]] == ['{"age":41,"occupation":"nurse"}']
    assert [row["persona_id"] for row in document["tables"]["customer_personas"]] == [1]


def test_forgetting_leaves_no_trace_of_them_and_everyone_else_as_they_were(engine: EmbeddedClickHouse, tmp_path: Path) -> None:
    published: list[Erasure] = []
    assert {"events.properties", "invalid_events.raw"} <= set(holding(engine, TRAIT))
    assert holding(engine, "nurse") == ["events.traits"]
    others_before = others(engine)
    erased = people(engine, tmp_path, published).forget(PersonRequest(site_id=SITE, anonymous_id=SECOND), "cli:alice")
    assert (erased.removed, erased.rebuilt_hours, erased.ids) == (PERSON_ROWS, 1, 3)
    for value in (USER, FIRST, SECOND, TRAIT, "nurse"):
        assert holding(engine, value) == [], value
    assert others(engine) == others_before
    assert rollups(engine) == {
        "page_hourly": [{"path": "/pricing", "hour": f"{HOUR}:00:00", "bot": 0, "views": 1, "visitors": 1}],
        "heatmap_clicks": [{"path": "/pricing", "hour": f"{HOUR}:00:00", "y_band": 0, "x_bucket": 0, "clicks": 1}],
    }
    key = site_key(Settings(state_dir=tmp_path), SITE)
    hashes = sorted(keyed_hash(key, value) for value in (USER, FIRST, SECOND))
    assert [sorted(erasure.id_hashes) for erasure in published] == [hashes]
    audit = engine.query("SELECT requested_by, id_hashes, found, removed FROM footfall.erasure_audit")
    assert audit == [{"requested_by": "cli:alice", "id_hashes": hashes, "found": 1, "removed": PERSON_ROWS}]
    mutations = [row["command"] for row in engine.query("SELECT command FROM system.mutations")]
    assert mutations and not [command for command in mutations if any(value in command for value in ("DROP", "é", "a2-", TRAIT))]


def test_forgetting_again_or_forgetting_nobody_removes_nothing_and_records_only_hashes(engine: EmbeddedClickHouse, tmp_path: Path) -> None:
    service = people(engine, tmp_path, [])
    service.forget(PersonRequest(site_id=SITE, user_id=USER), "cli:alice")
    again = service.forget(PersonRequest(site_id=SITE, user_id=USER), "cli:alice")
    nobody = service.forget(PersonRequest(site_id=SITE, user_id="nobody-at-all"), "http")
    assert not again.found and not nobody.found and again.rebuilt_hours == nobody.rebuilt_hours == 0
    assert set(again.removed.values()) == {0} and nobody.ids == 1
    assert engine.query("SELECT count() AS n FROM footfall.erasure_audit")[0]["n"] == 3
    assert holding(engine, "nobody-at-all") == []
    assert engine.query("SELECT count() AS n FROM footfall.events")[0]["n"] == 2


def test_an_erasure_kafka_did_not_acknowledge_deletes_nothing(engine: EmbeddedClickHouse, tmp_path: Path) -> None:
    def unreachable(settings: Settings, erasure: Erasure) -> None:
        raise ConnectionError("no broker")

    with pytest.raises(ConnectionError):
        People(engine, Settings(state_dir=tmp_path), publish=unreachable).forget(PersonRequest(site_id=SITE, user_id=USER), "cli")
    assert engine.query("SELECT count() AS n FROM footfall.events")[0]["n"] == 7
    assert engine.query("SELECT count() AS n FROM footfall.erasure_audit")[0]["n"] == 0


def test_a_cluster_is_refused_before_anything_is_published_or_deleted(engine: EmbeddedClickHouse, tmp_path: Path) -> None:
    """On a cluster the ids would reach one node's Memory table only: refused, never half done."""
    published: list[Erasure] = []
    on_a_cluster = People(engine, Settings(state_dir=tmp_path, clickhouse_cluster="shards"), publish=lambda s, e: published.append(e))
    request = PersonRequest(site_id=SITE, user_id=USER)
    with pytest.raises(Refused, match="cluster 'shards'"):
        on_a_cluster.forget(request, "cli")
    with pytest.raises(Refused, match="cluster 'shards'"):
        on_a_cluster.export(request)
    assert published == []
    assert engine.query("SELECT count() AS n FROM footfall.events")[0]["n"] == 7


def test_a_shared_id_linked_to_more_ids_than_the_limit_is_refused_from_a_bounded_read(engine: EmbeddedClickHouse) -> None:
    """One anonymous id sent with thousands of user ids: no query reads them all."""
    engine.insert("footfall.events", [event(100 + n, "shared-device", f"user-{n}") for n in range(300)])
    answers: list[int] = []

    class Counting:
        def __getattr__(self, name: str) -> object:
            return getattr(engine, name)

        def query(self, sql: str) -> list[dict]:
            rows = engine.query(sql)
            answers.append(len(rows))
            return rows

    with pytest.raises(TooManyIds):
        find_person(Counting(), PersonRequest(site_id=SITE, anonymous_id="shared-device"), limit=20)  # type: ignore[arg-type]
    assert answers and max(answers) <= 21
    assert len(find_person(engine, PersonRequest(site_id=SITE, anonymous_id="shared-device"), limit=301).ids) == 301
