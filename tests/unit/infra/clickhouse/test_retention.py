"""The TTL statements retention is applied with: one per table whose TTL differs, none
when every table already agrees, and every table footfall creates has a retention."""

import re

from infra.clickhouse.retention import current_ttl, retention_statements, wanted_ttl
from infra.config import Retention
from schemas.migrations import MIGRATIONS
from schemas.retention import AGED_BY

ENGINE = "ReplacingMergeTree(version) PARTITION BY toYYYYMM(ts) ORDER BY (site_id, toDate(ts), event_id){ttl} SETTINGS index_granularity = 8192"
CREATED = re.compile(r"CREATE TABLE IF NOT EXISTS footfall\.(\w+)")


def engine(ttl: str | None = None) -> str:
    return ENGINE.format(ttl="" if ttl is None else f" TTL {ttl}")


def test_every_table_the_migrations_create_has_a_time_and_a_setting() -> None:
    """Tables on disk all age; a Memory table (a request's scratch, gone on restart) cannot."""
    statements = [statement for migration in MIGRATIONS for statement in migration.statements]
    created = {name for statement in statements if "ENGINE = Memory" not in statement for name in CREATED.findall(statement)}
    assert {"events", "customers", "erasure_audit"} <= created
    assert created - set(AGED_BY) == set()
    settings = {name.removesuffix("_days") for name in Retention.model_fields if not name.endswith(("_topic_days", "_topics_days"))}
    assert settings == set(AGED_BY)


def test_the_current_ttl_is_read_from_the_engine() -> None:
    assert current_ttl(engine()) is None
    assert current_ttl(engine("toDateTime(ts) + toIntervalDay(30)")) == "toDateTime(ts) + toIntervalDay(30)"
    assert current_ttl("MergeTree ORDER BY x TTL d + toIntervalDay(3)") == "d + toIntervalDay(3)"


def test_a_table_without_ttl_gets_the_configured_one() -> None:
    assert retention_statements({"events": engine()}, Retention(events_days=90)) == {
        "events": "ALTER TABLE footfall.events MODIFY TTL toDateTime(ts) + toIntervalDay(90)"
    }


def test_a_table_whose_ttl_agrees_is_left_alone() -> None:
    retention = Retention(events_days=90)
    assert retention_statements({"events": engine(wanted_ttl("events", retention))}, retention) == {}


def test_a_changed_retention_modifies_and_for_ever_removes_the_ttl() -> None:
    engines = {"events": engine("toDateTime(ts) + toIntervalDay(396)"), "sessions": engine("toDateTime(started_at) + toIntervalDay(396)")}
    assert retention_statements(engines, Retention(events_days=30, sessions_days=0)) == {
        "events": "ALTER TABLE footfall.events MODIFY TTL toDateTime(ts) + toIntervalDay(30)",
        "sessions": "ALTER TABLE footfall.sessions REMOVE TTL",
    }
    assert retention_statements({"events": engine()}, Retention(events_days=0)) == {}


def test_a_ttl_set_by_hand_is_replaced_whole() -> None:
    hand_made = engine("toDateTime(ts) + toIntervalDay(396), toDateTime(ts) + toIntervalDay(10) TO VOLUME 'cold'")
    assert retention_statements({"events": hand_made}, Retention()) == {
        "events": "ALTER TABLE footfall.events MODIFY TTL toDateTime(ts) + toIntervalDay(396)"
    }


def test_tables_footfall_does_not_own_are_left_alone() -> None:
    assert retention_statements({"schema_migrations": engine(), "someone_elses": engine()}, Retention()) == {}
