"""The `footfall` command: run the local stack and look at it."""

from __future__ import annotations

import logging
import secrets
import signal
import sys
import time
from datetime import UTC, datetime
from enum import Enum
from functools import partial
from pathlib import Path
from typing import Any

import orjson
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from footfall.reports import sections as report_sections
from infra import config as config
from footfall.clv.commands import clv_app
from footfall.costs.parse import CostFileError, parse_costs
from footfall.costs.store import store_costs
from footfall.demo import DemoResult, run_demo
from footfall.demo.finish import fit_lifetime_value, import_demo_costs
from footfall.feedback.command import feedback_command
from footfall.personas.command import fit_site, personas_command
from footfall.personas.model import PersonaSettings
from footfall.reports.heatmap import read_heatmap, top_paths
from footfall.reports.paths_command import paths_command
from footfall.reports.since import GRAMMAR as SINCE_GRAMMAR
from footfall.reports.since import parse_since, since_day
from footfall.local.processes import Started, wait_until
from footfall.people import commands as people
from footfall.reports.queries import Scope, counting_bots
from footfall.local.stack import BrokerRow, Part, Stack
from footfall.personal_hash import hash_values
from footfall.credentials import print_credentials
from footfall.reports.summary import event_count, summary_lines
from footfall.terminal import console, literal, shown, styled
from infra.clickhouse.backend import ClickHouseError
from infra.clickhouse.confinement import READONLY_CODE
from infra.clickhouse.grants import grants_text
from infra.clickhouse.connect import open_backend
from infra.clickhouse.migrations import migrate as run_migrations
from infra.clickhouse.migrations import printed_text
from schemas.cluster import checked_cluster
from infra.clickhouse.warehouse import open_warehouse

LANDING_TIMEOUT_S = 300.0
# A local cluster for trying replication out; more nodes than this only cost memory.
MAX_LOCAL_BROKERS = 9

app = typer.Typer(help="footfall: self-hosted behaviour analytics.", no_args_is_help=True, add_completion=False)
# The CLI reports health itself; the Kafka client's own connection errors would only repeat it.
logging.getLogger("aiokafka").setLevel(logging.CRITICAL)


def say(message: str) -> None:
    console.print(styled(("•", "dim"), " ", message))


def status_table(rows: list[tuple[Part, Started | None, bool]]) -> Table:
    table = Table(title="footfall stack")
    for column in ("part", "address", "pid", "health"):
        table.add_column(column)
    for part, process, healthy in rows:
        health = "[green]healthy[/green]" if healthy else "[red]not answering[/red]"
        pid = str(process.pid) if process else "[dim]not started here[/dim]"
        table.add_row(literal(part.name), literal(part.address), pid, health)
    return table


def brokers_table(rows: list[BrokerRow]) -> Table:
    table = Table(title="Kafka brokers")
    for column in ("broker", "address", "state", "leads"):
        table.add_column(column)
    for row in rows:
        state = "[green]up[/green]" if row.up else "[red]down[/red]"
        table.add_row(str(row.node_id), literal(row.address), state, f"{row.leads} partitions" if row.up else "")
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
            console.print(styled(("stopped unexpectedly:", "red"), " ", ", ".join(sorted(lost)), "; see ", stack.settings.state_dir / "logs"))
            break


@app.command()
def up(
    detach: bool = typer.Option(False, "--detach", "-d", help="Return once every part answers."),
    demo: bool = typer.Option(False, "--demo", help="Then send demo traffic and summarise what landed."),
    seed: int | None = typer.Option(None, "--seed", help="With --demo: repeat a demo run exactly (default: a new random seed)."),
    with_monitoring: bool = typer.Option(False, "--with-monitoring", help="Also start Prometheus scraping the stack."),
    brokers: int | None = typer.Option(
        None, "--brokers", min=1, max=MAX_LOCAL_BROKERS, help="Start a local Kafka cluster of N nodes on loopback (default: one broker).",
    ),
) -> None:
    """Start the local stack: Kafka broker(s) (none when FOOTFALL_KAFKA_BOOTSTRAP names brokers
    footfall did not start), collector, processors and sink."""
    settings = config.load()
    try:
        stack = Stack(settings, monitoring=with_monitoring, brokers=brokers)
    except ValueError as exc:
        console.print(styled(("could not start the stack:", "red"), " ", exc))
        raise typer.Exit(2) from None
    try:
        stack.up(say)
    except (RuntimeError, ValueError, TimeoutError, FileNotFoundError) as exc:
        console.print(styled(("could not start the stack:", "red"), " ", exc))
        stack.down(say)
        raise typer.Exit(1) from None
    console.print(status_table(stack.status()))
    console.print(brokers_table(stack.brokers()))
    if with_monitoring:
        print_where_to_look(settings)
    if demo:
        demo_and_summary(settings, seed=seed)
    if detach:
        console.print("Stop it with [bold]footfall down[/bold].")
        return
    console.print("Running; press [bold]Ctrl-C[/bold] to stop.")
    try:
        wait_for_interrupt(stack)
    finally:
        stack.down(say)


