"""The cluster form of the migrations: every statement accepted by the modern engine's parser,
every MergeTree table Replicated behind a Distributed table, views on the local tables."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.clickhouse.backend import ClickHouseError
from infra.clickhouse.embedded import EmbeddedClickHouse
from infra.clickhouse.literals import string_literal
from infra.clickhouse.migrations import printed_statements
from schemas.cluster import SHARDING_KEYS, NoClusterForm, checked_cluster, for_cluster
from schemas.tables import CUSTOMER_PERSONA_COLUMN, CUSTOMER_PERSONA_LOOKUP_DDL, DATABASE

CLUSTER = "analytics"
SINGLE = printed_statements()
ON_CLUSTER = printed_statements(CLUSTER)
CREATED_TABLE = re.compile(rf"^CREATE TABLE IF NOT EXISTS {DATABASE}\.(\w+)(?: ON CLUSTER '{CLUSTER}')?\s.*?ENGINE = (\w+)", re.DOTALL)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedClickHouse]:
    backend = EmbeddedClickHouse(Path(tmp_path_factory.mktemp("cluster")) / "clickhouse")
    yield backend
    backend.close()


def formatted(engine: EmbeddedClickHouse, statement: str) -> str:
    """The statement as the engine's parser reads it back (parsed only, never run)."""
    return engine.query(f"SELECT formatQuery({string_literal(statement)}) AS sql")[0]["sql"]


def engines(statements: list[str]) -> dict[str, str]:
    return dict(found.groups() for statement in statements if (found := CREATED_TABLE.match(statement.strip())))


@pytest.mark.parametrize("statement", ON_CLUSTER, ids=lambda statement: statement.strip().splitlines()[0][:80])
def test_every_cluster_statement_is_accepted_by_the_parser(engine: EmbeddedClickHouse, statement: str) -> None:
    assert f"ON CLUSTER {CLUSTER}" in formatted(engine, statement)


@pytest.mark.parametrize("garbage", ["CREATE TABLE footfall.x ON CLUSTER (a", "ALTER TABLE footfall.x ON CLUSTER 'c' FROB",
                                     "CREATE TABLE footfall.x ON CLUSTER 'c' AS footfall.y ENGINE = Distributed('c', footfall,"])
def test_the_parser_check_refuses_what_does_not_parse(engine: EmbeddedClickHouse, garbage: str) -> None:
    with pytest.raises(ClickHouseError):
        formatted(engine, garbage)


def test_every_merge_tree_table_is_replicated_behind_a_distributed_table() -> None:
    single, cluster = engines(SINGLE), engines(ON_CLUSTER)
    merge_trees = {table: kind for table, kind in single.items() if kind.endswith("MergeTree")}
    assert merge_trees and set(merge_trees) <= set(SHARDING_KEYS)
    for table, kind in merge_trees.items():
        assert cluster[f"{table}_local"] == f"Replicated{kind}"
        assert cluster[table] == "Distributed"
    distributed = [s for s in ON_CLUSTER if "ENGINE = Distributed" in s]
    assert len(distributed) == len(merge_trees)
    for table in merge_trees:
        assert any(f"AS {DATABASE}.{table}_local\nENGINE = Distributed('{CLUSTER}', {DATABASE}, {table}_local, "
                   f"{SHARDING_KEYS[table]})" in s for s in distributed)
    assert {table for table, kind in cluster.items() if kind == "Memory"} == {t for t, k in single.items() if k == "Memory"}


def test_replicated_tables_use_the_shard_and_replica_macros_and_keep_their_engine_arguments() -> None:
    events = next(s for s in ON_CLUSTER if s.startswith(f"CREATE TABLE IF NOT EXISTS {DATABASE}.sessions_local"))
    assert "ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/footfall/sessions_local', '{replica}', version, is_deleted)" in events


def test_materialized_views_read_and_write_local_tables() -> None:
    views = [s for s in ON_CLUSTER if s.startswith(f"CREATE MATERIALIZED VIEW IF NOT EXISTS {DATABASE}.")]
    assert len(views) == len([s for s in SINGLE if "CREATE MATERIALIZED VIEW" in s]) > 0
    for view in views:
        assert re.search(rf" TO {DATABASE}\.\w+_local AS\n", view)
        assert re.findall(rf"\bFROM {DATABASE}\.(\w+)", view) == ["events_local"]


