"""ClickHouse as a server of its own, spoken to over the native TCP protocol (clickhouse-driver).

A server can go away while the sink runs (restarted, upgraded, briefly unreachable), so a
statement whose connection fails is sent again on a fresh connection, backing off; one the
server refuses would only be refused again, so it is raised at once, with the server's
error code. Why an insert sent twice this way does not count twice is in
docs/architecture.md (the sink).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from clickhouse_driver import Client, errors

from infra.clickhouse.backend import ClickHouseError, Formatted
from infra.clickhouse.confinement import READ_SETTINGS
from infra.retry import Backoff, retry_blocking

# What a server that is down, restarting or cut off looks like to the driver: refused or
# timed-out connections (NetworkError, SocketTimeoutError), and a socket closed under a
# statement (EOFError while reading, OSError such as a broken pipe while writing).
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    errors.NetworkError,
    errors.SocketTimeoutError,
    EOFError,
    OSError,
)
# However many attempts are allowed, never wait longer than this between two of them.
MAX_BACKOFF_S = 10.0


def server_message(exc: errors.ServerException) -> str:
    """The server's code and message, without the stack trace older servers append to it."""
    message = (exc.message or "").split("Stack trace:", 1)[0].strip().rstrip(".")
    return f"Code: {exc.code}. {message}"


def as_time(value: Any) -> Any:
    """The sink hands times over as text, which the embedded engine parses itself; the
    driver encodes only datetime objects."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value


class NativeClickHouse:
    """A ClickHouse server's backend, reconnecting when the connection fails."""

    def __init__(self, url: str, attempts: int = 5, backoff_s: float = 0.5):
        """`url` as `clickhouse://user:password@host:port/database`."""
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self._client = Client.from_url(url)
        self.attempts = attempts
        self._backoff = Backoff(initial_s=backoff_s, max_s=MAX_BACKOFF_S)
        # Connection failures seen so far, retried or not: what an operator (or a test)
        # looks at to tell a flaky server from a healthy one.
        self.connection_failures = 0
        self._types: dict[str, dict[str, str]] = {}

    def _column_types(self, table: str) -> dict[str, str]:
        if table not in self._types:
            self._types[table] = {row["name"]: row["type"] for row in self.query(f"DESCRIBE TABLE {table}")}
        return self._types[table]

    def _send(self, sql: str, params: Any, kwargs: dict[str, Any]) -> Any:
        """One attempt; a connection failure is counted and raised for `_run` to retry."""
        try:
            return self._client.execute(sql, params, **kwargs)
        except errors.ServerException as exc:
            raise ClickHouseError(server_message(exc), code=exc.code) from None
        except CONNECTION_ERRORS:
            # The driver drops the connection on an error already; doing it here too
            # makes sure the next attempt never reuses a dead socket.
            self._client.disconnect()
            self.connection_failures += 1
            raise
        except errors.Error as exc:
            # Refused by the driver before sending (a value that does not fit its column).
            raise ClickHouseError(str(exc), permanent=True) from None

    def _run(self, sql: str, params: Any = None, **kwargs: Any) -> Any:
        try:
            return retry_blocking(lambda: self._send(sql, params, kwargs), CONNECTION_ERRORS, self._backoff, self.attempts)
        except CONNECTION_ERRORS as exc:
            raise ClickHouseError(f"ClickHouse unreachable after {self.attempts} attempts: {exc}", permanent=False) from exc

    def execute(self, sql: str) -> None:
        self._run(sql)

    def insert(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        """One batch, one INSERT: the columns are the first row's keys, in their order."""
        if not rows:
            return
        columns = list(rows[0])
        names = ", ".join(f"`{column}`" for column in columns)
        types = self._column_types(table)
        timed = {column for column in columns if "DateTime" in types.get(column, "")}
        try:
            values = [tuple(as_time(row[c]) if c in timed else row[c] for c in columns) for row in rows]
            self._run(f"INSERT INTO {table} ({names}) VALUES", values)
        except (AttributeError, TypeError, ValueError, KeyError) as exc:
            # The driver encodes values by their column's type and fails this way on a value
            # of another type (a string for a DateTime), and a row may lack a column of the
            # first: the batch is refused for what it holds, as by the server.
            raise ClickHouseError(f"cannot encode the rows for {table}: {exc}", permanent=True) from None

    def query(self, sql: str, settings: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        rows, column_types = self._run(sql, with_column_types=True, settings=settings)
        names = [name for name, _ in column_types]
        return [dict(zip(names, row)) for row in rows]

    def read(self, sql: str) -> list[dict[str, Any]]:
        """The driver sends the read settings before the query's own SETTINGS clause, and
        readonly=1 refuses that clause changing any of them."""
        return self.query(sql, settings=READ_SETTINGS)

    def read_formatted(self, sql: str, default_format: str, database: str | None = None,
                       parameters: dict[str, str] | None = None) -> Formatted:
        raise ClickHouseError("a ClickHouse server answers clients itself: connect them to the server with its analyst user", permanent=True)

    def close(self) -> None:
        self._client.disconnect()
