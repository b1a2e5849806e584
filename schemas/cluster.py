"""The same migrations for a ClickHouse cluster: each single-node statement rewritten into
the statements that make its cluster form, so one list of migrations serves both.

A MergeTree-family table becomes a Replicated table of the same engine on every node
(`<name>_local`, ON CLUSTER, the usual {shard}/{replica} macros) and a Distributed table
under the table's own name in front of it, so everything that reads or writes
`footfall.<name>` keeps doing so. Rows are sharded by the key a table's rows collapse on
(FINAL merges within a shard only), which for a visitor's rows is the visitor; materialized
views run on each shard, from the local table to the local rollup. The rewriting knows the
shapes of our own DDL and refuses any other, so a statement added later cannot be silently
left single-node.
"""

from __future__ import annotations

import re

from schemas.migrations import Migration
from schemas.tables import DATABASE

LOCAL_SUFFIX = "_local"
REPLICA = "'{replica}'"
# Cluster names as ClickHouse's remote_servers configuration spells them; nothing to escape.
CLUSTER_NAME = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$"

# The visitor: the anonymous id the tracker gives every event, or the user id for an event
# that has none; both tables keep it unchanged across a row's versions.
VISITOR = "cityHash64(site_id, if(anonymous_id != '', anonymous_id, user_id))"
# Every table's sharding key is (part of) the key its versions collapse on, so FINAL, which
# merges within a shard, still sees all versions of a row; visitors' tables by the visitor.
SHARDING_KEYS: dict[str, str] = {
    "events": VISITOR,
    "sessions": VISITOR,
    "segment_membership": "cityHash64(site_id, anonymous_id)",
    "segment_changes": "cityHash64(site_id, anonymous_id)",
    "funnel_progress": "cityHash64(site_id, anonymous_id)",
    # A customer's versions collapse on customer_id, which is the user id once they identify.
    "customers": "cityHash64(site_id, customer_id)",
    "invalid_events": "cityHash64(site_id, raw)",
    "rejected_rows": "cityHash64(site_id, key)",
    "campaign_costs": "cityHash64(site_id, day, utm_source, utm_medium, utm_campaign)",
    "clv_models": "cityHash64(site_id)",
    "personas": "cityHash64(site_id)",
    "customer_personas": "cityHash64(site_id, customer_id)",
    "erasure_audit": "cityHash64(site_id)",
    "heatmap_clicks": "cityHash64(site_id, path, hour)",
    "scroll_reach": "cityHash64(site_id, path, hour)",
    "page_hourly": "cityHash64(site_id, path, hour)",
    "schema_migrations": "version",
}

NAME = rf"{DATABASE}\.(\w+)"
CREATE_TABLE = re.compile(rf"^CREATE TABLE IF NOT EXISTS {NAME}\n(\(.*?\n\))\nENGINE = (\w+)(?:\(([^)]*)\))?(.*)$", re.DOTALL)
CREATE_VIEW = re.compile(rf"^CREATE VIEW IF NOT EXISTS {NAME} AS\n(.*)$", re.DOTALL)
CREATE_MATERIALIZED_VIEW = re.compile(rf"^CREATE MATERIALIZED VIEW IF NOT EXISTS {NAME} TO {NAME} AS\n(.*)$", re.DOTALL)
DROP_VIEW = re.compile(rf"^DROP VIEW IF EXISTS {NAME}$")
CREATE_DICTIONARY = re.compile(rf"^CREATE DICTIONARY IF NOT EXISTS {NAME}\n(.*)$", re.DOTALL)
ALTER_TABLE = re.compile(rf"^ALTER TABLE {NAME} (.*)$", re.DOTALL)
CREATE_DATABASE = re.compile(rf"^CREATE DATABASE IF NOT EXISTS {DATABASE}$")


def nested(levels: int) -> str:
    """A parenthesised text with parentheses inside it up to `levels` deep."""
    inner = "[^()]" if levels == 0 else f"[^()]|{nested(levels - 1)}"
    return rf"\((?:{inner})*\)"


# A column added or retyped, with a type of up to two levels of parentheses
# (LowCardinality(String), DateTime64(3, 'UTC')) and, for a computed column, its ALIAS
# call of up to three (dictGetOrNull('…', 'persona_id', (toString(site_id), customer_id))).
COLUMN_CHANGE = re.compile(
    rf"(?:ADD COLUMN IF NOT EXISTS|MODIFY COLUMN IF EXISTS) \w+ \w+(?:{nested(1)})?(?: ALIAS \w+{nested(2)})?"
)
SOURCE = re.compile(rf"\bFROM {NAME}\b")