def print_where_to_look(settings: config.Settings) -> None:
    url = f"http://127.0.0.1:{settings.prometheus_port}"
    console.print(
        f"Prometheus: {url} (what it scrapes: {url}/targets, alerts: {url}/alerts)\n"
        "Grafana: provision it from deploy/grafana (README, Monitoring) for the pipeline health "
        "and business overview dashboards."
    )


@app.command()
def down() -> None:
    """Stop everything `footfall up` started, and nothing else."""
    stack = Stack(config.load())
    stack.down(say)
    console.print("stack stopped")


@app.command()
def status() -> None:
    """Show each part of the local stack, its address and its health."""
    stack = Stack(config.load())
    rows = stack.status()
    console.print(status_table(rows))
    console.print(brokers_table(stack.brokers()))
    if not all(healthy for _, _, healthy in rows):
        raise typer.Exit(1)


# The demo: enough customers buying again over enough days for a lifetime value fit.
DEMO_VISITORS = 400
DEMO_DAYS = 60


def demo_and_summary(settings: config.Settings, visitors: int = DEMO_VISITORS, days: int = DEMO_DAYS, seed: int | None = None) -> None:
    """Send demo traffic, wait until the sink has written all of it, import the campaigns'
    costs, fit the lifetime value models, print the figures."""
    query = partial(run_query, settings)
    before = event_count(query)
    result = send_demo(settings, visitors, days, seed)
    expected = before + result.sent.accepted
    with console.status("waiting for the pipeline to land every event in ClickHouse …"):
        wait_until(lambda: event_count(query) >= expected, LANDING_TIMEOUT_S, "demo events in ClickHouse")
    plan = result.plan
    console.print(f"the demo sent {result.sent.accepted:,} events in {plan.sessions:,} planned sessions: {plan.customers:,} "
                  f"customers, {plan.repeat_customers:,} of them buying on several days, {plan.survey_answers:,} survey answers")
    site_id, today = settings.sites[0].id, datetime.now(UTC).date()
    with open_warehouse(settings) as warehouse:
        costs_file, cost_rows = import_demo_costs(warehouse, site_id, today, days, settings.state_dir / "demo")
    say(f"imported {cost_rows:,} campaign cost rows from {costs_file} (as footfall costs import does)")
    with console.status("fitting the lifetime value models and waiting for every customer's P(alive) …"):
        fit = fit_lifetime_value(settings, query, site_id, today)
    say(f"fitted the lifetime value models on {fit.customers:,} customers (as footfall clv fit does)")
    with open_warehouse(settings) as warehouse, console.status("grouping the customers into personas …"):
        personas = fit_site(warehouse, site_id, PersonaSettings(), datetime.now(UTC))
    say(f"grouped the customers into {len(personas)} personas (as footfall personas does)")
    console.print("[bold]In ClickHouse now[/bold]")
    for line in summary_lines(query):
        console.print(styled("  ", line))
    console.print(
        "Query it meanwhile, for example:\n"
        '  .venv/bin/footfall query "SELECT entry_path, count() AS sessions FROM footfall.sessions FINAL '
        'GROUP BY entry_path ORDER BY sessions DESC LIMIT 5"\n'
        "Every section of the report has data: .venv/bin/footfall report"
    )


