"""The `footfall` command: run the local stack and look at it."""

from __future__ import annotations

import logging
import signal
import sys
import time
from enum import Enum
from typing import Any

import httpx
import orjson
import typer
from rich.console import Console
from rich.table import Table

from footfall import settings as config
from footfall.processes import Started
from footfall.stack import Part, Stack, http_ok
from sinks.backend import ClickHouseError, is_read_only
from sinks.connect import open_backend
from sinks.migrations import migrate as run_migrations

app = typer.Typer(help="footfall: self-hosted behaviour analytics.", no_args_is_help=True, add_completion=False)
console = Console()
# The CLI reports health itself; the Kafka client's own connection errors would only repeat it.
logging.getLogger("aiokafka").setLevel(logging.CRITICAL)


def say(message: str) -> None:
    console.print(f"[dim]•[/dim] {message}")


def status_table(rows: list[tuple[Part, Started | None, bool]]) -> Table:
    table = Table(title="footfall stack")
    for column in ("part", "address", "pid", "health"):
        table.add_column(column)
    for part, process, healthy in rows:
        health = "[green]healthy[/green]" if healthy else "[red]not answering[/red]"
        pid = str(process.pid) if process else "[dim]not started here[/dim]"
        table.add_row(part.name, part.address, pid, health)
    return table


def wait_for_interrupt(stack: Stack) -> None:
    """Keep the stack up until Ctrl-C (or SIGTERM); report a part that dies meanwhile."""
    stopping = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    expected = set(stack.running())
    while not stopping:
        time.sleep(0.5)
        lost = expected - set(stack.running())
        if lost:
            console.print(f"[red]stopped unexpectedly:[/red] {', '.join(sorted(lost))}; see {stack.settings.state_dir / 'logs'}")
            break


@app.command()
def up(detach: bool = typer.Option(False, "--detach", "-d", help="Return once every part answers.")) -> None:
    """Start the local stack: Kafka broker, collector, processors and sink."""
    stack = Stack(config.load())
    try:
        stack.up(say)
    except (RuntimeError, TimeoutError, FileNotFoundError) as exc:
        console.print(f"[red]could not start the stack:[/red] {exc}")
        stack.down(say)
        raise typer.Exit(1) from None
    console.print(status_table(stack.status()))
    if detach:
        console.print("Stop it with [bold]footfall down[/bold].")
        return
    console.print("Running; press [bold]Ctrl-C[/bold] to stop.")
    try:
        wait_for_interrupt(stack)
    finally:
        stack.down(say)


@app.command()
def down() -> None:
    """Stop everything `footfall up` started, and nothing else."""
    stack = Stack(config.load())
    stack.down(say)
    console.print("stack stopped")


@app.command()
def status() -> None:
    """Show each part of the local stack, its address and its health."""
    rows = Stack(config.load()).status()
    console.print(status_table(rows))
    if not all(healthy for _, _, healthy in rows):
        raise typer.Exit(1)


class OutputFormat(str, Enum):
    table = "table"
    tsv = "tsv"
    jsonl = "jsonl"


@app.command()
def migrate() -> None:
    """Create or update footfall's ClickHouse tables (re-runnable)."""
    backend = open_backend(config.load())
    try:
        applied = run_migrations(backend, on_progress=say)
    finally:
        backend.close()
    console.print(f"applied {len(applied)} migration(s)" if applied else "schema is up to date")


@app.command()
def query(
    sql: str = typer.Argument(..., help="A read-only statement: SELECT, WITH, SHOW, DESCRIBE, EXPLAIN."),
    output: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f", help="table, tsv, or jsonl (one JSON object per row)."),
) -> None:
    """Run read-only SQL against ClickHouse."""
    if not is_read_only(sql):
        console.print("[red]footfall query runs read-only statements only[/red] (SELECT, WITH, SHOW, DESCRIBE, EXPLAIN)")
        raise typer.Exit(2)
    try:
        rows = run_query(config.load(), sql)
    except ClickHouseError as exc:
        console.print(f"[red]ClickHouse refused the query:[/red] {exc}")
        raise typer.Exit(1) from None
    print_rows(rows, output)


def run_query(settings: config.Settings, sql: str) -> list[dict[str, Any]]:
    """Through the running sink, which owns the embedded engine; else opening it here."""
    if http_ok(f"{settings.sink_url}/healthz"):
        answer = httpx.post(f"{settings.sink_url}/query", content=sql.encode(), timeout=120)
        if answer.status_code != 200:
            raise ClickHouseError(answer.json()["error"])
        return answer.json()
    backend = open_backend(settings)
    try:
        return backend.query(sql)
    finally:
        backend.close()


def print_rows(rows: list[dict[str, Any]], output: OutputFormat) -> None:
    if output is OutputFormat.jsonl:
        for row in rows:
            sys.stdout.write(orjson.dumps(row).decode() + "\n")
        return
    columns = list(rows[0]) if rows else []
    if output is OutputFormat.tsv:
        sys.stdout.write("\t".join(columns) + "\n")
        for row in rows:
            sys.stdout.write("\t".join("" if row[c] is None else str(row[c]) for c in columns) + "\n")
        return
    table = Table(*columns, caption=f"{len(rows)} row(s)")
    for row in rows:
        table.add_row(*("" if row[c] is None else str(row[c]) for c in columns))
    console.print(table)


if __name__ == "__main__":
    app()
