"""Versioned, re-runnable migrations: each applied once, in order, and recorded; then the
configured retention."""

from __future__ import annotations

from collections.abc import Callable

from schemas.cluster import cluster_migrations, for_cluster
from schemas.migrations import MIGRATIONS, MIGRATIONS_TABLE_DDL, Migration
from schemas.tables import DATABASE
from infra.clickhouse.backend import Backend
from infra.clickhouse.retention import apply_retention
from infra.config import Retention


def applied_versions(backend: Backend) -> set[int]:
    return {row["version"] for row in backend.query(f"SELECT version FROM {DATABASE}.schema_migrations FINAL")}


def preparation(cluster: str | None = None) -> tuple[str, ...]:
    """The database and the record of applied migrations, made before any migration."""
    statements = (f"CREATE DATABASE IF NOT EXISTS {DATABASE}", MIGRATIONS_TABLE_DDL)
    return statements if cluster is None else tuple(form for statement in statements for form in for_cluster(statement, cluster))


def planned(migrations: tuple[Migration, ...], cluster: str | None = None) -> tuple[Migration, ...]:
    """The migrations in the order they are applied, each in the form for one node or for the cluster."""
    ordered = tuple(sorted(migrations, key=lambda m: m.version))
    return ordered if cluster is None else cluster_migrations(ordered, cluster)


def printed_statements(cluster: str | None = None, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[str]:
    """Every statement a first migration runs, in order (the retention's ALTERs depend on the
    tables' TTLs then, so they are decided when it runs)."""
    return [*preparation(cluster), *(statement for migration in planned(migrations, cluster) for statement in migration.statements)]


def printed_text(cluster: str | None = None) -> str:
    return "".join(f"{statement.strip()};\n\n" for statement in printed_statements(cluster))


def migrate(
    backend: Backend,
    migrations: tuple[Migration, ...] = MIGRATIONS,
    on_progress: Callable[[str], None] = lambda message: None,
    retention: Retention | None = None,
    cluster: str | None = None,
) -> list[int]:
    """Apply what is missing, then give every table the retention when one is given (left
    out, the tables' TTLs stay as they are); returns the versions applied now (none on a
    second run). Given a cluster, every statement is made in its cluster form."""
    for statement in preparation(cluster):
        backend.execute(statement)
    done = applied_versions(backend)
    applied = []
    for migration in planned(migrations, cluster):
        if migration.version in done:
            continue
        on_progress(f"applying migration {migration.version}: {migration.name}")
        for statement in migration.statements:
            backend.execute(statement)
        backend.insert(f"{DATABASE}.schema_migrations", [{"version": migration.version, "name": migration.name}])
        applied.append(migration.version)
    if retention is not None:
        apply_retention(backend, retention, on_progress, cluster)
    return applied
