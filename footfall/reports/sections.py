"""`footfall report`: the named queries' rows as readable tables, one per section.

Formatting only: the SQL lives in footfall/reports/queries.py and the rows come through
the query the caller gives. A section whose query finds nothing says so instead of
printing an empty table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from footfall.feedback.model import ThemeSettings
from footfall.reports import path_tables, queries
from footfall.reports.paths import Direction, Link, PathAsk, Paths, read_links
from footfall.terminal import literal
from footfall.reports.queries import QUANTILES, Scope
from infra.clickhouse.warehouse import Query, Rows

NO_DATA = "no data yet"


def number(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def share(part: float | None, whole: float | None) -> str:
    return "–" if part is None or not whole else f"{100 * part / whole:.1f}%"


def titled(title: str, body: RenderableType) -> RenderableType:
    return Group(Text(title, style="bold"), body)


def empty(title: str) -> RenderableType:
    return titled(title, Text(f"  {NO_DATA}", style="dim"))


def table(columns: Sequence[str], rows: Sequence[Sequence[str]], caption: str | None = None) -> Table:
    result = Table(*columns, caption=caption)
    for row in rows:
        result.add_row(*(literal(cell) for cell in row))
    return result


def left_out(rows: Rows, scope: Scope) -> RenderableType:
    """The line above every section: how many bots' events the figures below leave out."""
    line = f"left out: {rows[0]['events'] if rows else 0:,} bot events"
    # Only the sites this report covers: another site's setting is no news here.
    counting = sorted(site for site in scope.bots_counted if scope.site in (None, site))
    if counting:
        line += f" (bots count as traffic for {', '.join(counting)})"
    return Text(line, style="dim")


def traffic(rows: Rows) -> RenderableType:
    if not rows:
        return empty("Traffic")
    body = [[row["day"], f"{row['events']:,}", f"{row['visitors']:,}", f"{row['page_views']:,}"] for row in rows]
    totals = [sum(row[key] for row in rows) for key in ("events", "page_views")]
    caption = f"{totals[0]:,} events, {totals[1]:,} page views (visitors are counted per day)"
    return titled("Traffic", table(("day", "events", "visitors", "page views"), body, caption))


def top_pages(rows: Rows) -> RenderableType:
    if not rows:
        return empty("Top pages")
    return titled("Top pages", table(("path", "views", "visitors"), [[r["path"], f"{r['views']:,}", f"{r['visitors']:,}"] for r in rows]))


def paths(found: Paths, title: str) -> RenderableType:
    """The steps from the anchor with their drop-offs, then the most common sequences."""
    if not found.sessions:
        return empty(title)
    steps = table(path_tables.step_columns(found.ask), path_tables.step_rows(found))
    caption = f"the {len(found.walks)} most common sequences of {found.sessions:,} sessions; (ended), (began): within the steps"
    return titled(title, Group(steps, table(path_tables.SEQUENCE_COLUMNS, path_tables.sequence_rows(found), caption)))


# The report's paths: the commonest entry pages and where their sessions went, from one
# query of each session's first two pages.
ENTRY_PATHS = PathAsk(Direction.entry, None, steps=1)
ENTRY_PAGES = 5


def entry_paths(links: tuple[Link, ...]) -> RenderableType:
    if not links:
        return empty("Entry pages and where they lead")
    caption = "sessions by their first page (reloads are one view); next: the commonest page viewed after it"
    return titled("Entry pages and where they lead", table(path_tables.ENTRY_COLUMNS, path_tables.entry_rows(links, ENTRY_PAGES), caption))


def sessions(rows: Rows, conversion: Rows) -> RenderableType:
    if not rows:
        return empty("Sessions")
    row = rows[0]
    body = [
        ["sessions", f"{row['sessions']:,}"],
        ["bounces", f"{row['bounces']:,}"],
        ["bounce rate", share(row["bounces"], row["sessions"])],
        ["pages per session", number(row["pages_per_session"])],
        ["average duration (s)", number(row["avg_duration_s"], 1)],
    ]
    if conversion:
        visitors, buyers = conversion[0]["visitors"], conversion[0]["buyers"]
        body.append(["conversion rate", f"{share(buyers, visitors)} ({buyers:,} of {visitors:,} visitors bought)"])
    return titled("Sessions and conversion", table(("measure", "value"), body))


