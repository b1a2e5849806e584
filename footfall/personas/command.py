"""`footfall personas`: each site's customers grouped into personas, named, portrayed, shown
and stored (footfall.personas, footfall.customer_personas), read and stored through the
warehouse (the sink's port while the stack runs, else the engine opened here)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import typer

from footfall.personas.model import PersonaSettings
from footfall.personas.rows import assignment_rows, persona_rows
from footfall.personas.tables import personas_tables
from footfall.terminal import console, styled
from infra import config
from infra.clickhouse.backend import ClickHouseError
from infra.clickhouse.warehouse import Warehouse, open_warehouse
from schemas.names import NAME_PATTERN


def fit_site(warehouse: Warehouse, site: str, settings: PersonaSettings, now: datetime) -> list[dict]:
    """The site's personas fitted on its customers now and stored; their rows, none when the
    site has no customers."""
    # scikit-learn takes a second to load: only when there is something to group.
    from footfall.personas.fit import find_personas
    from footfall.personas.problems import SiteThemes
    from footfall.personas.reading import read_customers, read_previous

    customers = read_customers(warehouse.query, site)
    fitted = find_personas(customers, settings, read_previous(warehouse.query, site), SiteThemes(customers).problems)
    if not fitted.personas:
        return []
    rows = persona_rows(site, fitted, now)
    warehouse.store_personas(rows, assignment_rows(site, fitted, now))
    return rows


def picture_path(out: Path, site: str, sites: int) -> Path:
    """`out` for one site; with several, one file each, named after the site."""
    return out if sites == 1 else out.with_name(f"{out.stem}-{site}{out.suffix or '.png'}")


def personas_command(
    site: str | None = typer.Option(None, "--site", help="One site (default: every configured site)."),
    out: Path | None = typer.Option(None, "--out", help="Draw the personas side by side to this PNG."),
    min_personas: int = typer.Option(2, "--min-personas", help="The fewest personas tried."),
    max_personas: int = typer.Option(6, "--max-personas", help="The most personas tried; the count with the best silhouette is kept."),
) -> None:
    """Group customers into personas on behaviour, value, satisfaction, channel, device,
    country and demographic traits; name and portray each, and store them."""
    settings = config.load()
    try:
        if site is not None and not re.fullmatch(NAME_PATTERN, site):
            raise ValueError(f"--site {site!r} is not a site id (letters, digits, _ . - only)")
        persona_settings = PersonaSettings(min_personas=min_personas, max_personas=max_personas)
    except ValueError as exc:
        console.print(styled((exc, "red")))
        raise typer.Exit(2) from None
    sites = [site] if site else [configured.id for configured in settings.sites]
    fitted: dict[str, list[dict]] = {}
    try:
        with open_warehouse(settings) as warehouse:
            for site_id in sites:
                with console.status(styled("grouping the customers of ", site_id, " …")):
                    rows = fit_site(warehouse, site_id, persona_settings, datetime.now(UTC))
                if rows:
                    fitted[site_id] = rows
                else:
                    console.print(styled(f"site {site_id} has no customers yet: personas need customers' rows"))
    except ClickHouseError as exc:
        console.print(styled(("ClickHouse refused the personas' queries:", "red"), " ", exc))
        raise typer.Exit(1) from None
    if not fitted:
        raise typer.Exit(1)
    for site_id, rows in fitted.items():
        console.print(personas_tables(site_id, rows))
        console.print(f"stored {len(rows)} personas of {site_id} in footfall.personas and each customer's in footfall.customer_personas")
    if out is not None:
        from footfall.personas.picture import draw

        for site_id, rows in fitted.items():
            console.print(f"drew {draw(site_id, rows, picture_path(out, site_id, len(fitted)))}")
