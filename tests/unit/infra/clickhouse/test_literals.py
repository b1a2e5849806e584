"""String literals for footfall's own statements: hostile text read back by the engine as itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.clickhouse.embedded import EmbeddedClickHouse
from infra.clickhouse.literals import string_literal

HOSTILE = [
    "",
    "'",
    "\\",
    "\\'",
    "a'; DROP TABLE footfall.events; --",
    "x\\' OR 1=1 --",
    "nul\x00inside",
    "tab\tnew\nline\rbell\x07del\x7f",
    "é€𝄞 and a right-to-left \u202e mark",
    "{x:String}",
    "%(id)s",
    "'" * 5000 + "\\" * 5000,
]


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory):
    backend = EmbeddedClickHouse(Path(tmp_path_factory.mktemp("literals")) / "clickhouse")
    yield backend
    backend.close()


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_the_engine_reads_a_literal_back_as_the_text_it_was_made_of(engine: EmbeddedClickHouse, value: str) -> None:
    assert engine.query(f"SELECT {string_literal(value)} AS v, 1 AS after")[0] == {"v": value, "after": 1}


def test_no_raw_control_character_reaches_the_statement() -> None:
    assert string_literal("a\x00b\nc") == "'a\\x00b\\x0ac'"


def test_text_without_utf8_bytes_is_refused() -> None:
    with pytest.raises(UnicodeEncodeError):
        string_literal("lone \ud800 surrogate")
