"""`footfall credentials`: what an analyst pastes into their own ClickHouse client to read
the embedded engine through the sink's port, as the read-only analyst."""

from __future__ import annotations

import sys

import orjson
import typer

from footfall.terminal import console, styled
from infra import config
from infra.keys import sink_token
from sinks.access import ANALYST_USER


def print_credentials(as_json: bool = typer.Option(False, "--json", help='Print {"url", "user", "password"} for scripts.')) -> None:
    """Print what to paste into a ClickHouse client (clickhouse-connect, DBeaver, Grafana …) to read footfall's tables."""
    settings = config.load()
    if settings.clickhouse_url:
        console.print(styled(("footfall uses a ClickHouse server:", "red"), " connect clients to it as the analyst user "
                             "that `footfall migrate --print-grants` creates"))
        raise typer.Exit(1)
    found = {"url": f"{settings.sink_url}/", "user": ANALYST_USER, "password": sink_token(settings)}
    if as_json:
        sys.stdout.write(orjson.dumps(found).decode() + "\n")
        return
    for name, value in found.items():
        console.print(styled((f"{name}:", "bold"), " ", value))
    console.print("The ClickHouse HTTP interface of the sink, for reads; the user reads and cannot write.")
