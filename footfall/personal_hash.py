"""`footfall hash`: the stored form of a personal value, computed as the collector computes
it, so an operator can find a CRM's customers among hashed traits, or hand the site's key
to a tool that computes the same HMAC itself."""

from __future__ import annotations

import sys

import typer

from collector.personal_data import personal_hash
from footfall.terminal import console, styled
from infra import config
from infra.keys import site_key


def hash_values(
    values: list[str] = typer.Argument(None, help="Values to hash; none reads one value a line from standard input."),
    site: str = typer.Option(..., "--site", help="The site whose key hashes them."),
    show_key: bool = typer.Option(False, "--key", help="Print the site's hashing key in hex instead: a secret."),
) -> None:
    """Print each value's stored hash (tab, then the value), as the site's events hold it."""
    settings = config.load()
    if site not in {s.id for s in settings.sites}:
        console.print(styled((f"no site {site!r} is configured", "red")))
        raise typer.Exit(2)
    key = site_key(settings, site)
    if show_key:
        print(key.hex())
        return
    for value in values or (line.rstrip("\n") for line in sys.stdin):
        print(f"{personal_hash(key, value)}\t{value}")
