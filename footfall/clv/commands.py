"""`footfall clv fit`: each site's BG/NBD and Gamma-Gamma models fitted on its purchases up to
a day, shown, and published to footfall.clv_models, from which the sink stores the fit and
every worker applies it to its customers' rows (the refit timer does the same on its own)."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, date, datetime

import typer
from aiokafka.errors import KafkaError
from rich.table import Table

from footfall.terminal import console, styled
from infra import config
from infra.clickhouse.backend import ClickHouseError
from infra.clickhouse.warehouse import open_warehouse
from infra.kafka.publisher import KafkaUnavailable, publish_once
from processors.analytics.clv.calibration import fit_site
from processors.analytics.clv.fitting import FitError
from processors.runtime.clv_reader import fit_record
from schemas.clv import ClvFit
from schemas.names import NAME_PATTERN
from schemas.topics import CLV_MODELS

CONNECT_ATTEMPTS = 3
WEEK_DAYS = 7

clv_app = typer.Typer(help="Customer lifetime value: BG/NBD and Gamma-Gamma models per site.", no_args_is_help=True)


def calibration_end(until: str | None) -> date:
    if until is None:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(until)
    except ValueError:
        console.print(styled((f"--until {until!r} is not a day (YYYY-MM-DD)", "red")))
        raise typer.Exit(2) from None


def fits_table(fits: list[ClvFit]) -> Table:
    table = Table(title="lifetime value models", title_justify="left")
    for column in ("site", "calibration end", "customers", "r", "α (days)", "α (weeks)", "a", "b", "p", "q", "v", "log-likelihood"):
        table.add_column(column, justify="left" if column in ("site", "calibration end") else "right")
    for fit in fits:
        table.add_row(
            fit.site_id, fit.calibration_end.isoformat(), f"{fit.customers:,}",
            *(f"{value:.4f}" for value in (fit.r, fit.alpha, fit.alpha / WEEK_DAYS, fit.a, fit.b, fit.p, fit.q, fit.v)),
            f"{fit.log_likelihood:,.1f}",
        )
    return table


def publish(settings: config.Settings, fits: list[ClvFit]) -> None:
    records = [fit_record(fit) for fit in fits]
    asyncio.run(publish_once(settings.kafka, settings.kafka_ack_timeout_s, records, "footfall-clv", CONNECT_ATTEMPTS))


@clv_app.command("fit")
def fit_command(
    site: str | None = typer.Option(None, "--site", help="The site to fit (default: every configured site)."),
    until: str | None = typer.Option(None, "--until", help="The calibration's last day, YYYY-MM-DD, included (default: today, UTC)."),
) -> None:
    """Fit BG/NBD (repeat purchases, P(alive)) and Gamma-Gamma (spend) on each site's purchases
    up to --until, and publish the fits for the customers' rows and footfall.clv_models."""
    settings = config.load()
    end = calibration_end(until)
    if site is not None and not re.fullmatch(NAME_PATTERN, site):
        console.print(styled((f"--site {site!r} is not a site id (letters, digits, _ . - only)", "red")))
        raise typer.Exit(2)
    sites = [site] if site else [s.id for s in settings.sites]
    fits, failed = [], []
    try:
        with open_warehouse(settings) as warehouse:
            for site_id in sites:
                with console.status(styled("fitting site ", site_id, f" on its purchases up to {end.isoformat()} …")):
                    try:
                        fits.append(fit_site(warehouse.query, site_id, end, time.time_ns() // 1_000_000))
                    except FitError as exc:
                        console.print(styled((f"site {site_id} was not fitted:", "red"), " ", exc))
                        failed.append(site_id)
    except ClickHouseError as exc:
        console.print(styled(("reading the purchases failed:", "red"), " ", exc))
        raise typer.Exit(1) from None
    if fits:
        console.print(fits_table(fits))
        try:
            publish(settings, fits)
        except (KafkaError, KafkaUnavailable, OSError) as exc:
            console.print(styled((f"the fits were not published: Kafka at {settings.kafka_bootstrap} did not acknowledge them", "red"),
                                 f" ({exc or type(exc).__name__}); start the stack (footfall up) and fit again"))
            raise typer.Exit(1) from None
        console.print(f"published {len(fits)} fit(s) to {CLV_MODELS.name}: the sink stores them in footfall.clv_models "
                      "and the processors rewrite the customers' P(alive), expected purchases and predicted CLV")
    if failed:
        raise typer.Exit(1)
