"""Erasing one person from ClickHouse: every row of theirs in every table, the rollup hours
their events were counted in rebuilt without them, and an audit row that names them only
by keyed hashes. Run again, it finds nothing more to remove and says so.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel

from infra.clickhouse.backend import Backend
from infra.people.finding import Person
from infra.people.lookup import Lookup, looked_up
from infra.people.tables import EVENTS, PERSON_TABLES
from schemas.erasures import Erasure
from schemas.rollups import ROLLUPS, Rollup
from schemas.tables import DATABASE, RELOAD_CUSTOMER_PERSONAS

AUDIT_TABLE = f"{DATABASE}.erasure_audit"


class Erased(BaseModel):
    """What one erasure removed: their rows per table (as reads saw them), the rollup hours
    rebuilt, and how many ids the person had."""

    ids: int
    removed: dict[str, int]
    rebuilt_hours: int

    @property
    def found(self) -> bool:
        return any(self.removed.values())


def hours_sql(site_id: str, lookup: Lookup) -> str:
    """The rollup keys (site, path, hour) that their events were counted in."""
    return (
        f"SELECT DISTINCT site_id, path, toStartOfHour(ts) AS hour FROM {EVENTS.qualified} "
        f"WHERE {EVENTS.where(site_id, lookup)}"
    )


def rebuild_sql(rollup: Rollup, site_id: str, lookup: Lookup) -> str:
    """A rollup's rows for the saved hours, computed again as its materialized view does,
    from every stored copy of those hours' events (the view saw each one) but theirs."""
    names = [column.split()[0] for column in rollup.columns]
    keys = ", ".join(("site_id", "path", "hour", *rollup.sort_keys, "bot"))
    return (
        f"INSERT INTO {DATABASE}.{rollup.table} ({', '.join(('site_id', 'path', 'hour', *names, 'bot'))}) "
        f"SELECT site_id, path, hour, {', '.join(names)}, bot FROM ("
        f"SELECT site_id, path, toStartOfHour(ts) AS hour, {rollup.select}, bot FROM {EVENTS.qualified} "
        f"WHERE ({rollup.where}) AND (site_id, path, toStartOfHour(ts)) IN {lookup.hours} "
        f"AND NOT ({EVENTS.where(site_id, lookup)}) GROUP BY {keys})"
    )


def clear_hours_sql(rollup: Rollup, lookup: Lookup) -> str:
    return (
        f"ALTER TABLE {DATABASE}.{rollup.table} DELETE WHERE (site_id, path, hour) IN {lookup.hours} "
        "SETTINGS mutations_sync = 2, allow_nondeterministic_mutations = 1"
    )


def count(backend: Backend, sql: str) -> int:
    return int(backend.query(sql)[0]["rows"])


def erase(backend: Backend, person: Person, erasure: Erasure, requested_by: str, on_step: Callable[[str], None] = lambda step: None) -> Erased:
    """Erase `person` (the rollups first, from the events still there, so that an erasure
    cut short and run again finds the same hours), then record the audit row."""
    site = person.site_id
    with looked_up(backend, person.ids) as lookup:
        removed = {table.name: count(backend, table.count(site, lookup, final=True)) for table in PERSON_TABLES}
        lookup.save_hours(hours_sql(site, lookup))
        hours = count(backend, f"SELECT count() AS rows FROM {lookup.hours}")
        if hours:
            for rollup in ROLLUPS:
                on_step(f"rebuilding {rollup.table}")
                backend.execute(clear_hours_sql(rollup, lookup))
                backend.execute(rebuild_sql(rollup, site, lookup))
        for table in PERSON_TABLES:
            if count(backend, table.count(site, lookup, final=False)):
                on_step(f"deleting from {table.name}")
                backend.execute(table.delete(site, lookup))
        if removed.get("customer_personas"):
            # The lookup behind customers.persona_id would hold their id until it next reloads.
            backend.execute(RELOAD_CUSTOMER_PERSONAS)
    erased = Erased(ids=len(person.ids), removed=removed, rebuilt_hours=hours)
    backend.insert(AUDIT_TABLE, [audit_row(erasure, requested_by, erased)])
    return erased


def audit_row(erasure: Erasure, requested_by: str, erased: Erased) -> dict:
    return {
        "requested_at": erasure.requested_at.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
        "site_id": erasure.site_id,
        "requested_by": requested_by,
        "id_hashes": sorted(erasure.id_hashes),
        "found": int(erased.found),
        "removed": erased.removed,
        "rebuilt_hours": erased.rebuilt_hours,
    }