def send_demo(settings: config.Settings, visitors: int, days: int, seed: int | None) -> DemoResult:
    seed = secrets.randbelow(2**31) if seed is None else seed
    console.print(f"sending demo traffic: {visitors} visitors over {days} days (seed {seed})")
    write_key = settings.sites[0].write_key
    bar = Progress(
        TextColumn("[bold]sending events[/bold]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    )
    with bar:
        task = bar.add_task("events", total=None)
        return run_demo(
            settings.collector_url, write_key, visitors=visitors, days=days, seed=seed,
            on_sent=lambda sent, total: bar.update(task, completed=sent, total=total),
        )


@app.command()
def demo(
    visitors: int = typer.Option(DEMO_VISITORS, help="How many simulated visitors."),
    days: int = typer.Option(DEMO_DAYS, help="Over how many days before now their visits spread."),
    seed: int | None = typer.Option(None, help="Repeat a run exactly (default: a new random seed)."),
) -> None:
    """Send realistic simulated traffic to the running collector."""
    settings = config.load()
    result = send_demo(settings, visitors, days, seed)
    plan = result.plan
    console.print(
        f"sent {result.sent.accepted:,} events in {result.sent.seconds:.1f}s: {plan.sessions} sessions, "
        f"{plan.page_views} page views, {plan.clicks} clicks, {plan.scrolls} scrolls, "
        f"{plan.purchases} purchases ({plan.revenue:,.2f} {plan.currency}) by {plan.customers} customers, "
        f"{plan.identifies} identifies, {plan.cart_adds} cart adds, {plan.checkouts} checkouts, "
        f"{plan.engagements} engaged times, {plan.survey_answers} survey answers"
    )


class OutputFormat(str, Enum):
    """How `footfall query` prints its rows."""

    table = "table"
    tsv = "tsv"
    jsonl = "jsonl"


@app.command()
def migrate(
    print_grants: bool = typer.Option(False, "--print-grants", help="Print the analyst and sink users to create on a ClickHouse server, and change nothing."),
    print_only: bool = typer.Option(False, "--print", help="Print the statements a first migration runs, and change nothing."),
    cluster: str | None = typer.Option(None, "--cluster", help="Make the schema on this ClickHouse cluster (default: FOOTFALL_CLICKHOUSE_CLUSTER)."),
) -> None:
    """Create or update footfall's ClickHouse tables and their retention (re-runnable)."""
    if print_grants:
        passwords = (secrets.token_urlsafe(24), secrets.token_urlsafe(24))
        sys.stdout.write(grants_text(*passwords))
        return
    settings = config.load()
    try:
        cluster = checked_cluster(cluster) if cluster is not None else settings.clickhouse_cluster
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--cluster") from None
    if print_only:
        sys.stdout.write(printed_text(cluster))
        return
    backend = open_backend(settings)
    try:
        applied = run_migrations(backend, on_progress=say, retention=settings.retention, cluster=cluster)
    finally:
        backend.close()
    console.print(f"applied {len(applied)} migration(s)" if applied else "schema is up to date")


@app.command()
def query(
    sql: str = typer.Argument(..., help="One statement that reads: SELECT, WITH, SHOW, DESCRIBE, EXPLAIN, EXISTS."),
    output: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f", help="table, tsv, or jsonl (one JSON object per row)."),
) -> None:
    """Run SQL that reads ClickHouse; the engine refuses anything else (files, network, writes)."""
    try:
        with open_warehouse(config.load()) as warehouse:
            rows = warehouse.query(sql)
    except ClickHouseError as exc:
        first_line = (str(exc).strip().splitlines() or [""])[0]
        if exc.code == READONLY_CODE:
            console.print(styled(("footfall query runs read-only statements only:", "red"), " ", first_line))
            raise typer.Exit(2) from None
        console.print(styled(("ClickHouse refused the query:", "red"), " ", first_line))
        raise typer.Exit(1) from None
    print_rows(rows, output)


def run_query(settings: config.Settings, sql: str) -> list[dict[str, Any]]:
    """One query, asking afresh who holds the engine: for callers that poll."""
    with open_warehouse(settings) as warehouse:
        return warehouse.query(sql)


def tsv_field(value: object) -> str:
    """A value as ClickHouse writes TabSeparated: backslash, tab and newline escaped, so a
    row stays one line whatever the data holds; other control characters spelled out."""
    return shown(str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n"))


def print_rows(rows: list[dict[str, Any]], output: OutputFormat) -> None:
    if output is OutputFormat.jsonl:
        for row in rows:
            sys.stdout.write(orjson.dumps(row).decode() + "\n")
        return
    columns = list(rows[0]) if rows else []
    if output is OutputFormat.tsv:
        sys.stdout.write("\t".join(tsv_field(c) for c in columns) + "\n")
        for row in rows:
            sys.stdout.write("\t".join("" if row[c] is None else tsv_field(row[c]) for c in columns) + "\n")
        return
    table = Table(caption=f"{len(rows)} row(s)")
    for column in columns:
        table.add_column(literal(column))
    for row in rows:
        table.add_row(*(literal("" if row[c] is None else row[c]) for c in columns))
    console.print(table)


@app.command()
def report(
    site: str | None = typer.Option(None, "--site", help="One site (default: all sites)."),
    since: str = typer.Option("30d", "--since", help=f"{SINCE_GRAMMAR}; the report counts whole UTC days, from the day that moment falls in."),
) -> None:
    """Print traffic, sessions, funnels, segments, revenue, surveys and their comments' themes, CAC and retention."""
    try:
        settings = config.load()
        scope = Scope(site, since_day(since), counting_bots(settings.sites))
    except ValueError as exc:
        console.print(styled((exc, "red")))
        raise typer.Exit(2) from None
    console.print(styled(("footfall report", "bold"), ": ", site or "all sites", f", since {scope.since.isoformat()}"))
    try:
        with open_warehouse(settings) as warehouse:
            for section in report_sections.build(warehouse.query, scope):
                console.print(section)
                console.print()
    except ClickHouseError as exc:
        console.print(styled(("ClickHouse refused a report query:", "red"), " ", exc))
        raise typer.Exit(1) from None


costs_app = typer.Typer(help="Campaign costs, for CAC per campaign.", no_args_is_help=True)
app.add_typer(costs_app, name="costs")


app.add_typer(clv_app, name="clv")


def default_site(settings: config.Settings) -> str:
    """The one configured site; with several, the user must say which."""
    if len(settings.sites) != 1:
        sites = ", ".join(s.id for s in settings.sites)
        console.print(styled((f"several sites are configured ({shown(sites)}); choose one with --site", "red")))
        raise typer.Exit(2)
    return settings.sites[0].id


@costs_app.command("import")
def import_costs(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV: day,utm_source,utm_medium,utm_campaign,cost,currency"),
    site: str | None = typer.Option(None, "--site", help="The site the costs belong to (default: the one configured)."),
) -> None:
    """Import campaign costs; importing the same days and campaigns again replaces them."""
    settings = config.load()
    site_id = site or default_site(settings)
    try:
        with file.open(newline="", encoding="utf-8-sig") as lines:
            rows = parse_costs(lines, site_id, version=time.time_ns() // 1_000_000)
    except CostFileError as exc:
        console.print(styled((f"{shown(file)} was not imported:", "red"), "\n", exc))
        raise typer.Exit(1) from None
    try:
        with open_warehouse(settings) as warehouse, Progress(console=console, transient=True) as progress:
            task = progress.add_task(f"storing {len(rows):,} cost rows", total=len(rows))
            store_costs(warehouse, rows, on_chunk=lambda stored: progress.advance(task, stored))
    except ClickHouseError as exc:
        console.print(styled(("storing the costs failed:", "red"), " ", exc))
        raise typer.Exit(1) from None
    console.print(styled(f"imported {len(rows):,} cost rows for site ", site_id, " from ", file))


def print_no_heatmap(site: str, path: str, since: str | None, others: list[tuple[str, int]]) -> None:
    """A mistyped path is the usual cause: name the paths that do have data."""
    window = f" since {shown(since)}" if since else ""
    console.print(styled((f"no page views or clicks for {shown(site)} {shown(path)}{window}", "red")))
    if not others:
        console.print(styled("site ", site, " has no page views", window))
        return
    console.print("the most viewed paths of this site:")
    for other, views in others:
        console.print(styled("  ", other, f"  ({views:,} views)"))


@app.command()
def heatmap(
    site: str = typer.Option(..., "--site", help="The site id."),
    path: str = typer.Option(..., "--path", help="The page path, as in footfall.events, e.g. /pricing."),
    out: Path = typer.Option(..., "--out", dir_okay=False, help="Where to write the PNG."),
    since: str | None = typer.Option(None, "--since", help=f"{SINCE_GRAMMAR} (default: all)."),
) -> None:
    """Draw a page's click heatmap and scroll map to a PNG."""
    try:
        start = parse_since(since) if since else None
    except ValueError as exc:
        console.print(styled((exc, "red")))
        raise typer.Exit(2) from None
    try:
        settings = config.load()
        count_bots = site in counting_bots(settings.sites)
        with open_warehouse(settings) as warehouse, console.status(styled("reading the heatmap of ", site, " ", path, " …")):
            figures = read_heatmap(warehouse.query, site, path, start, count_bots)
            if not (figures.views or figures.clicks):
                print_no_heatmap(site, path, since, top_paths(warehouse.query, site, start, count_bots=count_bots))
                raise typer.Exit(1)
    except ClickHouseError as exc:
        console.print(styled(("ClickHouse refused a heatmap query:", "red"), " ", exc))
        raise typer.Exit(1) from None
    say(f"{figures.views:,} page views, {figures.visitors:,} visitors, {figures.clicks:,} clicks")
    # matplotlib only when drawing: every other command starts without it.
    from footfall.reports.heatmap_picture import draw

    draw(figures, out)
    console.print(styled("wrote ", out))


app.command("export")(people.export_command)
app.command("forget")(people.forget_command)
app.command("credentials")(print_credentials)
app.command("hash")(hash_values)
app.command("paths")(paths_command)
app.command("feedback")(feedback_command)
app.command("personas")(personas_command)


if __name__ == "__main__":
    app()
