"""Which refusals are for what a statement holds (permanent: set the rows aside) and which
are the server's condition (transient: wait and send again), from ClickHouse's error code
or, without a known one, its message; and real errors of the modern engine, each class."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.clickhouse.backend import ClickHouseError, code_in, refused_for_content
from infra.clickhouse.embedded import EmbeddedClickHouse

TABLE = "CREATE TABLE d.t (ts DateTime64(3, 'UTC'), n UInt8, e Enum8('a' = 1)) ENGINE = MergeTree PARTITION BY toYYYYMM(ts) ORDER BY ts"


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("Code: 41. DB::Exception: Cannot read DateTime", 41),
        ("  Code: 243. DB::Exception: Cannot reserve", 243),
        ("Code: 81. DB::Exception: Database nowhere doesn't exist", 81),
        ("DB::Exception: no code", None),
        ("Cannot parse 'Code: 243.' quoted from the data", None),  # a code further on is data
        ("", None),
    ],
)
def test_the_code_is_the_one_the_message_starts_with(message: str, code: int | None) -> None:
    assert code_in(message) == code
    assert ClickHouseError(message).code == code


@pytest.mark.parametrize(
    ("code", "message", "permanent"),
    [
        (41, "Cannot read DateTime: unexpected word", True),
        (72, "Cannot read floating point value", True),
        (27, "Cannot parse input: expected ','", True),
        (691, "Unknown element 'zzz' for enum", True),
        (321, "Value out of range", True),
        (16, "No such column zz in table", True),
        (62, "Syntax error", True),
        (53, "Type mismatch", True),
        (252, "Too many partitions for single INSERT block (more than 100)", True),
        (252, "Too many parts (300). Merges are processing significantly slower than inserts", False),
        (243, "Cannot reserve 1.00 MiB, not enough space", False),
        (241, "Query memory limit exceeded", False),
        (159, "Timeout exceeded: elapsed 200 ms", False),
        (202, "Too many simultaneous queries. Maximum: 100", False),
        (164, "Cannot execute query in readonly mode", False),
        (242, "Table is in readonly mode", False),
        (210, "Connection refused", False),
        (209, "Timeout exceeded while reading from socket", False),
        (74, "Cannot read from file descriptor", False),  # a known condition: the message pattern does not override it
        (60, "Table footfall.events does not exist", False),  # not the rows' fault: waited out, with an alert
        (81, "Database footfall doesn't exist", False),
        (9999, "Cannot parse something new", True),  # a code not named: the message decides
        (9999, "Something new went wrong", False),
        (None, "Cannot parse input", True),
        (None, "Unknown element 'x' for enum", True),
        (None, "ClickHouse unreachable after 5 attempts: [Errno 111] Connection refused", False),
        (None, "", False),
    ],
)
def test_refusals_for_the_content_are_told_from_the_servers_condition(code: int | None, message: str, permanent: bool) -> None:
    assert refused_for_content(code, message) is permanent
    text = message if code is None else f"Code: {code}. DB::Exception: {message}"
    assert ClickHouseError(text).permanent is permanent


def test_a_backend_may_say_itself_which_class_a_refusal_is() -> None:
    assert ClickHouseError("cannot encode the rows for footfall.events: bad", permanent=True).permanent
    assert not ClickHouseError("Code: 41. Cannot parse", permanent=False).permanent
    assert ClickHouseError("Code: 41. Cannot parse", code=41).code == 41
    assert ClickHouseError("a server's message", code=243).code == 243 and not ClickHouseError("a server's message", code=243).permanent


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[EmbeddedClickHouse]:
    backend = EmbeddedClickHouse(tmp_path / "clickhouse")
    backend.execute("CREATE DATABASE d")
    backend.execute(TABLE)
    yield backend
    backend.close()


def refusal(engine: EmbeddedClickHouse, sql: str | None = None, rows: list[dict] | None = None) -> ClickHouseError:
    with pytest.raises(ClickHouseError) as refused:
        if rows is not None:
            engine.insert("d.t", rows)
        else:
            engine.execute(sql or "")
    return refused.value


ROW = {"ts": "2026-11-25 10:00:00.000", "n": 1, "e": "a"}


@pytest.mark.parametrize(
    ("rows", "code", "name"),
    [
        ([{**ROW, "ts": "yesterday"}], 41, "CANNOT_PARSE_DATETIME"),
        ([{**ROW, "ts": "2026-02-31 00:00:00.000"}], 41, "CANNOT_PARSE_DATETIME"),
        ([{**ROW, "e": "zzz"}], 691, "UNKNOWN_ELEMENT_OF_ENUM"),  # a value outside its type
        ([{**ROW, "n": -1}], 72, "CANNOT_PARSE_NUMBER"),
        ([{**ROW, "n": "many"}], 27, "CANNOT_PARSE_INPUT_ASSERTION_FAILED"),
        ([{**ROW, "ts": f"{2000 + m // 12}-{m % 12 + 1:02d}-01 00:00:00.000"} for m in range(101)], 252, "TOO_MANY_PARTS"),
    ],
)
def test_the_engine_refusing_rows_for_what_they_hold_is_permanent(engine: EmbeddedClickHouse, rows: list[dict], code: int, name: str) -> None:
    refused = refusal(engine, rows=rows)
    assert (refused.code, refused.permanent) == (code, True)
    assert f"({name})" in str(refused)


def test_an_unknown_column_is_permanent(engine: EmbeddedClickHouse) -> None:
    refused = refusal(engine, "INSERT INTO d.t (zz) VALUES (1)")
    assert (refused.code, refused.permanent) == (16, True)


@pytest.mark.parametrize(
    ("sql", "code"),
    [
        ("SELECT count() FROM numbers(10000000000) SETTINGS max_execution_time = 0.1", 159),
        ("SELECT groupArray(number) FROM numbers(10000000) SETTINGS max_memory_usage = 1000000", 241),
        ("INSERT INTO d.t SETTINGS readonly = 1 VALUES ('2026-11-25 10:00:00', 1, 'a')", 164),
    ],
)
def test_the_engine_out_of_time_memory_or_writes_is_transient(engine: EmbeddedClickHouse, sql: str, code: int) -> None:
    refused = refusal(engine, sql)
    assert (refused.code, refused.permanent) == (code, False)
