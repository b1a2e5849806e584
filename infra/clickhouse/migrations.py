"""Versioned, re-runnable migrations: each applied once, in order, and recorded."""

from __future__ import annotations

from collections.abc import Callable

from schemas.migrations import MIGRATIONS, MIGRATIONS_TABLE_DDL, Migration
from schemas.tables import DATABASE
from infra.clickhouse.backend import Backend


def applied_versions(backend: Backend) -> set[int]:
    return {row["version"] for row in backend.query(f"SELECT version FROM {DATABASE}.schema_migrations FINAL")}


def migrate(
    backend: Backend,
    migrations: tuple[Migration, ...] = MIGRATIONS,
    on_progress: Callable[[str], None] = lambda message: None,
) -> list[int]:
    """Apply what is missing; returns the versions applied now (none on a second run)."""
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
    return applied
