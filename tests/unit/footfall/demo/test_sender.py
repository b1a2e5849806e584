"""The demo's sender against a real HTTP server on a free port: batches in time order with
the write key and sentAt, Retry-After honoured, rejections reported, client errors final,
connection errors retried under the backoff, progress told as it goes."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from footfall.demo import run_demo
from footfall.demo.sender import SendError, retry_after_seconds, send
from footfall.demo.simulation import generate
from footfall.local.processes import free_port
from tests.support.demo_traffic import NOW, at


class Scripted(ThreadingHTTPServer):
    """Answers /v1/batch from a script of (status, headers, body), then 200; records requests."""

    def __init__(self, script: list[tuple[int, dict[str, str], dict]]):
        super().__init__(("127.0.0.1", 0), Handler)
        self.script = list(script)
        self.requests: list[tuple[str, str | None, dict]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: Scripted

    def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.server.lock:
            self.server.requests.append((self.path, self.headers.get("Authorization"), body))
            status, headers, answer = self.server.script.pop(0) if self.server.script else (200, {}, {"success": True})
        data = json.dumps(answer).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", "Content-Length": str(len(data)), **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server_with() -> Iterator:
    servers: list[Scripted] = []

    def start(script: list[tuple[int, dict[str, str], dict]]) -> Scripted:
        server = Scripted(script)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_sender_posts_batches_in_time_order_with_the_write_key_and_sent_at(server_with) -> None:
    messages, _ = generate(NOW, visitors=5, seed=3)
    server = server_with([])
    summary = send(list(reversed(messages)), server.url, write_key="shop_key", batch_size=7)

    assert (summary.accepted, summary.rejected, summary.retries) == (len(messages), 0, 0)
    assert summary.batches == len(server.requests) == -(-len(messages) // 7)
    assert {path for path, _, _ in server.requests} == {"/v1/batch"}
    assert {auth for _, auth, _ in server.requests} == {"Basic c2hvcF9rZXk6"}  # "shop_key:"
    posted = [m for _, _, body in server.requests for m in body["batch"]]
    assert [m["messageId"] for m in posted] == [m["messageId"] for m in messages]
    assert all(len(body["batch"]) <= 7 for _, _, body in server.requests)
    for _, _, body in server.requests:
        stamps = {m["sentAt"] for m in body["batch"]}
        assert stamps == {body["sentAt"]}
        assert all(at(m) <= datetime.fromisoformat(body["sentAt"]) for m in body["batch"])
    assert all("sentAt" not in m for m in messages), "the caller's messages are left as they were"


@pytest.mark.parametrize(("status", "error"), [(503, "kafka_unavailable"), (429, "rate_limited")])
def test_sender_retries_a_503_or_429_after_its_retry_after_and_restamps_sent_at(server_with, status: int, error: str) -> None:
    messages, _ = generate(NOW, visitors=2, seed=4)
    unavailable = (status, {"Retry-After": "7"}, {"success": False, "error": error})
    server = server_with([unavailable, unavailable])
    waits: list[float] = []

    def pause(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(0.005)  # enough for the clock to move on, so a fresh sentAt differs

    summary = send(messages, server.url, batch_size=len(messages), sleep=pause, longest_wait_s=5)

    assert waits == [5, 5]  # Retry-After honoured, within the bound
    assert (summary.accepted, summary.batches, summary.retries) == (len(messages), 1, 2)
    bodies = [body for _, _, body in server.requests]
    assert len(bodies) == 3
    unstamped = [[{k: v for k, v in m.items() if k != "sentAt"} for m in body["batch"]] for body in bodies]
    assert unstamped[0] == unstamped[1] == unstamped[2] == messages
    stamps = [datetime.fromisoformat(body["sentAt"]) for body in bodies]
    assert stamps[0] < stamps[1] < stamps[2], "each attempt is stamped when it is sent"


def test_sender_reports_what_the_collector_rejected(server_with) -> None:
    messages, _ = generate(NOW, visitors=1, seed=5)
    partial = (200, {}, {"success": True, "accepted": len(messages) - 1, "rejected": 1,
                         "errors": [{"index": 0, "reason": "properties.x: Input should be a number"}]})
    server = server_with([partial])
    summary = send(messages, server.url, batch_size=len(messages))
    assert (summary.accepted, summary.rejected) == (len(messages) - 1, 1)
    assert summary.errors == ("properties.x: Input should be a number",)


@pytest.mark.parametrize("status", [400, 401, 403, 413])
def test_sender_stops_at_once_on_a_client_error(server_with, status: int) -> None:
    messages, _ = generate(NOW, visitors=3, seed=6)
    server = server_with([(status, {}, {"success": False, "error": "unknown_write_key", "detail": "no site"})])
    with pytest.raises(SendError, match=f"refused a batch with {status}: unknown_write_key") as raised:
        send(messages, server.url, batch_size=10, sleep=lambda s: pytest.fail("a client error is not retried"))
    assert raised.value.status == status
    assert len(server.requests) == 1


def test_sender_retries_connection_errors_then_gives_up_clearly() -> None:
    messages, _ = generate(NOW, visitors=1, seed=7)
    waits: list[float] = []
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(SendError, match="gave up on a batch after 4 attempts; last: could not reach"):
        send(messages, url, attempts=4, sleep=waits.append)
    assert waits == [0.5, 1.0, 2.0]


def test_retry_after_is_read_as_seconds_or_a_date_and_bounded() -> None:
    assert retry_after_seconds("5", 1.0, 30.0) == 5.0
    assert retry_after_seconds("600", 1.0, 30.0) == 30.0
    assert retry_after_seconds("-3", 1.0, 30.0) == 0.0
    assert retry_after_seconds(None, 1.5, 30.0) == 1.5
    assert retry_after_seconds("soon", 1.5, 30.0) == 1.5
    assert retry_after_seconds("nan", 1.5, 30.0) == 1.5
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", 1.5, 30.0) == 0.0  # already past


def test_sender_tells_its_progress_batch_by_batch(server_with) -> None:
    messages, _ = generate(NOW, visitors=3, seed=8)
    server = server_with([])
    notes: list[tuple[int, int]] = []
    send(messages, server.url, batch_size=10, on_sent=lambda sent, total: notes.append((sent, total)))
    total = len(messages)
    assert notes == [(0, total)] + [(min(sent, total), total) for sent in range(10, total + 10, 10)]
    assert len(notes) == len(server.requests) + 1


def test_run_demo_sends_the_seeded_traffic_and_its_plan(server_with) -> None:
    server = server_with([])
    notes: list[tuple[int, int]] = []
    result = run_demo(server.url, "shop_key", visitors=4, days=2, seed=9, on_sent=lambda *note: notes.append(note))
    posted = [m for _, _, body in server.requests for m in body["batch"]]
    assert (result.plan.visitors, result.plan.events) == (4, len(posted))
    assert result.sent.accepted == len(posted) and notes[-1] == (len(posted), len(posted))
    intended, _ = generate(NOW, visitors=4, days=2, seed=9)
    assert [m["messageId"] for m in posted] == [m["messageId"] for m in intended]
