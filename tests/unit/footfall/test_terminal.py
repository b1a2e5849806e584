"""Data reaches the terminal as the characters it holds: never markup, emoji or control codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from footfall.cli import OutputFormat, print_rows
from footfall.reports.heatmap import PageHeatmap
from footfall.reports.heatmap_picture import draw
from footfall.reports.sections import table
from footfall.terminal import console, literal, shown, styled

HOSTILE = ["[/x]", "[bold red]shout", "root:x:0:0", ":smile:", "\x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\", "a\rb\x07"]


def rendered(*renderables: object) -> str:
    with console.capture() as captured:
        console.print(*renderables)
    return captured.get()


@pytest.mark.parametrize("value", HOSTILE)
def test_a_value_in_a_styled_message_prints_as_written(value: str) -> None:
    out = rendered(styled(("refused:", "red"), " ", value))
    assert out == f"refused: {shown(value)}\n"
    assert "\x1b" not in out and "\x07" not in out


def test_control_characters_are_spelled_out_and_text_kept() -> None:
    assert shown("\x1b[2Jgone") == "\\x1b[2Jgone"
    assert shown("tab\tand\nnewline") == "tab\tand\nnewline"
    assert shown("\x9b31m") == "\\x9b31m"
    assert literal("[/x]").plain == "[/x]"


def test_query_rows_print_literally_in_every_format(capsys: pytest.CaptureFixture[str]) -> None:
    rows = [{"path": value, "n": index} for index, value in enumerate(HOSTILE)] + [{"path": "tab\there\\", "n": 9}]
    print_rows(rows, OutputFormat.tsv)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "path\tn" and lines[1] == "[/x]\t0" and lines[3] == "root:x:0:0\t2"
    assert lines[-1] == "tab\\there\\\\\t9"  # TabSeparated escapes: the row stays two fields
    assert all("\x1b" not in line for line in lines) and len(lines) == len(rows) + 1

    with console.capture() as captured:
        print_rows([{"[/h]": value} for value in HOSTILE], OutputFormat.table)
    out = captured.get()
    assert "[/h]" in out and "[/x]" in out and "root:x:0:0" in out and f"{len(HOSTILE)} row(s)" in out

    wide = Console(width=400, emoji=False)
    with wide.capture() as captured:
        wide.print(table(("path", "n"), [[value, "1"] for value in HOSTILE]))
    out = captured.get()
    for value in ("[/x]", "[bold red]shout", "root:x:0:0", ":smile:"):
        assert value in out
    assert "\x1b" not in out and "😄" not in out


def test_a_heatmap_of_a_path_full_of_markup_and_dollars_is_drawn(tmp_path: Path) -> None:
    heatmap = PageHeatmap(site="s", path="/$x^2$/[/x]/:x:", since=None, grid=[[1, 2], [3, 4]], reach={0: 2, 1: 1},
                          views=2, visitors=1, engaged_ms=0)
    out = draw(heatmap, tmp_path / "h.png")
    assert out.read_bytes()[:4] == b"\x89PNG"
