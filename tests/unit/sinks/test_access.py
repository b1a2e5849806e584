"""The sink's port: the token on every route but health and metrics, a loopback Host, no
cross-site browser request, no CORS; and the ClickHouse HTTP interface's answers."""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from infra.clickhouse.embedded import EmbeddedClickHouse
from infra.clickhouse.migrations import migrate
from infra.config import Settings
from infra.keys import SINK_TOKEN_FILE
from sinks.access import host_name
from sinks.app import create_app
from sinks.service import Writer

LOOPBACK = "http://127.0.0.1:8090"


@pytest.fixture(scope="module")
def sink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str, Path]]:
    folder = tmp_path_factory.mktemp("sink")
    backend = EmbeddedClickHouse(folder / "clickhouse")
    migrate(backend)
    settings = Settings(state_dir=folder, sink_allowed_hosts=["footfall.internal"])
    client = TestClient(create_app(settings, Writer(backend)), base_url=LOOPBACK)
    yield client, (folder / SINK_TOKEN_FILE).read_text(), folder
    backend.close()


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_the_token_is_made_owner_only_before_serving(sink: tuple[TestClient, str, Path]) -> None:
    _, token, folder = sink
    assert (folder / SINK_TOKEN_FILE).stat().st_mode & 0o777 == 0o600 and len(token) >= 32


@pytest.mark.parametrize(("headers", "status"), [
    ({}, 401), ({"Authorization": "Digest x"}, 401), ({"Authorization": "Basic !!notbase64"}, 401),
    ({"Authorization": "Bearer wrong"}, 403), (basic("analyst", "wrong"), 403), (basic("analyst", ""), 403),
    ({"X-ClickHouse-User": "analyst", "X-ClickHouse-Key": "wrong"}, 403), ({"Authorization": "Bearer " + "x" * 100_000}, 403),
])
@pytest.mark.parametrize("route", [("POST", "/query"), ("POST", "/costs"), ("POST", "/personas"), ("GET", "/?query=SELECT+1"), ("POST", "/")])
def test_every_data_route_refuses_a_request_without_the_token(sink, headers: dict, status: int, route: tuple[str, str]) -> None:
    """As ClickHouse answers: 401 without credentials, 403 with wrong ones."""
    client, _, _ = sink
    answer = client.request(route[0], route[1], headers=headers, content=b"SELECT 1")
    assert answer.status_code == status
    assert answer.headers["X-ClickHouse-Exception-Code"] == "516"
    assert answer.text.startswith("Code: 516. DB::Exception:")


def test_the_token_is_taken_in_each_way_clients_send_it(sink) -> None:
    client, token, _ = sink
    for headers in ({"Authorization": f"Bearer {token}"}, basic("analyst", token),
                    {"X-ClickHouse-User": "analyst", "X-ClickHouse-Key": token}, {"X-ClickHouse-Key": token}):
        assert client.post("/query", headers=headers, content=b"SELECT 1 AS one").json() == [{"one": 1}]
    assert client.post("/query", headers=basic("default", token), content=b"SELECT 1").status_code == 403


def test_health_metrics_and_ping_need_no_token_and_hold_no_data(sink) -> None:
    client, _, _ = sink
    assert client.get("/healthz").status_code == 200
    assert client.get("/metrics").status_code == 200
    assert client.get("/ping").text == "Ok.\n"


@pytest.mark.parametrize("host", ["evil.example", "127.0.0.1.evil.example", "localhost.:8090", "10.0.0.1:8090", ""])
def test_a_foreign_host_is_refused_even_with_the_token(sink, host: str) -> None:
    client, token, _ = sink
    answer = client.post("/query", headers={"Host": host, "Authorization": f"Bearer {token}"}, content=b"SELECT 1")
    assert answer.status_code == 421 and "Host" in answer.text
    assert client.get("/healthz", headers={"Host": host}).status_code == 421


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost:8090", "[::1]:8090", "[::1]", "LOCALHOST", "footfall.internal:443"])
def test_loopback_and_configured_hosts_are_answered(sink, host: str) -> None:
    client, token, _ = sink
    assert client.post("/query", headers={"Host": host, "Authorization": f"Bearer {token}"}, content=b"SELECT 1").status_code == 200


def test_host_names_lose_their_port() -> None:
    assert [host_name(h) for h in ("[::1]:80", "Localhost:1", "127.0.0.1", "::1")] == ["[::1]", "localhost", "127.0.0.1", "::1"]