class NoClusterForm(ValueError):
    """A statement whose shape the cluster rewriting does not know."""


def checked_cluster(cluster: str) -> str:
    if not re.fullmatch(CLUSTER_NAME, cluster):
        raise ValueError(f"not a cluster name: {cluster!r} (letters, digits, _ . - only)")
    return cluster


def local(table: str) -> str:
    return f"{DATABASE}.{table}{LOCAL_SUFFIX}"


def replicated_engine(table: str, engine: str, arguments: str | None) -> str:
    path = f"'/clickhouse/tables/{{shard}}/{DATABASE}/{table}{LOCAL_SUFFIX}'"
    return f"Replicated{engine}({', '.join((path, REPLICA, *([arguments] if arguments else ())))})"


def sharding_key(table: str) -> str:
    try:
        return SHARDING_KEYS[table]
    except KeyError:
        raise NoClusterForm(f"{DATABASE}.{table} has no sharding key for a cluster") from None


def table_forms(table: str, columns: str, engine: str, arguments: str | None, rest: str, cluster: str) -> tuple[str, ...]:
    on = f" ON CLUSTER {cluster}"
    if engine == "Memory":
        # Per node: what one request puts there is read by that request's statements on that node.
        return (f"CREATE TABLE IF NOT EXISTS {DATABASE}.{table}{on}\n{columns}\nENGINE = Memory{rest}",)
    if not engine.endswith("MergeTree"):
        raise NoClusterForm(f"{DATABASE}.{table}: no cluster form for ENGINE = {engine}")
    key = sharding_key(table)
    replicated = f"CREATE TABLE IF NOT EXISTS {local(table)}{on}\n{columns}\nENGINE = {replicated_engine(table, engine, arguments)}{rest}"
    distributed = (
        f"CREATE TABLE IF NOT EXISTS {DATABASE}.{table}{on} AS {local(table)}\n"
        f"ENGINE = Distributed({cluster}, {DATABASE}, {table}{LOCAL_SUFFIX}, {key})"
    )
    return replicated, distributed


def alter_forms(table: str, commands: str, on: str) -> tuple[str, ...]:
    """Every change to the local tables; new and retyped columns to the Distributed table as
    well, whose column list is its own (a computed column computed alike there, so an
    insert through it never names the column)."""
    commands = commands.replace("non_replicated_deduplication_window", "replicated_deduplication_window")
    local_alter = f"ALTER TABLE {local(table)}{on} {commands}"
    columns = COLUMN_CHANGE.findall(commands)
    return (local_alter, f"ALTER TABLE {DATABASE}.{table}{on} {', '.join(columns)}") if columns else (local_alter,)


def for_cluster(statement: str, cluster: str) -> tuple[str, ...]:
    """The statements that make a single-node statement's effect on the cluster."""
    quoted = f"'{checked_cluster(cluster)}'"
    on = f" ON CLUSTER {quoted}"
    text = statement.strip()
    if CREATE_DATABASE.match(text):
        return (f"{text}{on}",)
    if found := CREATE_TABLE.match(text):
        return table_forms(*found.groups(), cluster=quoted)
    if found := CREATE_MATERIALIZED_VIEW.match(text):
        view, target, select = found.groups()
        select = SOURCE.sub(lambda source: f"FROM {local(source.group(1))}", select)
        return (f"CREATE MATERIALIZED VIEW IF NOT EXISTS {DATABASE}.{view}{on} TO {local(target)} AS\n{select}",)
    if found := CREATE_VIEW.match(text):
        # Plain views read the Distributed tables, so a query on any node sees every shard.
        view, select = found.groups()
        return (f"CREATE VIEW IF NOT EXISTS {DATABASE}.{view}{on} AS\n{select}",)
    if found := CREATE_DICTIONARY.match(text):
        # Each node's lookup loads every shard through the Distributed table, so a column
        # computed from it is right wherever the engine computes it.
        dictionary, body = found.groups()
        return (f"CREATE DICTIONARY IF NOT EXISTS {DATABASE}.{dictionary}{on}\n{body}",)
    if found := DROP_VIEW.match(text):
        return (f"{text}{on}",)
    if found := ALTER_TABLE.match(text):
        return alter_forms(*found.groups(), on=on)
    raise NoClusterForm(f"no cluster form for: {text.splitlines()[0]}")


def cluster_migrations(migrations: tuple[Migration, ...], cluster: str) -> tuple[Migration, ...]:
    """The migrations with every statement in its cluster form; versions and names unchanged."""
    return tuple(
        Migration(m.version, m.name, tuple(form for statement in m.statements for form in for_cluster(statement, cluster)))
        for m in migrations
    )
