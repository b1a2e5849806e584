"""Reads through a real sink process with the embedded engine: an analyst's
clickhouse-connect client on the ClickHouse HTTP interface (queries, a DataFrame, a
refused write, a refused file read, a wrong password), `footfall credentials`, and the
file/url/s3/remote queries refused through every read path (`footfall query`, `report`,
the sink's /query and its ClickHouse interface). The sink's port refuses a request without
the token, with a wrong Host and from a cross-origin page."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import clickhouse_connect
import httpx
import orjson
import pytest
from clickhouse_connect.driver.exceptions import DatabaseError

from footfall.local.kafka_broker import Broker
from tests.support.pipeline import Pipeline, start_pipeline
from tests.support.waiting import wait_for

PAGES = 5
OUTSIDE = [
    "SELECT * FROM file('/etc/passwd', 'LineAsString')",
    "SELECT file('/etc/hostname') AS host",
    "SELECT * FROM url('http://127.0.0.1:1/x', CSV, 'a String')",
    "SELECT * FROM s3('http://127.0.0.1:1/bucket/key.csv')",
    "SELECT * FROM remote('127.0.0.1:1', system.one)",
]


def footfall(pipeline: Pipeline, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **pipeline.env, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "footfall.cli", *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def pipeline(kafka: Broker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Pipeline, str]]:
    """A pipeline that has landed PAGES page views of one run."""
    running = start_pipeline(kafka, tmp_path_factory.mktemp("clickhouse-http"))
    run = uuid.uuid4().hex[:8]
    batch = [{"type": "page", "messageId": f"{run}-{n}", "anonymousId": f"v-{run}", "properties": {"path": f"/{run}"}} for n in range(PAGES)]
    assert httpx.post(f"{running.collector.url}/v1/batch", json={"batch": batch}, auth=("demo_key", "")).status_code == 200
    count = f"SELECT count() AS n FROM footfall.events WHERE path = '/{run}'"
    wait_for(lambda: running.query(count) == [{"n": PAGES}] or running.query(count), what="the page views in ClickHouse")
    yield running, run
    running.stop()


@pytest.fixture(scope="module")
def credentials(pipeline: tuple[Pipeline, str]) -> dict[str, str]:
    printed = footfall(pipeline[0], "credentials", "--json")
    assert printed.returncode == 0, printed.stderr
    found = orjson.loads(printed.stdout)
    assert set(found) == {"url", "user", "password"} and found["user"] == "analyst"
    return found


def analyst_client(credentials: dict[str, str], password: str | None = None) -> clickhouse_connect.driver.Client:
    url = httpx.URL(credentials["url"])
    return clickhouse_connect.get_client(host=url.host, port=url.port, username=credentials["user"],
                                         password=credentials["password"] if password is None else password)


def test_an_analyst_queries_with_clickhouse_connect(pipeline: tuple[Pipeline, str], credentials: dict[str, str]) -> None:
    _, run = pipeline
    client = analyst_client(credentials)
    try:
        result = client.query("SELECT path, count() AS views FROM footfall.events WHERE path = {path:String} GROUP BY path",
                              parameters={"path": f"/{run}"})
        assert result.result_rows == [(f"/{run}", PAGES)]
        frame = client.query_df(f"SELECT type, path, ts FROM footfall.events WHERE path = '/{run}' ORDER BY ts")
        assert len(frame) == PAGES and set(frame["type"]) == {"page_view"} and str(frame["ts"].dtype).startswith("datetime64")
        assert client.command("SELECT 1") == 1
        assert "events" in client.query("SHOW TABLES FROM footfall").result_columns[0]
        assert client.ping()
    finally:
        client.close()


def test_clickhouse_connect_is_refused_writes_and_files(pipeline: tuple[Pipeline, str], credentials: dict[str, str]) -> None:
    pipe, run = pipeline
    client = analyst_client(credentials)
    try:
        with pytest.raises(DatabaseError, match="READONLY"):
            client.command(f"INSERT INTO footfall.events (event_id, site_id, path) VALUES ('x', 'demo', '/{run}')")
        with pytest.raises(DatabaseError, match="READONLY"):
            client.insert("footfall.campaign_costs", [["demo", 1]], column_names=["site_id", "version"])
        for sql in OUTSIDE:
            with pytest.raises(DatabaseError, match="READONLY"):
                client.query(sql)
        with pytest.raises(DatabaseError, match="READONLY"):
            client.query("SELECT 1 SETTINGS readonly = 0")
    finally:
        client.close()
    assert pipe.query(f"SELECT count() AS n FROM footfall.events WHERE path = '/{run}'") == [{"n": PAGES}]


def test_a_wrong_password_is_refused(credentials: dict[str, str]) -> None:
    with pytest.raises(DatabaseError, match="516|Authentication failed"):
        analyst_client(credentials, password="not-the-token")


@pytest.mark.parametrize("sql", OUTSIDE)
def test_outside_reads_are_refused_by_footfall_query(pipeline: tuple[Pipeline, str], sql: str) -> None:
    refused = footfall(pipeline[0], "query", sql)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "READONLY" in refused.stdout and "root:" not in refused.stdout and len(refused.stdout.strip().splitlines()) <= 3


@pytest.mark.parametrize("sql", OUTSIDE)
def test_outside_reads_are_refused_by_the_sinks_query_endpoint(pipeline: tuple[Pipeline, str], sql: str) -> None:
    pipe = pipeline[0]
    token = orjson.loads(footfall(pipe, "credentials", "--json").stdout)["password"]
    answer = httpx.post(f"{pipe.sink_url}/query", content=sql.encode(), headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 400 and "READONLY" in answer.json()["error"] and "root:" not in answer.text


def test_the_sink_port_refuses_no_token_a_wrong_host_and_a_cross_origin_page(pipeline: tuple[Pipeline, str], credentials: dict[str, str]) -> None:
    pipe = pipeline[0]
    token = {"Authorization": f"Bearer {credentials['password']}"}
    sql = b"SELECT count() FROM footfall.events"
    assert httpx.post(f"{pipe.sink_url}/query", content=sql).status_code == 401
    assert httpx.post(f"{pipe.sink_url}/", content=sql).status_code == 401
    assert httpx.post(f"{pipe.sink_url}/costs", json=[]).status_code == 401
    assert httpx.post(f"{pipe.sink_url}/query", content=sql, headers={**token, "Host": "attacker.example"}).status_code == 421
    cross = httpx.post(f"{pipe.sink_url}/", content=sql, headers={**token, "Origin": "https://attacker.example", "Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403 and "access-control-allow-origin" not in cross.headers
    assert httpx.post(f"{pipe.sink_url}/query", content=sql, headers=token).status_code == 200
    assert httpx.get(f"{pipe.sink_url}/healthz").status_code == 200
    assert (pipe.folder / "sink.token").stat().st_mode & 0o777 == 0o600