def funnels(rows: Rows) -> RenderableType:
    """Each step's visitors, and their share of the previous step's and the first step's."""
    if not rows:
        return empty("Funnels")
    body, first, previous = [], {}, {}
    for row in rows:
        name, visitors = row["funnel"], row["visitors"]
        first.setdefault(name, visitors)
        body.append([name, str(row["step"]), f"{visitors:,}", share(visitors, previous.get(name, visitors)), share(visitors, first[name])])
        previous[name] = visitors
    return titled("Funnel conversion", table(("funnel", "step", "visitors", "of previous", "of first"), body))


def segments(sizes: Rows, movements: Rows) -> RenderableType:
    if not sizes and not movements:
        return empty("Segments")
    moved = {row["segment"]: row for row in movements}
    names = [row["segment"] for row in sizes] + sorted(set(moved) - {row["segment"] for row in sizes})
    members = {row["segment"]: row["members"] for row in sizes}
    body = [
        [name, f"{members.get(name, 0):,}", f"{moved.get(name, {}).get('entered', 0):,}", f"{moved.get(name, {}).get('left', 0):,}"]
        for name in names
    ]
    return titled("Segments", table(("segment", "members now", "entered", "left"), body, "entries and exits in the period"))


def revenue(rows: Rows) -> RenderableType:
    if not rows:
        return empty("Revenue")
    body = [[r["currency"] or "–", f"{r['orders']:,}", number(r["total"]), number(r["aov"]), f"{r['buyers']:,}"] for r in rows]
    return titled("Revenue", table(("currency", "orders", "revenue", "AOV", "buyers"), body))


CLV_ROWS = {"historical": "spent so far", "predicted": "predicted CLV", "alive": "P(alive)"}


def clv(rows: Rows) -> RenderableType:
    if not rows:
        return empty("Customer lifetime value")
    row = rows[0]
    columns = ("", *(f"p{round(level * 100)}" for level in QUANTILES))
    fitted = row["fitted"]
    kinds = CLV_ROWS if fitted else {"historical": CLV_ROWS["historical"]}
    body = [[label, *(number(value) for value in row[kind])] for kind, label in kinds.items()]
    if not fitted:
        caption = f"over {row['customers']:,} buying customers; predicted CLV and P(alive) after the first fit (footfall clv fit)"
    else:
        caption = (f"over {row['customers']:,} buying customers; {row['likely_alive']:,} of {fitted:,} likely alive (P(alive) ≥ 0.5), "
                   f"{number(row['purchases_90d'], 1)} purchases expected in 90 days, {number(row['predicted_total'])} predicted in all")
    return titled("Customer lifetime value", table(columns, body, caption))


def surveys(scores: Rows, weeks: Rows) -> RenderableType:
    if not scores and not weeks:
        return empty("NPS, CSAT and CES")
    parts: list[RenderableType] = []
    if scores:
        row = scores[0]
        parts.append(table(
            ("NPS", "promoters", "passives", "detractors", "CSAT", "CES"),
            [[number(row["nps"], 1), f"{row['promoters']:,}", f"{row['passives']:,}", f"{row['detractors']:,}",
              f"{number(row['csat_pct'], 1)}% ({row['csat_responses']:,})", f"{number(row['ces_mean'])} ({row['ces_responses']:,})"]],
            "customers' latest answers in the period (responses in brackets)",
        ))
    if weeks:
        parts.append(table(
            ("week", "NPS", "CSAT", "CES"),
            [[r["week_start"], f"{number(r['nps'], 1)} ({r['nps_responses']})", f"{number(r['csat_pct'], 1)}% ({r['csat_responses']})",
              f"{number(r['ces_mean'])} ({r['ces_responses']})"] for r in weeks],
            "per week, each respondent's latest answer that week",
        ))
    return titled("NPS, CSAT and CES", Group(*parts))


def feedback(query: Query, scope: Scope) -> RenderableType:
    """Each site's themes of the period's survey comments (footfall feedback)."""
    # Imported here: the themes' module reads this one's tables.
    from footfall.feedback.command import feedback_sections

    found = feedback_sections(query, scope, None, ThemeSettings(), datetime.now(UTC))
    return Group(*found) if found else empty("Feedback themes")


