"""The one small interface every ClickHouse backend offers the sink, migrations and queries,
and the one error they raise, which tells a refusal for what a statement holds from a
server that cannot take it now."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

# ClickHouse's error codes for a statement or its data refused for what they contain:
# sending them again is refused again. By name, from ClickHouse's ErrorCodes.
CONTENT_CODES = frozenset({
    6,    # CANNOT_PARSE_TEXT
    8,    # THERE_IS_NO_COLUMN
    10,   # NOT_FOUND_COLUMN_IN_BLOCK
    16,   # NO_SUCH_COLUMN_IN_TABLE
    20,   # NUMBER_OF_COLUMNS_DOESNT_MATCH
    26,   # CANNOT_PARSE_QUOTED_STRING
    27,   # CANNOT_PARSE_INPUT_ASSERTION_FAILED
    36,   # BAD_ARGUMENTS
    38,   # CANNOT_PARSE_DATE
    41,   # CANNOT_PARSE_DATETIME
    43,   # ILLEGAL_TYPE_OF_ARGUMENT
    44,   # ILLEGAL_COLUMN
    47,   # UNKNOWN_IDENTIFIER
    53,   # TYPE_MISMATCH
    62,   # SYNTAX_ERROR
    69,   # ARGUMENT_OUT_OF_BOUND
    70,   # CANNOT_CONVERT_TYPE
    72,   # CANNOT_PARSE_NUMBER
    117,  # INCORRECT_DATA
    130,  # CANNOT_READ_ARRAY_FROM_TEXT
    131,  # TOO_LARGE_STRING_SIZE
    167,  # TOO_DEEP_AST
    190,  # SIZES_OF_ARRAYS_DONT_MATCH
    321,  # VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
    349,  # CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
    376,  # CANNOT_PARSE_UUID
    407,  # DECIMAL_OVERFLOW
    691,  # UNKNOWN_ELEMENT_OF_ENUM
})
# Codes of a server that cannot take a statement now, whatever it holds: down, busy, out of
# room or read-only. Waited out; named so that no message pattern below overrides them.
CONDITION_CODES = frozenset({
    74,   # CANNOT_READ_FROM_FILE_DESCRIPTOR
    75,   # CANNOT_WRITE_TO_FILE_DESCRIPTOR
    76,   # CANNOT_OPEN_FILE
    159,  # TIMEOUT_EXCEEDED
    164,  # READONLY
    202,  # TOO_MANY_SIMULTANEOUS_QUERIES
    203,  # NO_FREE_CONNECTION
    209,  # SOCKET_TIMEOUT
    210,  # NETWORK_ERROR
    236,  # ABORTED
    241,  # MEMORY_LIMIT_EXCEEDED
    242,  # TABLE_IS_READ_ONLY
    243,  # NOT_ENOUGH_SPACE
    252,  # TOO_MANY_PARTS: merges lag behind inserts (but see TOO_MANY_PARTITIONS)
    279,  # ALL_CONNECTION_TRIES_FAILED
    319,  # UNKNOWN_STATUS_OF_INSERT
    394,  # QUERY_WAS_CANCELLED
    425,  # SYSTEM_ERROR
    999,  # KEEPER_EXCEPTION
})
# The code leads the message; a code further on may be text of the refused data.
CODE = re.compile(r"\s*Code: (\d+)\.")
# One insert block over max_partitions_per_insert_block shares TOO_MANY_PARTS with a
# table whose merges lag behind; only its message tells them apart.
TOO_MANY_PARTS = 252
TOO_MANY_PARTITIONS = "Too many partitions for single INSERT block"
# What a refused value's message says, for a code not named above or a message without
# one. Anything else is taken for the server's condition: waited out, never set aside.
CONTENT_MESSAGE = re.compile(r"Cannot parse|Cannot read|Unknown element|Type mismatch|out of range", re.IGNORECASE)


def code_in(message: str) -> int | None:
    """The ClickHouse error code a message starts with ("Code: 41. DB::Exception: …")."""
    found = CODE.match(message)
    return int(found.group(1)) if found else None


def refused_for_content(code: int | None, message: str) -> bool:
    """Whether ClickHouse refused a statement for what it holds, so that sending it again
    can only fail again; otherwise the refusal is the server's condition, to wait out."""
    if code == TOO_MANY_PARTS:
        return TOO_MANY_PARTITIONS in message
    if code in CONTENT_CODES or code in CONDITION_CODES:
        return code in CONTENT_CODES
    return CONTENT_MESSAGE.search(message) is not None


class ClickHouseError(Exception):
    """A statement ClickHouse refused, with ClickHouse's own message, its error code when
    known, and whether the refusal is for the content (`permanent`) or the server's state."""

    def __init__(self, message: str, code: int | None = None, permanent: bool | None = None):
        super().__init__(message)
        self.code = code if code is not None else code_in(message)
        self.permanent = refused_for_content(self.code, message) if permanent is None else permanent


@dataclass(frozen=True)
class Formatted:
    """A read's result as ClickHouse wrote it, and the format it is in."""

    body: bytes
    format: str


class Backend(Protocol):
    """A ClickHouse backend: the embedded engine (`embedded`) or a server (`native`)."""

    def execute(self, sql: str) -> None:
        """Run a statement that returns nothing (DDL, settings)."""

    def insert(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        """Insert rows given as dicts of column to value."""

    def query(self, sql: str) -> list[dict[str, Any]]:
        """Run one of footfall's own queries and return its rows as dicts."""

    def read(self, sql: str) -> list[dict[str, Any]]:
        """Run a user's statement confined to reading (infra.clickhouse.confinement)."""

    def read_formatted(self, sql: str, default_format: str, database: str | None = None,
                       parameters: dict[str, str] | None = None) -> Formatted:
        """A user's confined read in its FORMAT clause's format, else `default_format`;
        `parameters` are the values of its `{name:Type}` placeholders."""

    def close(self) -> None:
        """Let go of the engine or the connection."""
