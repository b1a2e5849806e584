"""Versioned, re-runnable migrations: each applied once, in order, and recorded; then the
configured retention."""

from __future__ import annotations

from collections.abc import Callable

from schemas.migrations import MIGRATIONS, MIGRATIONS_TABLE_DDL, Migration
from schemas.tables import DATABASE
from infra.clickhouse.backend import Backend
from infra.clickhouse.retention import apply_retention
from infra.config import Retention


def applied_versions(backend: Backend) -> set[int]:
    return {row["version"] for row in backend.query(f"SELECT version FROM {DATABASE}.schema_migrations FINAL")}


def migrate(
    backend: Backend,
    migrations: tuple[Migration, ...] = MIGRATIONS,
    on_progress: Callable[[str], None] = lambda message: None,
    retention: Retention | None = None,
) -> list[int]:
    """Apply what is missing, then give every table the retention when one is given (left
    out, the tables' TTLs stay as they are); returns the versions applied now (none on a
    second run)."""
    backend.execute(f"CREATE DATABASE IF NOT EXISTS {DATABASE}")
    backend.execute(MIGRATIONS_TABLE_DDL)
    done = applied_versions(backend)
    applied = []
    for migration in sorted(migrations, key=lambda m: m.version):
        if migration.version in done:
            continue
        on_progress(f"applying migration {migration.version}: {migration.name}")
        for statement in migration.statements:
            backend.execute(statement)
        backend.insert(f"{DATABASE}.schema_migrations", [{"version": migration.version, "name": migration.name}])
        applied.append(migration.version)
    if retention is not None:
        apply_retention(backend, retention, on_progress)
    return applied
