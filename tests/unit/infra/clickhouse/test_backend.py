"""Reads are confined by the engine: what reads runs, anything else is refused as READONLY."""

import threading
from collections.abc import Iterator
from pathlib import Path

import chdb
import pytest

from infra.clickhouse.backend import ClickHouseError
from infra.clickhouse.confinement import READ_SETTINGS, READONLY_CODE
from infra.clickhouse.embedded import EmbeddedClickHouse
from urllib.parse import urlencode

OUTSIDE = [
    "SELECT * FROM file('/etc/passwd', 'LineAsString')",
    "SELECT * FROM url('http://127.0.0.1:1/x', CSV, 'a String')",
    "SELECT * FROM s3('http://127.0.0.1:1/bucket/key.csv')",
    "SELECT * FROM remote('127.0.0.1:1', system.one)",
    "SELECT * FROM executable('id', CSV, 'a String')",
    "SELECT * FROM filesystem('/etc')",
    "SELECT * FROM dictionary('x')",
]


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedClickHouse]:
    backend = EmbeddedClickHouse(tmp_path_factory.mktemp("confined") / "clickhouse")
    backend.execute("CREATE DATABASE footfall")
    backend.execute("CREATE TABLE footfall.t (x UInt8) ENGINE = MergeTree ORDER BY x")
    backend.insert("footfall.t", [{"x": 1}])
    yield backend
    backend.close()


@pytest.mark.parametrize("sql", ["SELECT 1", "  select * from footfall.t", "WITH x AS (SELECT 1) SELECT * FROM x",
                                 "SHOW TABLES FROM footfall", "DESCRIBE TABLE footfall.t", "EXPLAIN SELECT 1", "(SELECT 1)",
                                 "SELECT 1;"])
def test_reads_are_allowed(engine: EmbeddedClickHouse, sql: str) -> None:
    assert engine.read(sql)


@pytest.mark.parametrize("sql", ["", "INSERT INTO footfall.t VALUES (1)", "DROP TABLE footfall.t", "ALTER TABLE footfall.t DELETE WHERE 1",
                                 "OPTIMIZE TABLE footfall.t FINAL", "CREATE TABLE footfall.u (x UInt8) ENGINE=Memory",
                                 "SELECT 1 SETTINGS readonly = 0", "SELECT 1 SETTINGS max_result_rows = 0", "KILL QUERY WHERE 1",
                                 "SET max_execution_time = 0", "SELECT file('/etc/hostname')", "SELECT * FROM view(SELECT file('/etc/hostname'))",
                                 "SELECT 1 INTO OUTFILE 'leak.txt'", "DESCRIBE file('/etc/passwd', 'CSVWithNames')",
                                 "DESCRIBE url('http://127.0.0.1:1/x', CSVWithNames)", "SELECT * FROM python(x)",
                                 "DESCRIBE (SELECT 1 IN file('/etc/passwd', 'CSVWithNames'))",
                                 "SELECT 1 IN url('http://127.0.0.1:1/x', 'CSV', 'a String')", *OUTSIDE])
def test_writes_files_network_and_setting_changes_are_refused(engine: EmbeddedClickHouse, sql: str) -> None:
    with pytest.raises(ClickHouseError) as refused:
        engine.read(sql)
    assert refused.value.code == READONLY_CODE, str(refused.value)
    assert engine.read("SELECT count() AS n FROM footfall.t") == [{"n": 1}]


def test_several_statements_are_refused(engine: EmbeddedClickHouse) -> None:
    with pytest.raises(ClickHouseError, match="Multi-statements"):
        engine.read("SELECT 1; DROP TABLE footfall.t")
    assert engine.read("SELECT count() AS n FROM footfall.t") == [{"n": 1}]


@pytest.mark.parametrize("data", ["VALUES (1)", "FORMAT Values (1)", "FORMAT TSV\n1\n"])
def test_nothing_after_an_inserts_inline_data_runs(engine: EmbeddedClickHouse, tmp_path: Path, data: str) -> None:
    """The engine takes what follows an insert's inline data for another statement."""
    leak = tmp_path / "leak.txt"
    with pytest.raises(ClickHouseError, match="READONLY"):
        engine.read(f"INSERT INTO footfall.t {data}; SELECT 1 INTO OUTFILE '{leak}'")
    assert not leak.exists()


@pytest.mark.parametrize("sql", OUTSIDE)
def test_the_engine_itself_refuses_every_external_source_on_the_read_connection(engine: EmbeddedClickHouse, sql: str) -> None:
    """Without footfall's own parse check, the read connection's settings alone refuse them."""
    connection = chdb.connect(f"{engine._path}?{urlencode(READ_SETTINGS)}")
    try:
        with pytest.raises(Exception, match="READONLY"):
            connection.query(sql, "TabSeparated")
        with pytest.raises(Exception, match="READONLY"):
            connection.query(f"{sql} SETTINGS readonly = 0", "TabSeparated")
    finally:
        connection.close()


def test_limits_hold_on_the_read_connection(engine: EmbeddedClickHouse) -> None:
    with pytest.raises(ClickHouseError, match="TOO_MANY_ROWS_OR_BYTES"):
        engine.read_formatted(f"SELECT number FROM numbers({READ_SETTINGS['max_result_rows'] + 1})", "Null")


def test_a_database_and_a_format_apply_to_one_read_only(engine: EmbeddedClickHouse) -> None:
    answer = engine.read_formatted("SELECT x FROM t FORMAT CSV", "TabSeparated", database="footfall")
    assert (answer.body, answer.format) == (b"1\n", "CSV")
    assert engine.read("SELECT currentDatabase() AS db") == [{"db": "default"}]
    with pytest.raises(ClickHouseError, match="leave the FORMAT"):
        engine.read("SELECT 1 FORMAT CSV")


def test_reads_run_beside_the_writers_inserts(engine: EmbeddedClickHouse) -> None:
    """A read has a connection of its own: it neither waits for nor breaks the writes."""
    engine.execute("CREATE TABLE footfall.w (x UInt32) ENGINE = MergeTree ORDER BY x")
    failures: list[Exception] = []

    def write() -> None:
        for block in range(40):
            try:
                engine.insert("footfall.w", [{"x": block * 100 + n} for n in range(100)])
            except ClickHouseError as exc:
                failures.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    counts = [engine.read("SELECT count() AS n FROM footfall.w")[0]["n"] for _ in range(40)]
    writer.join()
    assert not failures and engine.read("SELECT count() AS n FROM footfall.w") == [{"n": 4000}]
    assert counts == sorted(counts) and all(n % 100 == 0 for n in counts)
    assert counts == sorted(counts) and all(n % 100 == 0 for n in counts)


@pytest.mark.parametrize("fmt", ["DataFrame", "ArrowTable", "dataframe", "CSV\r\nX-Injected: 1", "NoSuchFormat"])
def test_a_default_format_the_engine_cannot_write_is_refused_as_unknown(engine: EmbeddedClickHouse, fmt: str) -> None:
    """chDB's Python API names formats of its own that answer objects instead of bytes."""
    with pytest.raises(ClickHouseError, match="UNKNOWN_FORMAT") as refused:
        engine.read_formatted("SELECT 1", fmt)
    assert refused.value.code == 73 and refused.value.permanent
    assert engine.read_formatted("SELECT 1", "csv").body == b"1\n"
