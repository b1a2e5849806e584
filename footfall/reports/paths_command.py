"""`footfall paths`: the options checked, the queries run through the warehouse (the sink's
port while the stack runs, else the engine opened here), the tables printed and, if asked,
the Sankey picture drawn. A funnel's name asks instead where its visitors went when they
did not take its next step."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from footfall.reports import path_tables, sections
from footfall.reports.paths import MAX_STEPS, MIN_STEPS, Direction, PathAsk, ask, page_views_where, read_instead, read_paths
from footfall.reports.queries import counting_bots
from footfall.reports.sections import table, titled
from footfall.reports.since import GRAMMAR as SINCE_GRAMMAR
from footfall.reports.since import parse_since
from footfall.terminal import console, styled
from infra import config
from infra.clickhouse.backend import ClickHouseError
from infra.clickhouse.warehouse import Query, open_warehouse
from infra.config import Settings
from processors.analytics.site_config import FunnelConfig, for_sites


def refuse(message: object, code: int = 2) -> typer.Exit:
    console.print(styled((message, "red")))
    return typer.Exit(code)


def window(since: datetime | None) -> str:
    return f"since {since:%Y-%m-%d %H:%M} UTC" if since else "all time"


def configured_funnel(settings: Settings, site: str, name: str) -> FunnelConfig:
    """The site's funnel of that name, as the processors read it from the site config."""
    funnels = for_sites(settings.sites).for_site(site).funnels
    for funnel in funnels:
        if funnel.name == name:
            return funnel
    known = ", ".join(funnel.name for funnel in funnels) or "none"
    raise ValueError(f"site {site} has no funnel {name!r} (its funnels: {known})")


def checked_step(funnel: FunnelConfig, step: int | None) -> int | None:
    last = len(funnel.steps)
    if last < 2:
        raise ValueError(f"funnel {funnel.name} has one step: there is no next step to miss")
    if step is not None and not 1 <= step < last:
        raise ValueError(f"--step takes 1 to {last - 1} for funnel {funnel.name} ({last} steps), got {step}")
    return step


def show_paths(query: Query, site: str, path: PathAsk, since: datetime | None, count_bots: bool, out: Path | None) -> None:
    with console.status(styled("reading the paths of ", site, " …")):
        paths = read_paths(query, path, page_views_where(site, since, count_bots))
    if not paths.sessions:
        raise refuse(f"no session of {site} viewed {path.page} ({window(since)})", 1)
    heading = f"{'before' if path.direction is Direction.to else 'after'} {path_tables.clip(path.page or '')}, {window(since)}"
    console.print(sections.paths(paths, f"Paths of {site} {heading}"))
    if out is not None:
        # matplotlib only when drawing: every other command starts without it.
        from footfall.reports.paths_picture import draw

        draw(paths, site, window(since), out)
        console.print(styled("wrote ", out))


def show_instead(query: Query, site: str, funnel: FunnelConfig, step: int | None, since: datetime | None, count_bots: bool) -> None:
    with console.status(styled("reading where the visitors of ", funnel.name, " went …")):
        rows = read_instead(query, site, funnel.name, len(funnel.steps), step, since, count_bots)
    title = f"Where visitors of funnel {funnel.name} ({len(funnel.steps)} steps) went instead of the next step, {window(since)}"
    if not rows:
        raise refuse(f"no visitor of {site} stopped before the last step of {funnel.name} ({window(since)})", 1)
    caption = "visitors whose progress stopped at the step: the next other page they viewed in the session that reached it"
    console.print(titled(title, table(path_tables.INSTEAD_COLUMNS, path_tables.instead_rows(rows), caption)))


def paths_command(
    site: str = typer.Option(..., "--site", help="The site id."),
    start: str | None = typer.Option(None, "--from", help="The page paths start at, e.g. /pricing."),
    goal: str | None = typer.Option(None, "--to", help="The page paths lead to, e.g. /checkout."),
    funnel: str | None = typer.Option(None, "--funnel", help="A funnel of the site: where its visitors went instead of the next step."),
    step: int | None = typer.Option(None, "--step", help="With --funnel: the step they stopped at (default: every step but the last)."),
    steps: int = typer.Option(3, "--steps", help=f"How many pages after --from or before --to ({MIN_STEPS} to {MAX_STEPS})."),
    since: str | None = typer.Option(None, "--since", help=f"{SINCE_GRAMMAR} (default: all)."),
    out: Path | None = typer.Option(None, "--out", dir_okay=False, help="Also draw the paths as a Sankey picture to this PNG."),
) -> None:
    """Show the most common page sequences after a page or before one, per session, with
    their drop-offs; or, with --funnel, where visitors went instead of the next step."""
    try:
        settings = config.load()
        start_at = parse_since(since) if since else None
        if funnel is not None:
            if start is not None or goal is not None or out is not None:
                raise ValueError("--funnel asks where a funnel's visitors went: leave --from, --to and --out out")
            chosen, path = configured_funnel(settings, site, funnel), None
            step = checked_step(chosen, step)
        else:
            if step is not None:
                raise ValueError("--step is a funnel's step: give --funnel NAME with it")
            chosen, path = None, ask(start, goal, steps)
    except ValueError as exc:
        raise refuse(exc) from None
    count_bots = site in counting_bots(settings.sites)
    try:
        with open_warehouse(settings) as warehouse:
            if chosen is not None:
                show_instead(warehouse.query, site, chosen, step, start_at, count_bots)
            elif path is not None:
                show_paths(warehouse.query, site, path, start_at, count_bots, out)
    except ClickHouseError as exc:
        raise refuse(f"ClickHouse refused a paths query: {exc}", 1) from None
