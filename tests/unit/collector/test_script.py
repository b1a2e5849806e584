"""GET /footfall.js: the built script, cacheable by its ETag and gzipped when the client accepts it."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from collector.app import create_app
from collector.script import SCRIPT_PATH, accepts_gzip, etag_matches, script_endpoint
from infra.config import Settings

SIZE_LIMIT = 3072


def client_for(path: Path) -> TestClient:
    return TestClient(Starlette(routes=[Route("/footfall.js", script_endpoint(path))]))


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "footfall.js"
    path.write_text("(()=>{window.footfall=function(){}})();\n" * 20)
    return path


def test_plain_script_with_cache_headers(script: Path) -> None:
    answer = client_for(script).get("/footfall.js", headers={"Accept-Encoding": "identity"})
    assert answer.status_code == 200
    assert answer.content == script.read_bytes()
    assert answer.headers["content-type"].startswith("text/javascript")
    assert "content-encoding" not in answer.headers
    assert answer.headers["cache-control"] == "public, max-age=3600"
    assert answer.headers["vary"] == "Accept-Encoding"
    assert answer.headers["etag"].startswith('"')


def test_gzipped_when_accepted_with_its_own_etag(script: Path) -> None:
    client = client_for(script)
    plain = client.get("/footfall.js", headers={"Accept-Encoding": "identity"})
    # httpx would unzip on its own; read the raw bytes to see what travelled.
    with client.stream("GET", "/footfall.js", headers={"Accept-Encoding": "gzip, deflate"}) as answer:
        raw = b"".join(answer.iter_raw())
    assert answer.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw) == script.read_bytes()
    assert len(raw) < len(script.read_bytes())
    assert answer.headers["etag"] != plain.headers["etag"]


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_unchanged_script_revalidates_with_304(script: Path, encoding: str) -> None:
    client = client_for(script)
    etag = client.get("/footfall.js", headers={"Accept-Encoding": encoding}).headers["etag"]
    answer = client.get("/footfall.js", headers={"Accept-Encoding": encoding, "If-None-Match": f"W/{etag}"})
    assert answer.status_code == 304
    assert answer.content == b""
    assert answer.headers["etag"] == etag


def test_a_rebuild_is_served_without_a_restart(script: Path) -> None:
    client = client_for(script)
    first = client.get("/footfall.js")
    script.write_text("(()=>{})();\n")
    os.utime(script, ns=(0, script.stat().st_mtime_ns + 1_000_000))
    second = client.get("/footfall.js", headers={"If-None-Match": first.headers["etag"]})
    assert second.status_code == 200
    assert second.text == "(()=>{})();\n"
    assert second.headers["etag"] != first.headers["etag"]


def test_missing_build_is_a_clear_404(tmp_path: Path) -> None:
    answer = client_for(tmp_path / "absent.js").get("/footfall.js")
    assert answer.status_code == 404
    assert answer.json()["error"] == "script_not_built"
    assert "make setup" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [("gzip", True), ("br, gzip;q=0.8", True), ("*", True), ("gzip;q=0", False), ("deflate, br", False), (None, False)],
)
def test_accepts_gzip(header: str | None, expected: bool) -> None:
    assert accepts_gzip(header) is expected


def test_etag_matches_lists_weak_tags_and_star() -> None:
    assert etag_matches('"a", W/"b"', '"b"')
    assert etag_matches("*", '"b"')
    assert not etag_matches('"a"', '"b"')
    assert not etag_matches(None, '"b"')


def test_the_collector_serves_the_built_script_within_its_size_limit() -> None:
    """The set-up builds the script; the collector serves that very file, gzipped within 3 KB."""
    client = TestClient(create_app(Settings()))
    with client.stream("GET", "/footfall.js", headers={"Accept-Encoding": "gzip"}) as answer:
        raw = b"".join(answer.iter_raw())
    assert answer.status_code == 200, f"{SCRIPT_PATH} is missing: run make setup"
    assert gzip.decompress(raw) == SCRIPT_PATH.read_bytes()
    assert len(raw) <= SIZE_LIMIT
    assert b'"footfall.js"' in SCRIPT_PATH.read_bytes()
