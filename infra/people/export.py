"""Everything footfall holds about one person, as one JSON document written as it is read.

The document is laid out a line at a time (a table's name opening its array, then one row
a line, the summary last), so that it streams from the sink to a file in pages of rows,
and whoever writes it can follow the progress and read the summary without parsing it whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from infra.clickhouse.backend import Backend
from infra.people.finding import Person
from infra.people.lookup import looked_up
from infra.people.tables import EVENTS, PERSON_TABLES
from schemas.surveys import SURVEY_EVENT

FORMAT = "footfall-person-export/1"
PAGE_ROWS = 5_000
TABLE_OPENING = re.compile(rb'^"(\w+)": \[$')
SUMMARY_OPENING = b'"summary": '


def _json(value: Any) -> bytes:
    return orjson.dumps(value, default=str, option=orjson.OPT_NAIVE_UTC | orjson.OPT_NON_STR_KEYS)


def export_lines(backend: Backend, person: Person, exported_at: datetime, page_rows: int = PAGE_ROWS) -> Iterator[bytes]:
    """The export document, line by line (each ending in a newline)."""
    header = {"format": FORMAT, "site_id": person.site_id, "exported_at": exported_at.isoformat(),
              "user_ids": person.user_ids, "anonymous_ids": person.anonymous_ids}
    yield _json(header)[:-1] + b',\n"tables": {\n'
    summary: dict[str, int] = {}
    surveys = 0
    with looked_up(backend, person.ids) as lookup:
        for number, table in enumerate(PERSON_TABLES):
            yield (b"" if number == 0 else b",\n") + _json(table.name) + b": [\n"
            rows = 0
            while True:
                page = backend.query(table.select(person.site_id, lookup, page_rows, rows))
                for row in page:
                    yield (b",\n" if rows else b"") + _json(row)
                    rows += 1
                    surveys += table is EVENTS and row.get("name") == SURVEY_EVENT
                if len(page) < page_rows:
                    break
            yield b"\n]" if rows else b"]"
            summary[table.name] = rows
    summary["survey_answers"] = surveys
    yield b"\n},\n" + SUMMARY_OPENING + _json(summary) + b"\n}\n"


def lines_of(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Chunks of a byte stream (as HTTP delivers them) cut back into whole lines."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        *whole, pending = pending.split(b"\n")
        for line in whole:
            yield line + b"\n"
    if pending:
        yield pending


@dataclass
class ExportProgress:
    """What a reader of the document has seen: the table being written, rows so far, and
    the summary once the document is complete."""

    table: str | None = None
    rows: int = 0
    summary: dict[str, int] | None = field(default=None)

    def see(self, line: bytes) -> None:
        stripped = line.rstrip(b"\n").lstrip(b",")
        opening = TABLE_OPENING.match(stripped)
        if opening:
            self.table = opening.group(1).decode()
        elif stripped.startswith(b"{") and self.table is not None and self.summary is None:
            self.rows += 1
        elif stripped.startswith(SUMMARY_OPENING):
            self.summary = orjson.loads(stripped[len(SUMMARY_OPENING):])