@pytest.mark.parametrize("headers", [{"Origin": "https://evil.example"}, {"Origin": "null"}, {"Origin": "http://127.0.0.1:9999"},
                                     {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}])
def test_a_cross_site_browser_request_is_refused_with_valid_credentials(sink, headers: dict) -> None:
    client, token, _ = sink
    answer = client.post("/query", headers={**headers, **basic("analyst", token)}, content=b"SELECT 1")
    assert answer.status_code == 403
    assert not any(name.lower().startswith("access-control") for name in answer.headers)


def test_no_cors_headers_even_for_a_preflight(sink) -> None:
    client, token, _ = sink
    answer = client.options("/", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert answer.status_code == 403
    same = client.post("/query", headers={"Origin": LOOPBACK, "Authorization": f"Bearer {token}"}, content=b"SELECT 1")
    assert same.status_code == 200 and not any(name.lower().startswith("access-control") for name in same.headers)


def test_the_clickhouse_interface_takes_query_parameter_body_formats_and_database(sink) -> None:
    client, token, _ = sink
    auth = basic("analyst", token)
    answer = client.post("/", params={"query": "SELECT 1 AS a,"}, content=b"2 AS b", headers=auth)
    assert (answer.status_code, answer.text, answer.headers["X-ClickHouse-Format"]) == (200, "1\t2\n", "TabSeparated")
    assert answer.headers["Content-Type"].startswith("text/tab-separated-values")
    assert {"x-clickhouse-query-id", "x-clickhouse-summary", "x-clickhouse-timezone", "x-clickhouse-server-display-name"} <= set(answer.headers)
    json_answer = client.get("/", params={"query": "SELECT 1 AS a FORMAT JSONEachRow"}, headers=auth)
    assert json_answer.json() == {"a": 1} and json_answer.headers["Content-Type"].startswith("application/json")
    default = client.get("/", params={"query": "SELECT count() AS n FROM events", "database": "footfall", "default_format": "CSV"}, headers=auth)
    assert (default.text, default.headers["X-ClickHouse-Format"]) == ("0\n", "CSV")
    assert client.get("/", headers=auth).text == "Ok.\n"


def test_compression_only_when_asked_for_as_clickhouse_does(sink) -> None:
    client, token, _ = sink
    auth = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
    plain = client.get("/", params={"query": "SELECT 'x'"}, headers=auth)
    assert "content-encoding" not in plain.headers and plain.text == "x\n"
    packed = client.stream("GET", "/", params={"query": "SELECT 'x'", "enable_http_compression": "1"}, headers=auth)
    with packed as answer:
        assert answer.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(b"".join(answer.iter_raw())) == b"x\n"


@pytest.mark.parametrize(("sql", "status", "code"), [
    ("SELECT * FROM file('/etc/passwd', 'LineAsString')", 403, "164"),
    ("INSERT INTO footfall.events (event_id) VALUES ('x')", 403, "164"),
    ("SELECT * FROM footfall.nope", 404, "60"),
    ("SELEC 1", 400, "62"),
])
def test_refused_queries_answer_as_clickhouse_does(sink, sql: str, status: int, code: str) -> None:
    client, token, _ = sink
    answer = client.post("/", content=sql.encode(), headers={"Authorization": f"Bearer {token}"})
    assert (answer.status_code, answer.headers["X-ClickHouse-Exception-Code"]) == (status, code)
    assert answer.text.startswith(f"Code: {code}.") and "root:" not in answer.text


def test_a_query_id_is_echoed_only_when_it_cannot_break_a_header(sink) -> None:
    client, token, _ = sink
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/", params={"query": "SELECT 1", "query_id": "mine-1"}, headers=auth).headers["X-ClickHouse-Query-Id"] == "mine-1"
    broken = client.get("/", params={"query": "SELECT 1", "query_id": "x\r\nSet-Cookie: a=b"}, headers=auth)
    assert broken.status_code == 200 and "set-cookie" not in broken.headers and "\n" not in broken.headers["X-ClickHouse-Query-Id"]


@pytest.mark.parametrize("params", [{"database": "x`; DROP TABLE footfall.events"}, {"default_format": "Nope\r\nX: y"},
                                    {"query": "SELECT 1", "param_x": "'); DROP"}])
def test_hostile_parameters_give_clickhouse_errors(sink, params: dict) -> None:
    client, token, _ = sink
    answer = client.post("/", params=params, content=b"SELECT count() FROM footfall.events", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code in (200, 400, 404) and "x" not in answer.headers
    assert client.post("/query", content=b"SELECT count() AS n FROM footfall.events", headers={"Authorization": f"Bearer {token}"}).json() == [{"n": 0}]


def test_an_oversized_query_is_refused(sink) -> None:
    client, token, _ = sink
    huge = b"SELECT '" + b"x" * (2 << 20) + b"'"
    answer = client.post("/", content=huge, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 400 and answer.headers["X-ClickHouse-Exception-Code"] == "36"
    assert "more than" in client.post("/query", content=huge, headers={"Authorization": f"Bearer {token}"}).json()["error"]


@pytest.mark.parametrize("host", ["localhost:80@evil.example", "[::1]x", "localhost:abc", "127.0.0.1:", "localhost:8090/x"])
def test_a_host_header_that_is_not_a_host_and_port_is_refused(sink, host: str) -> None:
    client, token, _ = sink
    answer = client.post("/query", headers={"Host": host, "Authorization": f"Bearer {token}"}, content=b"SELECT 1")
    assert answer.status_code == 421


@pytest.mark.parametrize("fmt", ["DataFrame", "ArrowTable"])
def test_a_default_format_of_chdbs_python_api_is_an_unknown_format(sink, fmt: str) -> None:
    client, token, _ = sink
    answer = client.get("/", params={"query": "SELECT 1", "default_format": fmt}, headers={"Authorization": f"Bearer {token}"})
    assert (answer.status_code, answer.headers["X-ClickHouse-Exception-Code"]) == (400, "73")
    assert "UNKNOWN_FORMAT" in answer.text


def test_a_costs_body_past_its_limit_is_refused_even_chunked(sink) -> None:
    """Without a Content-Length, the body is read only up to the limit."""
    client, token, _ = sink

    def chunks() -> Iterator[bytes]:
        for _ in range(64):
            yield b" " * (1 << 20)

    answer = client.post("/costs", content=chunks(), headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 413 and "larger than" in answer.json()["error"]
    assert client.post("/query", content=b"SELECT count() AS n FROM footfall.campaign_costs", headers={"Authorization": f"Bearer {token}"}).json() == [{"n": 0}]


PERSONA = {"site_id": "shop", "fitted_at": "2026-11-30 12:00:00.000", "persona_id": 1, "name": "mobile buyers",
           "customers": 2, "customer_share": 1.0, "revenue_share": 1.0, "conversion": 0.5, "aov": 20.0,
           "purchase_frequency": 1.5, "clv_historical": 30.0, "clv_predicted": None, "nps": None,
           "criterion": "one persona", "portrait": "{}", "features": ["spend"], "centroid": [0.0]}
ASSIGNED = [{"site_id": "shop", "customer_id": customer, "persona_id": 1, "fitted_at": "2026-11-30 12:00:00.000"}
            for customer in ("c1", "c2")]


@pytest.mark.parametrize("body", [
    [PERSONA], {"personas": [PERSONA]}, {"personas": [{**PERSONA, "extra": 1}], "customer_personas": []},
    {"personas": [PERSONA], "customer_personas": [{"customer_id": "c1"}]}, {"personas": "x", "customer_personas": []},
    {"personas": [PERSONA], "customer_personas": [], "more": []},
])
def test_a_personas_body_of_another_shape_is_refused_and_nothing_stored(sink, body: object) -> None:
    client, token, _ = sink
    auth = {"Authorization": f"Bearer {token}"}
    answer = client.post("/personas", json=body, headers=auth)
    assert answer.status_code == 400 and "customer_personas" in answer.json()["error"]
    assert client.post("/query", content=b"SELECT count() AS n FROM footfall.personas WHERE site_id = 'shop'", headers=auth).json() == [{"n": 0}]


def test_a_fit_of_personas_is_stored_with_its_customers(sink) -> None:
    client, token, _ = sink
    auth = {"Authorization": f"Bearer {token}"}
    answer = client.post("/personas", json={"personas": [{**PERSONA, "site_id": "stored"}],
                                           "customer_personas": [{**row, "site_id": "stored"} for row in ASSIGNED]}, headers=auth)
    assert answer.json() == {"stored": 1, "customers": 2}
    read = b"SELECT (SELECT name FROM footfall.personas WHERE site_id = 'stored') AS name, count() AS n FROM footfall.customer_personas WHERE site_id = 'stored'"
    assert client.post("/query", content=read, headers=auth).json() == [{"name": "mobile buyers", "n": 2}]
