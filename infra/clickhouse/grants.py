"""The two users footfall asks of a ClickHouse server: an analyst who reads footfall's
tables and nothing else, and the sink, which writes them.

The analyst is confined by the server: a read-only settings profile, SELECT (and dictGet)
on the footfall database only, and none of the source privileges (FILE, URL, S3, REMOTE, …) that
table functions need. Statements for servers with SQL access management, and the
users.xml form older servers take; `footfall migrate --print-grants` prints both.
"""

from __future__ import annotations

import hashlib
from xml.sax.saxutils import escape

from infra.clickhouse.confinement import READ_SETTINGS
from schemas.tables import DATABASE

ANALYST = "footfall_analyst"
SINK = "footfall_sink"
READER_ROLE = "footfall_reader"
WRITER_ROLE = "footfall_writer"
READ_PROFILE = "footfall_read"
# What migrations, the sink's writes, erasures (ALTER … DELETE) and retention (MODIFY TTL) need.
WRITER_PRIVILEGES = ("SELECT", "INSERT", "ALTER", "CREATE TABLE", "CREATE VIEW", "CREATE DICTIONARY", "DROP TABLE",
                     "DROP VIEW", "TRUNCATE", "OPTIMIZE", "SHOW")


def quoted(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def grant_statements(analyst_password: str, sink_password: str) -> list[str]:
    """CREATE ROLE / USER and GRANT statements for a server with SQL access management."""
    limits = ", ".join(f"{name} = {value if isinstance(value, int) else quoted(value)} CONST" for name, value in READ_SETTINGS.items())
    return [
        f"CREATE SETTINGS PROFILE IF NOT EXISTS {READ_PROFILE} SETTINGS {limits}",
        f"CREATE ROLE IF NOT EXISTS {READER_ROLE}",
        # dictGet: customers.persona_id is computed from the lookup of personas.
        f"GRANT SELECT, SHOW, dictGet ON {DATABASE}.* TO {READER_ROLE}",
        f"CREATE ROLE IF NOT EXISTS {WRITER_ROLE}",
        f"GRANT CREATE DATABASE ON {DATABASE}.* TO {WRITER_ROLE}",
        f"GRANT {', '.join(WRITER_PRIVILEGES)} ON {DATABASE}.* TO {WRITER_ROLE}",
        # A stored fit or an erasure loads the personas lookup again; the server grants it globally only.
        f"GRANT SYSTEM RELOAD DICTIONARY ON *.* TO {WRITER_ROLE}",
        f"CREATE USER IF NOT EXISTS {ANALYST} IDENTIFIED WITH sha256_password BY {quoted(analyst_password)} "
        f"DEFAULT DATABASE {DATABASE} SETTINGS PROFILE {READ_PROFILE}",
        f"GRANT {READER_ROLE} TO {ANALYST}",
        f"SET DEFAULT ROLE {READER_ROLE} TO {ANALYST}",
        f"CREATE USER IF NOT EXISTS {SINK} IDENTIFIED WITH sha256_password BY {quoted(sink_password)} DEFAULT DATABASE {DATABASE}",
        f"GRANT {WRITER_ROLE} TO {SINK}",
        f"SET DEFAULT ROLE {WRITER_ROLE} TO {SINK}",
    ]


def users_xml(analyst_password: str, sink_password: str) -> str:
    """The same two users for a users.d/ file of a server configured by XML (old servers,
    or one whose access management is off): the analyst's profile read-only, both users
    limited to the footfall database."""
    limits = "".join(f"<{name}>{escape(str(value))}</{name}>" for name, value in READ_SETTINGS.items())

    def user(name: str, password: str, profile: str) -> str:
        digest = hashlib.sha256(password.encode()).hexdigest()
        return (f"<{name}><password_sha256_hex>{digest}</password_sha256_hex>"
                "<networks><ip>::1</ip><ip>127.0.0.1</ip></networks>"
                f"<profile>{profile}</profile><quota>default</quota>"
                f"<allow_databases><database>{DATABASE}</database></allow_databases></{name}>")

    return ("<?xml version=\"1.0\"?>\n<yandex>\n"
            f"  <profiles><{READ_PROFILE}>{limits}</{READ_PROFILE}></profiles>\n"
            f"  <users>\n    {user(ANALYST, analyst_password, READ_PROFILE)}\n    {user(SINK, sink_password, 'default')}\n  </users>\n"
            "</yandex>\n")


def grants_text(analyst_password: str, sink_password: str) -> str:
    """Both forms, with the passwords to keep: the analyst's for their clients, the sink's
    for FOOTFALL_CLICKHOUSE_URL."""
    statements = ";\n".join(grant_statements(analyst_password, sink_password))
    return (f"-- On a server with SQL access management, as a user allowed to create users:\n{statements};\n\n"
            f"-- Or, on a server configured by XML (users.d/footfall.xml):\n{users_xml(analyst_password, sink_password)}\n"
            f"-- Then FOOTFALL_CLICKHOUSE_URL=clickhouse://{SINK}:{sink_password}@HOST:9000/{DATABASE}\n"
            f"-- and analysts connect as {ANALYST} with password {analyst_password}\n")
