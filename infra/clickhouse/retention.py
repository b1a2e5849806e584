"""Each table's TTL made what the configured retention says, after the versioned migrations.

Retention is configuration, not a schema version: every migration run compares each
table's TTL, as the engine reports it, with the one configured and alters only the tables
that differ, so running it again changes nothing. ClickHouse servers before 19.6 have no
table TTL: there nothing is altered and the run says so once.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from infra.clickhouse.backend import Backend
from infra.config import FOREVER, Retention
from schemas.cluster import LOCAL_SUFFIX, for_cluster
from schemas.retention import AGED_BY
from schemas.tables import DATABASE

log = logging.getLogger(__name__)
TTL_SINCE = (19, 6)
# engine_full: "<engine> PARTITION BY … ORDER BY … TTL <expression> SETTINGS …".
TABLE_TTL = re.compile(r"\sTTL\s+(.*?)(?:\s+SETTINGS\s|$)", re.DOTALL)


def wanted_ttl(table: str, retention: Retention) -> str | None:
    """The TTL expression as the engine shows it back, or None for rows kept for ever."""
    days = retention.table_days(table)
    return None if days == FOREVER else f"{AGED_BY[table]} + toIntervalDay({days})"


def current_ttl(engine_full: str) -> str | None:
    found = TABLE_TTL.search(engine_full)
    return found.group(1).strip() if found else None


def ttl_statement(table: str, ttl: str | None) -> str:
    action = "REMOVE TTL" if ttl is None else f"MODIFY TTL {ttl}"
    return f"ALTER TABLE {DATABASE}.{table} {action}"


def retention_statements(engines: dict[str, str], retention: Retention) -> dict[str, str]:
    """The ALTER, by table, that brings each table present (name to engine_full) to the retention."""
    return {
        table: ttl_statement(table, wanted)
        for table, engine_full in sorted(engines.items())
        if table in AGED_BY and (wanted := wanted_ttl(table, retention)) != current_ttl(engine_full)
    }


def described(days: int) -> str:
    return "kept for ever" if days == FOREVER else f"{days} days"


def server_version(backend: Backend) -> tuple[int, ...]:
    version = backend.query("SELECT version() AS version")[0]["version"]
    return tuple(int(part) for part in re.findall(r"\d+", version)[:2])


def local_engines(engines: dict[str, str]) -> dict[str, str]:
    """On a cluster the rows, and so the TTLs, are in the local tables: their engines by table name."""
    return {name.removesuffix(LOCAL_SUFFIX): engine for name, engine in engines.items() if name.endswith(LOCAL_SUFFIX)}


def apply_retention(
    backend: Backend, retention: Retention, on_progress: Callable[[str], None] = lambda message: None, cluster: str | None = None
) -> list[str]:
    """Alter the TTL of each footfall table whose TTL differs from the retention (on a
    cluster, its local tables on every node); returns the statements run (none when every
    table already agrees)."""
    version = server_version(backend)
    if version < TTL_SINCE:
        release = ".".join(map(str, version))
        log.warning("retention not applied: ClickHouse %s has no table TTL (19.6 and later have); rows are kept for ever", release)
        return []
    rows = backend.query(f"SELECT name, engine_full FROM system.tables WHERE database = '{DATABASE}'")
    engines = {row["name"]: row["engine_full"] for row in rows}
    statements = retention_statements(engines if cluster is None else local_engines(engines), retention)
    run = []
    for table, statement in statements.items():
        on_progress(f"retention of {DATABASE}.{table}: {described(retention.table_days(table))}")
        for form in (statement,) if cluster is None else for_cluster(statement, cluster):
            backend.execute(form)
            run.append(form)
    return run
