"""Serve a loopback-only /metrics on the pod's address, for Prometheus.

The sink's port and a worker's metrics server listen on 127.0.0.1 alone (the sink's port
also refuses any Host but a loopback one), so Prometheus, scraping the pod's address,
cannot reach them. This relay, a second container in the pod, answers GET /metrics on
every interface with what the process serves on loopback, and nothing else: no other path
of the sink's port is reachable through it. When the process does not answer, neither does
the relay (502), so the target is down as the process is.

Usage: python metrics_relay.py LISTEN_PORT TARGET_PORT
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TIMEOUT_S = 5.0
# Far above what a worker's or the sink's metrics amount to; a bound all the same.
MAX_BYTES = 16 << 20


def relay_handler(target_port: int) -> type[BaseHTTPRequestHandler]:
    upstream = f"http://127.0.0.1:{target_port}/metrics"

    class Relay(BaseHTTPRequestHandler):
        """GET /metrics, fetched from the process on loopback."""

        def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
            if self.path.split("?", 1)[0] != "/metrics":
                self.answer(404, b"only /metrics is relayed\n", "text/plain")
                return
            try:
                with urllib.request.urlopen(upstream, timeout=TIMEOUT_S) as response:
                    body = response.read(MAX_BYTES + 1)
                    media_type = response.headers.get("Content-Type", "text/plain")
            except (urllib.error.URLError, OSError) as exc:
                self.answer(502, f"the process does not answer: {exc}\n".encode(), "text/plain")
                return
            if len(body) > MAX_BYTES:
                self.answer(502, b"the process's metrics exceed the relay's bound\n", "text/plain")
                return
            self.answer(200, body, media_type)

        def answer(self, status: int, body: bytes, media_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", media_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's name)
            """Every scrape would be a line of log; failures show as the target down."""

    return Relay


def main(arguments: list[str]) -> int:
    if len(arguments) != 2 or not all(argument.isdigit() for argument in arguments):
        print(__doc__.rsplit("Usage: ", 1)[1], file=sys.stderr)
        return 2
    listen_port, target_port = (int(argument) for argument in arguments)
    ThreadingHTTPServer(("", listen_port), relay_handler(target_port)).serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
