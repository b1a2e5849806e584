"""The embedded default: the ClickHouse engine in-process (chDB), its data in the state folder.

chDB locks its data folder, so one process at a time may open it; while the stack runs,
that process is the sink, and so the embedded engine has exactly one sink: a second one
started on the same folder is refused, saying so, rather than left to fail obscurely. Within it, a user's read runs on a connection of its own, opened
on the same folder in read-only mode for that one statement, so nothing it sets or chooses
(its database) outlives it, and the writer's session is never the one that reads for a user.
"""

from __future__ import annotations

import fcntl
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import chdb
import orjson
from chdb import session
from chdb._exceptions import ChdbError

from infra.clickhouse.backend import ClickHouseError, Formatted
from infra.clickhouse.confinement import READ_SETTINGS, check_tree, output_format, parse_dump, refusal, sql_string

ROWS_FORMAT = "JSONEachRow"
OUTPUT_FORMATS = "SELECT name FROM system.formats WHERE is_output"
TABLE_FUNCTIONS = "SELECT name FROM system.table_functions"
UNKNOWN_FORMAT = 73
# The engine wraps some refusals in their own code and prefix again.
NESTED = re.compile(r"^(Code: \d+\. DB::Exception: )Code: \d+\. DB::Exception: ")


@dataclass(frozen=True)
class Statement:
    """A user's statement and what it is read with."""

    sql: str
    default_format: str
    database: str | None
    parameters: dict[str, str] | None


def rows_of(body: bytes) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in body.splitlines() if line]


def quoted_name(name: str) -> str:
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


ONE_SINK = (
    "the embedded ClickHouse in {path} is open in another process (the running sink, or a command "
    "reading it): the embedded engine has exactly one sink. Stop that process first, or, to run "
    "several sinks, point every one of them at a ClickHouse server with FOOTFALL_CLICKHOUSE_URL"
)


def held_elsewhere(path: Path) -> bool:
    """Whether another process has the engine open on this folder: a running engine holds
    an exclusive lock on the folder's status file."""
    status = path / "status"
    if not status.exists():
        return False
    with status.open("rb") as file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(file, fcntl.LOCK_UN)
    return False


class EngineInUse(ClickHouseError):
    """The engine's folder is open in another process: waiting would not help this one."""

    def __init__(self, path: Path):
        super().__init__(ONE_SINK.format(path=path), permanent=True)


class EmbeddedClickHouse:
    """The in-process engine's backend, its data in one folder this process then owns."""

    def __init__(self, path: Path):
        path.mkdir(parents=True, exist_ok=True)
        self._path = path
        try:
            self._session = session.Session(str(path))
        except (ChdbError, RuntimeError) as exc:
            # chDB raises RuntimeError, naming no reason, when another process holds the folder.
            if held_elsewhere(path):
                raise EngineInUse(path) from None
            raise ClickHouseError(f"cannot open the embedded ClickHouse in {path}: {exc}") from None
        self._reading = threading.Lock()
        self._known: dict[str, frozenset[str]] = {}

    def _run(self, sql: str, fmt: str = ROWS_FORMAT) -> bytes:
        try:
            return self._session.query(sql, fmt).bytes()
        except ChdbError as exc:
            raise ClickHouseError(str(exc)) from None

    def execute(self, sql: str) -> None:
        self._run(sql)

    def insert(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        body = b"\n".join(orjson.dumps(row, option=orjson.OPT_NAIVE_UTC) for row in rows)
        self._run(f"INSERT INTO {table} FORMAT JSONEachRow\n{body.decode()}")

    def query(self, sql: str) -> list[dict[str, Any]]:
        return rows_of(self._run(sql))

    def read(self, sql: str) -> list[dict[str, Any]]:
        result = self.read_formatted(sql, ROWS_FORMAT)
        if result.format.lower() != ROWS_FORMAT.lower():
            raise ClickHouseError(f"rows are read as {ROWS_FORMAT}: leave the FORMAT {result.format} clause out", permanent=True)
        return rows_of(result.body)

    def read_formatted(self, sql: str, default_format: str, database: str | None = None,
                       parameters: dict[str, str] | None = None) -> Formatted:
        """One statement, parsed by the engine and checked (confinement), then run on a
        read-only connection of its own."""
        with self._reading:
            try:
                connection = chdb.connect(f"{self._path}?{urlencode(READ_SETTINGS)}")
                try:
                    return self._confined(connection, Statement(sql, default_format, database, parameters or None))
                finally:
                    connection.close()
            except (ChdbError, RuntimeError) as exc:
                # chDB raises RuntimeError when it cannot open the connection at all.
                raise ClickHouseError(NESTED.sub(r"\1", str(exc).strip())) from None

    def _confined(self, connection: Any, statement: Statement) -> Formatted:
        if not statement.sql.strip():
            raise refusal("an empty query is refused")
        # The user's text itself is never run: the engine's parser writes it out again
        # (refusing more than one statement, and dropping an insert's inline data, after
        # which the engine would run whatever follows), and only that one statement is
        # explained, checked, then run, its placeholders filled in as the engine fills them.
        parameters = statement.parameters
        formatted = connection.query(f"SELECT formatQuery({sql_string(statement.sql)})", "TabSeparatedRaw")
        sql = formatted.bytes().decode()
        dump = connection.query(f"EXPLAIN AST {sql}", "TabSeparatedRaw", params=parameters).bytes().decode()
        nodes = parse_dump(dump)
        check_tree(nodes, self._names(connection, TABLE_FUNCTIONS))
        formats = self._names(connection, OUTPUT_FORMATS)
        # chDB's Python API takes names of its own (DataFrame, ArrowTable) that answer objects,
        # not bytes: only the engine's output formats are taken.
        if statement.default_format.lower() not in formats:
            raise ClickHouseError(f"Code: {UNKNOWN_FORMAT}. DB::Exception: Unknown output format {statement.default_format!r}. (UNKNOWN_FORMAT)",
                                  code=UNKNOWN_FORMAT, permanent=True)
        fmt = output_format(nodes, formats) or statement.default_format
        if statement.database:
            connection.query(f"USE {quoted_name(statement.database)}", "TabSeparated")
        return Formatted(connection.query(sql, statement.default_format, params=parameters).bytes(), fmt)

    def _names(self, connection: Any, sql: str) -> frozenset[str]:
        """Names the engine knows (its formats, its table functions), lowercased, asked once."""
        if sql not in self._known:
            names = connection.query(sql, "TabSeparatedRaw").bytes().decode()
            self._known[sql] = frozenset(name.lower() for name in names.split())
        return self._known[sql]

    def close(self) -> None:
        self._session.close()
