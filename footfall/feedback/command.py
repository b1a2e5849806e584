"""`footfall feedback`: each site's survey comments grouped into themes, read through the
warehouse (the sink's port while the stack runs, else the engine opened here)."""

from __future__ import annotations

from datetime import UTC, datetime, time

import typer
from rich.console import RenderableType

from footfall.feedback.comments import read_comments
from footfall.feedback.tables import site_themes
from footfall.feedback.model import ThemeSettings
from footfall.reports.queries import Scope, counting_bots
from footfall.reports.since import GRAMMAR as SINCE_GRAMMAR
from footfall.reports.since import since_day
from footfall.terminal import console, styled
from infra import config
from infra.clickhouse.backend import ClickHouseError
from infra.clickhouse.warehouse import Query, open_warehouse
from schemas.surveys import SCALES


def feedback_sections(query: Query, scope: Scope, survey: str | None, settings: ThemeSettings, now: datetime) -> list[RenderableType]:
    """Each site's themes over the period (from the scope's first day to now), one section a
    site with comments; none when no site has any."""
    # scikit-learn takes a second to load: only when there are comments to group.
    from footfall.feedback.themes import find_themes

    comments = read_comments(query, scope, survey)
    start = datetime.combine(scope.since, time(), UTC)
    asked = f"{survey.upper()} " if survey else ""
    heading = f"{asked}comments since {scope.since.isoformat()}"
    return [site_themes(site, find_themes(found, (start, max(now, found[-1].at)), settings), heading)
            for site, found in comments.items()]


def feedback_command(
    site: str | None = typer.Option(None, "--site", help="One site (default: every site with comments)."),
    survey: str | None = typer.Option(None, "--survey", help=f"One survey: {', '.join(SCALES)} (default: all)."),
    since: str = typer.Option("30d", "--since", help=f"{SINCE_GRAMMAR}; counted in whole UTC days."),
    min_themes: int = typer.Option(2, "--min-themes", help="The fewest themes tried."),
    max_themes: int = typer.Option(8, "--max-themes", help="The most themes tried; the count with the best silhouette is kept."),
) -> None:
    """Group survey comments into themes: key words, size, share of detractors, passives and
    promoters, trend and examples."""
    try:
        settings = config.load()
        if survey is not None and survey not in SCALES:
            raise ValueError(f"--survey takes {', '.join(SCALES)}, got {survey!r}")
        scope = Scope(site, since_day(since), counting_bots(settings.sites))
        theme_settings = ThemeSettings(min_themes=min_themes, max_themes=max_themes)
    except ValueError as exc:
        console.print(styled((exc, "red")))
        raise typer.Exit(2) from None
    try:
        with open_warehouse(settings) as warehouse:
            with console.status(styled("grouping the comments …")):
                sections = feedback_sections(warehouse.query, scope, survey, theme_settings, datetime.now(UTC))
    except ClickHouseError as exc:
        console.print(styled(("ClickHouse refused the comments query:", "red"), " ", exc))
        raise typer.Exit(1) from None
    if not sections:
        asked = f"{survey.upper()} " if survey else ""
        console.print(styled(f"no {asked}survey comments{' of ' + site if site else ''} since {scope.since.isoformat()}: "
                             "comments arrive as properties.comment of a Survey Responded event"))
        raise typer.Exit(1)
    for section in sections:
        console.print(section)
