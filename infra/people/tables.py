"""Where footfall keeps a person, table by table, and which rows are theirs.

A row is theirs when one of its id columns holds one of their ids (a visitor's id is the
anonymous id, else the user id, so every id column is compared with all of them), or, for
dead letters and rows set aside, whose only trace of a person is the text kept, when that
text quotes one of their ids. Campaign costs name nobody; the rollups are rebuilt instead
(infra.people.erasing).
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.clickhouse.literals import string_literal
from infra.people.lookup import Lookup
from schemas.tables import DATABASE


@dataclass(frozen=True)
class PersonTable:
    """A table holding people's rows: the columns that name them, and an order to page in."""

    name: str
    order_by: str
    id_columns: tuple[str, ...] = ()
    text_columns: tuple[str, ...] = ()

    @property
    def qualified(self) -> str:
        return f"{DATABASE}.{self.name}"

    def where(self, site_id: str, lookup: Lookup) -> str:
        """The condition a row of theirs meets, reading the ids from the request's lookup."""
        if self.id_columns:
            held = " OR ".join(f"{column} IN {lookup.ids}" for column in self.id_columns)
            return f"site_id = {string_literal(site_id)} AND ({held})"
        # A record set aside before its site was known has none; it is searched too.
        quoted = " OR ".join(f"arrayExists(needle -> position({column}, needle) > 0, {lookup.needles})" for column in self.text_columns)
        return f"site_id IN ({string_literal(site_id)}, '') AND ({quoted})"

    def select(self, site_id: str, lookup: Lookup, limit: int, offset: int) -> str:
        """One page of their rows as every read sees them (FINAL: the current version)."""
        return (
            f"SELECT * FROM {self.qualified} FINAL WHERE {self.where(site_id, lookup)} "
            f"ORDER BY {self.order_by} LIMIT {int(limit)} OFFSET {int(offset)}"
        )

    def count(self, site_id: str, lookup: Lookup, final: bool) -> str:
        """Their rows as reads see them (`final`), or every stored version of them."""
        return f"SELECT count() AS rows FROM {self.qualified}{' FINAL' if final else ''} WHERE {self.where(site_id, lookup)}"

    def delete(self, site_id: str, lookup: Lookup) -> str:
        """Every stored version of their rows, the statement returning once they are gone.
        The condition reads another table, which a replicated table accepts only when told."""
        return (
            f"ALTER TABLE {self.qualified} DELETE WHERE {self.where(site_id, lookup)} "
            "SETTINGS mutations_sync = 2, allow_nondeterministic_mutations = 1"
        )


EVENTS = PersonTable("events", "ts, event_id", id_columns=("anonymous_id", "user_id"))
PERSON_TABLES = (
    EVENTS,
    PersonTable("sessions", "started_at, session_id", id_columns=("anonymous_id", "user_id")),
    PersonTable("segment_membership", "segment, anonymous_id", id_columns=("anonymous_id", "customer_id")),
    PersonTable("segment_changes", "at, segment, version", id_columns=("anonymous_id", "customer_id")),
    PersonTable("funnel_progress", "funnel, anonymous_id", id_columns=("anonymous_id", "customer_id")),
    PersonTable("customers", "customer_id", id_columns=("customer_id", "anonymous_id", "user_id")),
    PersonTable("customer_personas", "customer_id", id_columns=("customer_id",)),
    PersonTable("invalid_events", "received_at, raw", text_columns=("raw", "reason")),
    PersonTable("rejected_rows", "rejected_at, key", text_columns=("content", "reason")),
)
