"""On a cluster the retention is read from and applied to the local tables, on every node."""

from __future__ import annotations

from infra.clickhouse.retention import local_engines, retention_statements
from infra.config import Retention
from schemas.cluster import for_cluster

LOCAL = "ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/footfall/events_local', '{replica}', version) ORDER BY event_id"


def test_the_ttls_are_those_of_the_local_tables() -> None:
    engines = {"events": "Distributed('c', 'footfall', 'events_local', cityHash64(site_id))", "events_local": LOCAL,
               "person_ids": "Memory"}
    assert local_engines(engines) == {"events": LOCAL}


def test_each_ttl_change_goes_to_the_local_table_on_the_cluster() -> None:
    statements = retention_statements(local_engines({"events_local": LOCAL}), Retention(events_days=30))
    assert [for_cluster(statement, "c") for statement in statements.values()] == [
        ("ALTER TABLE footfall.events_local ON CLUSTER 'c' MODIFY TTL toDateTime(ts) + toIntervalDay(30)",)
    ]
