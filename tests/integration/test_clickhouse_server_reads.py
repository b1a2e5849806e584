"""Reads confined on a ClickHouse server (Debian's clickhouse-server): the read settings
sent with every user query refuse writes, setting changes and table functions, and the
XML form of the analyst user is taken by the server and confined alike."""

from __future__ import annotations

import pytest

from infra.clickhouse.backend import ClickHouseError
from infra.clickhouse.grants import ANALYST, users_xml
from infra.clickhouse.native import NativeClickHouse
from tests.support.clickhouse_server import ClickHouseServer
from tests.support.waiting import wait_for

REFUSED = [
    "SELECT * FROM file('passwd', 'TSV', 'line String')",
    "SELECT * FROM url('http://127.0.0.1:1/x', CSV, 'a String')",
    "SELECT * FROM remote('127.0.0.1:1', system.one)",
    "INSERT INTO footfall.campaign_costs (site_id) VALUES ('x')",
    "SELECT 1 SETTINGS readonly = 0",
]


def create_table(backend: NativeClickHouse) -> None:
    """A table of footfall's database; the old server takes none of the migrations' types."""
    backend.execute("CREATE DATABASE IF NOT EXISTS footfall")
    backend.execute("CREATE TABLE IF NOT EXISTS footfall.campaign_costs (site_id String) ENGINE = Memory")


def refused(backend: NativeClickHouse, sql: str) -> str:
    with pytest.raises(ClickHouseError) as error:
        backend.read(sql)
    return str(error.value)


def test_reads_sent_to_a_server_are_read_only(clickhouse_server: ClickHouseServer) -> None:
    backend = NativeClickHouse(clickhouse_server.url(), attempts=1)
    try:
        create_table(backend)
        assert backend.read("SELECT count() AS n FROM footfall.campaign_costs") == [{"n": 0}]
        for sql in REFUSED:
            assert "readonly" in refused(backend, sql).lower(), sql
        assert backend.query("SELECT count() AS n FROM footfall.campaign_costs") == [{"n": 0}]
    finally:
        backend.close()


def test_the_analyst_user_from_the_xml_form_only_reads_footfall(clickhouse_server: ClickHouseServer) -> None:
    admin = NativeClickHouse(clickhouse_server.url(), attempts=1)
    create_table(admin)
    admin.close()
    users = clickhouse_server.config.folder / "users.d"
    users.mkdir(exist_ok=True)
    (users / "footfall.xml").write_text(users_xml("analyst-password", "sink-password"))
    url = f"clickhouse://{ANALYST}:analyst-password@{clickhouse_server.config.address}/footfall"

    def analyst_reads() -> object:
        try:
            probe = NativeClickHouse(url, attempts=1)
            try:
                return probe.query("SELECT count() AS n FROM footfall.campaign_costs") == [{"n": 0}]
            finally:
                probe.close()
        except ClickHouseError as exc:
            return str(exc)

    # The server reloads its users' configuration by itself.
    wait_for(analyst_reads, 60, "the analyst user taken by the server")
    analyst = NativeClickHouse(url, attempts=1)
    try:
        for sql in REFUSED:
            with pytest.raises(ClickHouseError, match="(?i)readonly"):
                analyst.query(sql)
        with pytest.raises(ClickHouseError, match="(?i)access|database"):
            analyst.query("SELECT * FROM default.nothing_here")
    finally:
        analyst.close()
