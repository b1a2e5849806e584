"""The read client: the sink's HTTP API while a sink runs, else the engine opened here."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from footfall.personas.fit import find_personas
from footfall.personas.model import CustomerFacts
from footfall.personas.rows import assignment_rows, persona_rows
from infra.clickhouse.backend import ClickHouseError
from infra.clickhouse.embedded import EmbeddedClickHouse
from infra.clickhouse.migrations import migrate
from infra.clickhouse.warehouse import OpenedHere, ThroughSink, Warehouse, open_warehouse
from infra.config import Settings
from infra.keys import sink_token
from sinks.app import create_app
from sinks.service import Writer

COST = {"site_id": "shop", "version": 1, "day": "2024-05-01", "utm_source": "google", "utm_medium": "cpc",
        "utm_campaign": "spring", "cost": 12.5, "currency": "EUR"}
COSTS_SQL = "SELECT utm_campaign, cost FROM footfall.campaign_costs FINAL"
FITTED = find_personas([CustomerFacts("c1", purchases=1, revenue=10.0), CustomerFacts("c2", purchases=2, revenue=30.0)])
FITTED_AT = datetime(2026, 11, 30, 12, tzinfo=UTC)


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def assert_reads_and_stores(warehouse: Warehouse) -> None:
    warehouse.insert_costs([COST])
    assert warehouse.query(COSTS_SQL) == [{"utm_campaign": "spring", "cost": 12.5}]
    warehouse.store_personas(persona_rows("shop", FITTED, FITTED_AT), assignment_rows("shop", FITTED, FITTED_AT))
    assert warehouse.query("SELECT p.name AS name, arraySort(groupArray(c.customer_id)) AS customers FROM footfall.personas AS p "
                           "JOIN footfall.customer_personas AS c USING (site_id, persona_id) GROUP BY name") == [
        {"name": "all customers", "customers": ["c1", "c2"]}]
    with pytest.raises(ClickHouseError, match="UNKNOWN_TABLE|does not exist"):
        warehouse.query("SELECT * FROM footfall.nope")
    with pytest.raises(ClickHouseError, match="READONLY"):
        warehouse.query("SELECT * FROM file('/etc/passwd', 'LineAsString')")


def test_with_no_sink_answering_the_engine_is_opened_here(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, sink_port=unused_port())
    with open_warehouse(settings) as warehouse:
        assert isinstance(warehouse, OpenedHere)
        assert_reads_and_stores(warehouse)  # the tables are created first: no stack ever ran here


def test_through_the_sink_reads_and_stores_over_its_http_api(tmp_path: Path) -> None:
    backend = EmbeddedClickHouse(tmp_path / "clickhouse")
    migrate(backend)
    try:
        # The sink's own routes, without its lifespan: nothing is consumed from Kafka.
        settings = Settings(state_dir=tmp_path)
        headers = {"Authorization": f"Bearer {sink_token(settings)}"}
        client = TestClient(create_app(settings, Writer(backend)), base_url="http://127.0.0.1", headers=headers)
        warehouse = ThroughSink(str(client.base_url), client)
        assert_reads_and_stores(warehouse)
        with pytest.raises(ClickHouseError, match="read-only"):
            warehouse.query("DROP TABLE footfall.campaign_costs")
        with pytest.raises(ClickHouseError, match="exactly the columns"):
            warehouse.insert_costs([{"day": "2024-05-01"}])
    finally:
        backend.close()
