"""`footfall hash` gives an operator the very hash the collector stores."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from collector.personal_data import PersonalData
from footfall.personal_hash import hash_values
from infra.config import Settings

app = typer.Typer()
app.command()(hash_values)


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FOOTFALL_CONFIG", raising=False)
    monkeypatch.setenv("FOOTFALL_STATE_DIR", str(tmp_path / "state"))
    return Settings()


def test_the_printed_hash_is_the_one_an_event_holds(settings: Settings) -> None:
    result = CliRunner().invoke(app, ["--site", "demo", " Jane@Example.com", "5551234"])
    assert result.exit_code == 0, result.output
    key_file = settings.state_dir / "hash.key"
    key = hmac.new(key_file.read_text().strip().encode(), b"demo", hashlib.sha256).digest()
    stored = PersonalData.for_site({}, lambda: key).traits({"email": "jane@example.com", "phone": 5551234})
    assert result.output.splitlines() == [f"{stored['email']}\t Jane@Example.com", f"{stored['phone']}\t5551234"]
    # The key in hex, for a tool of the operator's own: HMAC-SHA256 of the trimmed, lower-cased value.
    shown = CliRunner().invoke(app, ["--site", "demo", "--key"]).output.strip()
    assert "hmac-sha256:" + hmac.new(bytes.fromhex(shown), b"jane@example.com", hashlib.sha256).hexdigest() == stored["email"]


def test_values_are_read_from_standard_input_and_an_unknown_site_is_refused(settings: Settings) -> None:
    piped = CliRunner().invoke(app, ["--site", "demo"], input="a@example.com\nb@example.com\n")
    assert [line.split("\t")[1] for line in piped.output.splitlines()] == ["a@example.com", "b@example.com"]
    refused = CliRunner().invoke(app, ["--site", "nope", "x"])
    assert refused.exit_code == 2 and "no site 'nope'" in refused.output
