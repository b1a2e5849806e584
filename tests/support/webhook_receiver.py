"""A real HTTP server standing for a site's webhook receiver: it answers each path as a test
plans (a status, or no answer until the client has given up) and keeps every request it
got, with the answer it gave, for the test to check signatures, ids and order."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from footfall.local.processes import free_port

HANG = -1  # a planned answer: none, until well past the client's timeout
# What a path answers its n-th request (1 for the first) with: a status, or HANG.
Plan = Callable[[int], int]


class Server(ThreadingHTTPServer):
    # Room for every deliverer's connections at once (the default backlog is 5).
    request_queue_size = 128


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int  # what was answered; HANG if nothing was


class Receiver:
    def __init__(self, plans: dict[str, Plan], hang_s: float):
        self.plans = plans
        self.hang_s = hang_s
        self.lock = threading.Lock()
        self.received: list[Received] = []
        self.counts: dict[str, int] = {}
        self.server = Server(("127.0.0.1", free_port()), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.counts[self.path] = receiver.counts.get(self.path, 0) + 1
                    status = receiver.plans[self.path](receiver.counts[self.path])
                    receiver.received.append(Received(self.path, dict(self.headers), body, status))
                if status == HANG:
                    time.sleep(receiver.hang_s)
                    return
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: the test reads `received`."""

        return Handler

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def snapshot(self) -> list[Received]:
        with self.lock:
            return list(self.received)
