"""The users footfall asks of a ClickHouse server, checked by the modern engine's parser
(no server with SQL access management installs here)."""

import re
import xml.etree.ElementTree as ElementTree

import chdb
import pytest

from infra.clickhouse.confinement import sql_string
from infra.clickhouse.grants import ANALYST, SINK, grant_statements, grants_text, users_xml

PASSWORD = "it's a \\ password"


@pytest.mark.parametrize("statement", grant_statements(PASSWORD, "sink-password"))
def test_every_statement_parses(statement: str) -> None:
    connection = chdb.connect(":memory:")
    try:
        formatted = connection.query(f"SELECT formatQuerySingleLine({sql_string(statement)})", "TabSeparatedRaw").bytes().decode()
    finally:
        connection.close()
    assert formatted.split()[0] in ("CREATE", "GRANT", "SET")


def test_the_analyst_gets_select_only_and_a_read_only_profile() -> None:
    statements = grant_statements(PASSWORD, "sink-password")
    grants = [s for s in statements if s.startswith("GRANT") and "footfall_reader" in s and " ON " in s]
    assert grants == ["GRANT SELECT, SHOW, dictGet ON footfall.* TO footfall_reader"]
    assert not re.search(r"\b(FILE|URL|S3|REMOTE|SOURCES)\b", " ".join(statements))
    assert "readonly = 1 CONST" in statements[0]


def test_the_xml_form_has_both_users_hashed_and_the_analyst_read_only() -> None:
    root = ElementTree.fromstring(users_xml(PASSWORD, "sink-password"))
    analyst, sink = root.find(f"users/{ANALYST}"), root.find(f"users/{SINK}")
    assert analyst is not None and sink is not None
    profile = root.find(f"profiles/{analyst.findtext('profile')}")
    assert profile is not None and profile.findtext("readonly") == "1"
    assert PASSWORD not in users_xml(PASSWORD, "sink-password")
    assert analyst.findtext("allow_databases/database") == "footfall"


def test_the_printed_text_names_the_passwords_to_keep() -> None:
    text = grants_text("analyst-secret", "sink-secret")
    assert "clickhouse://footfall_sink:sink-secret@" in text and "analyst-secret" in text
