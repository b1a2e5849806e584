"""A bare HTTP/1.1 client for sending many hostile requests fast: keep-alive connections over
asyncio streams, each request written byte for byte as given.

General clients refuse to send some of what an attacker sends (bytes that are not UTF-8 in
a header, a body that lies about its encoding) and spend more time per request than the
collector does; this one writes what it is handed and reads the answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol, TypeVar

NO_ANSWER = 0  # the status recorded when the connection closed before an answer came
ANSWER_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class RawRequest:
    """One request as it goes on the wire; header values are written as Latin-1, so any byte can be sent."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""

    def encoded(self, host: str) -> bytes:
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}"]
        names = {name.lower() for name in self.headers}
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        if "transfer-encoding" not in names and "content-length" not in names:
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


class Carries(Protocol):
    """Anything that carries a request to send (and whatever else its sender wants to know)."""

    @property
    def request(self) -> RawRequest: ...


Item = TypeVar("Item", bound=Carries)


class Connection:
    """One keep-alive connection, opened again when the server closed it."""

    def __init__(self, host: str, port: int):
        self.host = host
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, request: RawRequest) -> Answer:
        """The answer; a connection found closed before any byte of it is opened again once."""
        data = request.encoded(f"{self.host}:{self.port}")
        for attempt in range(2):
            reused = self.writer is not None
            try:
                if self.writer is None:
                    self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=1 << 20)
                self.writer.write(data)
                return await asyncio.wait_for(self._read_answer(), ANSWER_TIMEOUT_S)
            except (ConnectionError, asyncio.IncompleteReadError, asyncio.TimeoutError, OSError):
                await self.close()
                if not reused or attempt:
                    return Answer(NO_ANSWER, {}, b"")
        return Answer(NO_ANSWER, {}, b"")

    async def _read_answer(self) -> Answer:
        assert self.reader is not None
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers: dict[str, str] = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._read_chunks()
        elif status in (204, 304) or 100 <= status < 200:
            body = b""
        else:
            body = await self.reader.read()
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return Answer(status, headers, body)

    async def _read_chunks(self) -> bytes:
        assert self.reader is not None
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await self.reader.readexactly(size + 2)
            if size == 0:
                return b"".join(parts)
            parts.append(chunk[:-2])

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


async def _send_all(
    host: str, port: int, items: Iterator[Item], concurrency: int, deadline: float, seen: Callable[[Item, Answer], None]
) -> None:
    async def work() -> None:
        connection = Connection(host, port)
        try:
            for item in items:  # one iterator shared: each request is sent once
                seen(item, await connection.send(item.request))
                if time.monotonic() > deadline:
                    return
        finally:
            await connection.close()

    await asyncio.gather(*(work() for _ in range(concurrency)))


def send_all(
    url: str, items: Iterator[Item], seen: Callable[[Item, Answer], None], concurrency: int = 16, time_bound_s: float = 600
) -> None:
    """Send each item's request over `concurrency` keep-alive connections, calling `seen` with
    the item and its answer, until the items run out or `time_bound_s` has passed."""
    host, _, port = url.removeprefix("http://").partition(":")
    asyncio.run(_send_all(host, int(port), items, concurrency, time.monotonic() + time_bound_s, seen))