def test_visitors_tables_shard_by_the_visitor() -> None:
    assert SHARDING_KEYS["events"] == SHARDING_KEYS["sessions"]
    for table in ("segment_membership", "segment_changes", "funnel_progress"):
        assert SHARDING_KEYS[table] == "cityHash64(site_id, anonymous_id)"


def test_changes_go_to_the_local_tables_and_new_columns_to_the_distributed_one_too() -> None:
    single = f"ALTER TABLE {DATABASE}.heatmap_clicks ADD COLUMN IF NOT EXISTS bot UInt8, MODIFY ORDER BY (site_id, path, hour, bot)"
    assert for_cluster(single, "c") == (
        f"ALTER TABLE {DATABASE}.heatmap_clicks_local ON CLUSTER 'c' ADD COLUMN IF NOT EXISTS bot UInt8, MODIFY ORDER BY (site_id, path, hour, bot)",
        f"ALTER TABLE {DATABASE}.heatmap_clicks ON CLUSTER 'c' ADD COLUMN IF NOT EXISTS bot UInt8",
    )
    ttl = for_cluster(f"ALTER TABLE {DATABASE}.events MODIFY TTL toDateTime(ts) + toIntervalDay(30)", "c")
    assert ttl == (f"ALTER TABLE {DATABASE}.events_local ON CLUSTER 'c' MODIFY TTL toDateTime(ts) + toIntervalDay(30)",)
    assert not any("non_replicated_deduplication_window" in s for s in ON_CLUSTER)


@pytest.mark.parametrize("statement", ["INSERT INTO footfall.events VALUES (1)", "CREATE TABLE IF NOT EXISTS footfall.unknown\n(\n    a String\n)\nENGINE = MergeTree\nORDER BY a",
                                       "CREATE TABLE IF NOT EXISTS footfall.x\n(\n    a String\n)\nENGINE = Log"])
def test_a_statement_of_unknown_shape_has_no_cluster_form(statement: str) -> None:
    with pytest.raises(NoClusterForm):
        for_cluster(statement, "c")


@pytest.mark.parametrize("name", ["x'; DROP DATABASE footfall; --", "a b", "", "`c`", "c\n", "{shard}", "x" * 101])
def test_a_cluster_name_that_would_need_escaping_is_refused(name: str) -> None:
    with pytest.raises(ValueError):
        checked_cluster(name)
    with pytest.raises(ValueError):
        for_cluster(SINGLE[0], name)


def test_a_retyped_column_is_retyped_on_the_distributed_table_too() -> None:
    single = f"ALTER TABLE {DATABASE}.customers MODIFY COLUMN IF EXISTS clv_predicted Nullable(Float64)"
    assert for_cluster(single, "c") == (
        f"ALTER TABLE {DATABASE}.customers_local ON CLUSTER 'c' MODIFY COLUMN IF EXISTS clv_predicted Nullable(Float64)",
        f"ALTER TABLE {DATABASE}.customers ON CLUSTER 'c' MODIFY COLUMN IF EXISTS clv_predicted Nullable(Float64)",
    )


def test_a_computed_column_is_computed_alike_on_the_distributed_table_from_a_lookup_on_every_node() -> None:
    computed = "persona_id Nullable(UInt16) ALIAS dictGetOrNull('footfall.customer_persona_lookup', 'persona_id', (toString(site_id), customer_id))"
    assert for_cluster(CUSTOMER_PERSONA_COLUMN, "c") == (
        f"ALTER TABLE {DATABASE}.customers_local ON CLUSTER 'c' ADD COLUMN IF NOT EXISTS {computed}",
        f"ALTER TABLE {DATABASE}.customers ON CLUSTER 'c' ADD COLUMN IF NOT EXISTS {computed}",
    )
    (lookup,) = for_cluster(CUSTOMER_PERSONA_LOOKUP_DDL, "c")
    assert lookup.startswith(f"CREATE DICTIONARY IF NOT EXISTS {DATABASE}.customer_persona_lookup ON CLUSTER 'c'\n")
    # Loaded through the Distributed table: every shard's assignments on every node.
    assert f"FROM {DATABASE}.customer_personas FINAL" in lookup and "_local" not in lookup
