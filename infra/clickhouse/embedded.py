"""The embedded default: the ClickHouse engine in-process (chDB), its data in the state folder.

chDB locks its data folder, so one process at a time may open it; while the stack runs,
that process is the sink.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
from chdb import session
from chdb._exceptions import ChdbError

from infra.clickhouse.backend import ClickHouseError


class EmbeddedClickHouse:
    """The in-process engine's backend, its data in one folder this process then owns."""

    def __init__(self, path: Path):
        path.mkdir(parents=True, exist_ok=True)
        try:
            self._session = session.Session(str(path))
        except ChdbError as exc:
            raise ClickHouseError(f"cannot open the embedded ClickHouse in {path}: {exc}") from None

    def _run(self, sql: str, fmt: str = "JSONEachRow") -> bytes:
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
        return [orjson.loads(line) for line in self._run(sql).splitlines() if line]

    def close(self) -> None:
        self._session.close()
