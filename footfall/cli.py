"""The `footfall` command: run the local stack and look at it."""

from __future__ import annotations

import logging
import signal
import time

import typer
from rich.console import Console
from rich.table import Table

from footfall import settings as config
from footfall.processes import Started
from footfall.stack import Part, Stack

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
    """Start the local stack: Kafka broker and collector."""
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


if __name__ == "__main__":
    app()
