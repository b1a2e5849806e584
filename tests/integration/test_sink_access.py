"""The sink's port against a real browser (Debian's chromium): a page of another origin,
in a browser that holds the analyst's credentials, cannot read or write through the port,
and neither can a page that rebinds its own name to 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from footfall.local.kafka_broker import Broker
from infra.config import Settings
from infra.keys import sink_token
from tests.support.pipeline import Pipeline, start_pipeline

DRIVER = Path(__file__).with_name("sink_from_a_browser.mjs")
PAGE = b"<!doctype html><title>another site</title><body></body>"


@pytest.fixture(scope="module")
def pipeline(kafka: Broker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    running = start_pipeline(kafka, tmp_path_factory.mktemp("sink-access"), workers=0)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def page_url() -> Iterator[str]:
    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)

        def log_message(self, *args: object) -> None:
            """Quiet: the browser's requests are not news."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


def test_a_browser_page_cannot_use_the_sink_port(pipeline: Pipeline, page_url: str) -> None:
    token = sink_token(Settings(state_dir=pipeline.folder))
    rebound = pipeline.sink_url.replace("127.0.0.1", "rebound.example")
    run = subprocess.run(["node", str(DRIVER), page_url, pipeline.sink_url, f"{rebound}/", token],
                         capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stderr[-4000:]
    seen = json.loads(run.stdout)
    assert seen["read"] == {"readable": False}
    statuses = seen["statuses"]
    # The credentials header makes the read a non-simple request: the browser asks first
    # (a preflight, which the port refuses) and never sends the query itself.
    assert statuses.get("127.0.0.1/query?cors", 403) == 403
    assert statuses["127.0.0.1/costs?nocors"] == 403
    assert statuses["127.0.0.1/?form"] == 403
    assert seen["rebinding"]["status"] == 421 and "Host" in seen["rebinding"]["body"]
    assert pipeline.query("SELECT count() AS n FROM footfall.campaign_costs") == [{"n": 0}]