def personas(query: Query, scope: Scope) -> RenderableType:
    """Each site's personas of its latest fit (footfall personas)."""
    # Imported here: the personas' tables are built from this module's.
    from footfall.personas.reading import latest_by_site
    from footfall.personas.tables import personas_tables

    found = latest_by_site(query, scope)
    if not found:
        return titled("Personas", Text(f"  {NO_DATA}: fit them with footfall personas", style="dim"))
    return Group(*(personas_tables(site, rows) for site, rows in found.items()))


def retention_grid(rows: Rows) -> tuple[int, list[tuple[str, int, list[float]]]]:
    """Weeks shown and, per cohort, its size and the share active in each week after."""
    by_cohort: dict[str, dict[int, int]] = {}
    for row in rows:
        by_cohort.setdefault(row["cohort_week"], {})[row["week_number"]] = row["visitors"]
    weeks = 1 + max((row["week_number"] for row in rows), default=0)
    grid = []
    for cohort, active in by_cohort.items():
        size = active.get(0, 0)
        grid.append((cohort, size, [active.get(week, 0) / size if size else 0.0 for week in range(weeks)]))
    return weeks, grid


def retention(rows: Rows) -> RenderableType:
    if not rows:
        return empty("Retention")
    weeks, grid = retention_grid(rows)
    body = [[cohort, f"{size:,}", *(f"{100 * value:.1f}%" for value in shares)] for cohort, size, shares in grid]
    columns = ("cohort (first seen)", "visitors", *(f"week {week}" for week in range(weeks)))
    return titled("Retention", table(columns, body, "share of each cohort active N weeks after its first week"))


def money(value: float | None, currency: str) -> str:
    return "–" if value is None else f"{number(value)} {currency}"


def clv_to_cac(ratio: float | None) -> str:
    """The ratio, marked where the customers are worth less than they cost."""
    if ratio is None:
        return "–"
    return f"{ratio:.2f}" + (" ✗ worth less than they cost" if ratio < 1 else "")


def cac(rows: Rows) -> RenderableType:
    if not rows:
        return titled("CAC per campaign", Text(f"  {NO_DATA}: import campaign costs with footfall costs import", style="dim"))
    body = [
        [r["site_id"], r["utm_source"], r["utm_medium"], r["utm_campaign"], money(r["cost"], r["currency"]), f"{r['customers']:,}",
         money(r["cac"], r["currency"]), money(r["clv_historical"], r["currency"]), money(r["clv_predicted"], r["currency"]),
         clv_to_cac(r["clv_to_cac"])]
        for r in rows
    ]
    columns = ("site", "source", "medium", "campaign", "cost", "customers", "CAC", "CLV so far", "CLV predicted", "CLV:CAC")
    caption = ("customers: first purchase in a session from the campaign; CLV: their average spend so far and predicted "
               "(discounted, from the latest fit); CLV:CAC = (so far + predicted) / CAC")
    return titled("CAC per campaign", table(columns, body, caption))


def build(query: Query, scope: Scope) -> Iterator[RenderableType]:
    """The report's sections in reading order, each from its named queries."""
    def run(sql: Callable[[Scope], str]) -> Rows:
        return query(sql(scope))

    yield left_out(run(queries.bots_left_out), scope)
    yield traffic(run(queries.traffic))
    yield top_pages(run(queries.top_pages))
    page_views = f"type = 'page_view' AND {scope.events_filter} AND {scope.from_('ts')}"
    yield entry_paths(read_links(query, ENTRY_PATHS, page_views))
    yield sessions(run(queries.sessions), run(queries.conversion))
    yield funnels(run(queries.funnels))
    yield segments(run(queries.segment_sizes), run(queries.segment_movements))
    yield revenue(run(queries.revenue))
    yield clv(run(queries.clv))
    yield surveys(run(queries.survey_scores), run(queries.survey_weeks))
    yield feedback(query, scope)
    yield personas(query, scope)
    yield cac(run(queries.cac))
    yield retention(run(queries.retention))
