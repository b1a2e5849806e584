"""`footfall migrate --print` prints exactly what a first migration runs, for one node or a cluster."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from footfall.cli import migrate as migrate_command
from infra.clickhouse.embedded import EmbeddedClickHouse
from infra.clickhouse.migrations import migrate, printed_statements

app = typer.Typer()
app.command()(migrate_command)


class Recording:
    """The real engine, keeping each statement it was given to run."""

    def __init__(self, engine: EmbeddedClickHouse):
        self.engine = engine
        self.executed: list[str] = []

    def execute(self, sql: str) -> None:
        self.executed.append(sql)
        self.engine.execute(sql)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("FOOTFALL_CONFIG", "FOOTFALL_CLICKHOUSE_CLUSTER", "FOOTFALL_CLICKHOUSE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FOOTFALL_STATE_DIR", str(tmp_path / "state"))
    return tmp_path


def printed(output: str) -> list[str]:
    return [statement for statement in output.split(";\n\n") if statement.strip()]


def test_the_single_node_print_is_what_a_first_migration_runs(tmp_path: Path) -> None:
    engine = EmbeddedClickHouse(tmp_path / "clickhouse")
    try:
        recording = Recording(engine)
        migrate(recording)  # type: ignore[arg-type]
    finally:
        engine.close()
    assert recording.executed == printed_statements()


def test_print_without_a_cluster_prints_the_single_node_statements(isolated: Path) -> None:
    result = CliRunner().invoke(app, ["--print"])
    assert result.exit_code == 0, result.output
    assert printed(result.output) == [statement.strip() for statement in printed_statements()]
    assert "ON CLUSTER" not in result.output and not (isolated / "state" / "clickhouse").exists()


def test_print_for_a_cluster_prints_its_statements(isolated: Path) -> None:
    result = CliRunner().invoke(app, ["--print", "--cluster", "analytics"])
    assert result.exit_code == 0, result.output
    statements = printed(result.output)
    assert statements == [statement.strip() for statement in printed_statements("analytics")]
    assert all(" ON CLUSTER 'analytics'" in statement for statement in statements)


def test_the_configured_cluster_is_the_default(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOOTFALL_CLICKHOUSE_CLUSTER", "analytics")
    result = CliRunner().invoke(app, ["--print"])
    assert printed(result.output) == [statement.strip() for statement in printed_statements("analytics")]


def test_a_hostile_cluster_name_is_refused(isolated: Path) -> None:
    result = CliRunner().invoke(app, ["--print", "--cluster", "x'; DROP DATABASE footfall; --"])
    assert result.exit_code == 2
    assert "CREATE" not in result.output
