"""A person's ids put where one request's statements read them, by the request's id.

ClickHouse keeps a mutation's text on disk (and a server logs queries), so an erasure whose
statements spelled out the ids would leave them behind in the very act of deleting them;
the ids go into a Memory table as data instead, and every statement names only the request.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import orjson

from infra.clickhouse.backend import Backend
from infra.clickhouse.literals import string_literal
from infra.erasures import ID_FIELDS, NUMBER
from schemas.tables import DATABASE

IDS_TABLE = f"{DATABASE}.person_ids"
HOURS_TABLE = f"{DATABASE}.person_hours"
# An id short enough to occur by chance inside other text is matched in dead letters only
# as a whole JSON string; a longer one wherever it occurs (a reason quoting it, say).
SEARCHED_ANYWHERE_CHARS = 8


def needles(person_id: str) -> list[str]:
    """What a dead letter or a row set aside holds when it quotes this id, or, for an id
    that is a number's text, holds it as the JSON number it was sent as under an id field
    (infra.erasures matches the same forms in what the sink reads)."""
    found = [orjson.dumps(person_id).decode()]
    if len(person_id) >= SEARCHED_ANYWHERE_CHARS:
        found.append(person_id)
    if re.fullmatch(NUMBER, person_id):
        found += [f'"{field}":{person_id}{end}' for field in ID_FIELDS for end in ",}"]
    return found


@dataclass(frozen=True)
class Lookup:
    """One request's ids in the lookup tables, as subqueries for its statements."""

    backend: Backend
    request: str

    @property
    def _mine(self) -> str:
        return f"request = {string_literal(self.request)}"

    @property
    def ids(self) -> str:
        """`column IN {lookup.ids}`: whether a column holds one of the ids."""
        return f"(SELECT id FROM {IDS_TABLE} WHERE {self._mine})"

    @property
    def needles(self) -> str:
        """An array of what text quoting one of the ids holds (see `needles`)."""
        return f"(SELECT groupArray(needle) FROM {IDS_TABLE} WHERE {self._mine})"

    @property
    def hours(self) -> str:
        """`(site_id, path, hour) IN {lookup.hours}`: the rollup hours saved for this request."""
        return f"(SELECT site_id, path, hour FROM {HOURS_TABLE} WHERE {self._mine})"

    def add(self, ids: Iterable[str]) -> None:
        rows = [{"request": self.request, "id": person_id, "needle": needle} for person_id in ids for needle in needles(person_id)]
        self.backend.insert(IDS_TABLE, rows)

    def save_hours(self, select: str) -> None:
        """Keep the (site_id, path, hour) rows `select` returns under this request."""
        self.backend.execute(f"INSERT INTO {HOURS_TABLE} SELECT {string_literal(self.request)}, site_id, path, hour FROM ({select})")

    def clear(self) -> None:
        for table in (IDS_TABLE, HOURS_TABLE):
            self.backend.execute(f"ALTER TABLE {table} DELETE WHERE {self._mine}")


@contextmanager
def looked_up(backend: Backend, ids: Iterable[str]) -> Iterator[Lookup]:
    """The ids in the lookup tables for as long as the block runs, then gone."""
    lookup = Lookup(backend, uuid.uuid4().hex)
    try:
        lookup.add(ids)
        yield lookup
    finally:
        lookup.clear()
