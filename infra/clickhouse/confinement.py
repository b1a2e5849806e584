"""What confines a user's query to reading footfall's tables, whatever its text.

The engine is the guard: every user-facing read runs on a connection (or with per-query
settings) in ClickHouse's read-only mode, which refuses writes, setting changes and every
table function that reaches a file, the network or a program, and under limits the user
cannot lift, since read-only mode refuses changing them. The embedded engine runs as
clickhouse-local, which leaves three things unguarded there: the `file()` function,
`INTO OUTFILE`, and schema inference of table functions in DESCRIBE. For those the
statement is first parsed by the engine itself (EXPLAIN AST) and its tree checked here.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.clickhouse.backend import ClickHouseError

READONLY_CODE = 164
# Settings of every user-facing read. readonly=1 comes last, so the limits before it are
# set, and it makes each of them unchangeable by the statement.
READ_SETTINGS: dict[str, int | str] = {
    "max_execution_time": 120,
    "max_result_rows": 10_000_000,
    "max_result_bytes": 256 << 20,
    "result_overflow_mode": "throw",
    "max_memory_usage": 4 << 30,
    "readonly": 1,
}
# The statements a read may be: queries, and what describes the tables.
READ_STATEMENTS = frozenset({
    "SelectWithUnionQuery", "SelectIntersectExceptQuery", "Explain", "DescribeQuery", "ShowTables",
    "ShowColumns", "ExistsTableQuery", "ExistsDatabaseQuery", "ExistsViewQuery", "ExistsDictionaryQuery",
    "ShowCreateTableQuery", "ShowCreateDatabaseQuery", "ShowCreateViewQuery", "ShowCreateDictionaryQuery",
})
# Table functions that only make rows up or read the engine's own tables; every other one
# is refused, also where the engine would not (DESCRIBE's schema inference).
OWN_TABLE_FUNCTIONS = frozenset({
    "numbers", "numbers_mt", "zeros", "zeros_mt", "generaterandom", "generate_series", "generateseries",
    "values", "null", "view", "merge", "format",
})
# Functions that read the machine's files in the embedded engine.
FILE_FUNCTIONS = frozenset({"file"})


@dataclass(frozen=True)
class Node:
    """One line of an EXPLAIN AST dump: its depth, kind and the words after the kind."""

    depth: int
    kind: str
    words: tuple[str, ...]


def refusal(reason: str) -> ClickHouseError:
    """A refusal worded as ClickHouse words its own read-only ones, so clients show it alike."""
    message = f"Code: {READONLY_CODE}. DB::Exception: {reason} on a read-only connection. (READONLY)"
    return ClickHouseError(message, code=READONLY_CODE, permanent=True)


def parse_dump(dump: str) -> list[Node]:
    """The nodes of an EXPLAIN AST dump; the engine indents each child by one space and
    escapes string literals, so one line is one node."""
    nodes = []
    for line in dump.splitlines():
        text = line.lstrip(" ")
        if text:
            kind, *words = text.split(" ")
            nodes.append(Node(len(line) - len(text), kind, tuple(words)))
    return nodes


def check_tree(nodes: list[Node], table_functions: frozenset[str] = frozenset()) -> None:
    """Refuse what the read-only mode leaves open in the embedded engine: another kind of
    statement, INTO OUTFILE (a literal right under the statement), file(), and table
    functions other than those reading no source — in a FROM or JOIN, or anywhere else by
    a name among the engine's `table_functions`."""
    if not nodes:
        raise refusal("an empty query is refused")
    root = nodes[0]
    if root.kind not in READ_STATEMENTS:
        raise refusal(f"{root.kind} is not a read, and only reads run")
    ancestors = [root]
    for node in nodes[1:]:
        del ancestors[max(node.depth, 1):]
        parent = ancestors[-1]
        if node.kind == "Literal" and node.depth == root.depth + 1:
            raise refusal("INTO OUTFILE is not allowed")
        if node.kind == "Function" and node.words:
            name = node.words[0].lower()
            if name in FILE_FUNCTIONS:
                raise refusal(f"the function {node.words[0]} reads files and is not allowed")
            as_table = parent.kind == "TableExpression" or name in table_functions
            if as_table and name not in OWN_TABLE_FUNCTIONS:
                raise refusal(f"the table function {node.words[0]} reaches outside footfall's tables and is not allowed")
        ancestors.append(node)


def output_format(nodes: list[Node], known: frozenset[str]) -> str | None:
    """The FORMAT clause's format, if any: the last identifier right under the statement
    that names an output format (the others there name a database or a table)."""
    root = nodes[0]
    names = [n.words[0] for n in nodes if n.depth == root.depth + 1 and n.kind == "Identifier" and n.words]
    return next((name for name in reversed(names) if name.lower() in known), None)


def sql_string(text: str) -> str:
    """Text as a ClickHouse string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
