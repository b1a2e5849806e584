"""What landed in ClickHouse, in a few lines: what `make run` prints after the demo.

The summary is a row of parts, each reading its own figures and saying them in a line or
two; a feature worth a first look adds its part to PARTS. The funnel, survey, CAC and CLV
parts read the report's own queries (footfall/reports/queries.py), the feedback and
personas parts those of `footfall feedback` and `footfall personas`, over all time, so the
summary and `footfall report` cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from footfall.feedback.comments import read_comments
from footfall.personas.reading import latest_by_site
from footfall.reports import queries
from footfall.reports.queries import Scope
from infra.clickhouse.warehouse import Query
from schemas.tables import DATABASE

# Every day footfall can hold: the summary looks at everything that landed.
ALL_TIME = Scope(None, date(1970, 1, 1))
MEDIAN = queries.QUANTILES.index(0.5)
FEEDBACK_THEMES = 3

SUMMARY_SQL = f"""
SELECT
    (SELECT count() FROM {DATABASE}.events FINAL) AS events,
    (SELECT uniqExact(anonymous_id) FROM {DATABASE}.events FINAL) AS visitors,
    (SELECT countIf(type = 'page_view') FROM {DATABASE}.events FINAL) AS page_views,
    (SELECT sumIf(JSONExtractFloat(properties, 'engaged_ms'), name = 'Page Engaged') FROM {DATABASE}.events FINAL) AS engaged_ms,
    count() AS sessions,
    countIf(is_bounce = 1) AS bounces,
    sum(revenue) AS revenue,
    sum(purchases) AS purchases
FROM {DATABASE}.sessions FINAL
"""


@dataclass(frozen=True)
class Summary:
    """The demo's figures: what the pipeline landed, end to end."""

    events: int
    visitors: int
    page_views: int
    engaged_ms: float
    sessions: int
    bounces: int
    revenue: float
    purchases: int

    @property
    def bounce_rate(self) -> float:
        return self.bounces / self.sessions if self.sessions else 0.0

    @property
    def engaged_s_per_view(self) -> float:
        return self.engaged_ms / self.page_views / 1000 if self.page_views else 0.0

    def lines(self) -> list[str]:
        return [
            f"events      {self.events:,}",
            f"visitors    {self.visitors:,}",
            f"sessions    {self.sessions:,}  (bounce rate {self.bounce_rate:.1%})",
            f"engaged     {self.engaged_s_per_view:.1f} s per page view",
            f"purchases   {self.purchases:,}  (revenue {self.revenue:,.2f})",
        ]


def summarise(query: Query) -> Summary:
    row = query(SUMMARY_SQL)[0]
    return Summary(**{key: row[key] for key in Summary.__dataclass_fields__})


def landed(query: Query) -> list[str]:
    return summarise(query).lines()


def funnel_lines(query: Query) -> list[str]:
    """Each funnel's visitors step by step, and the share that went all the way."""
    steps: dict[str, list[int]] = {}
    for row in query(queries.funnels(ALL_TIME)):
        steps.setdefault(row["funnel"], []).append(row["visitors"])
    if not steps:
        return ["funnels     none configured, or nobody entered one yet"]
    return [
        f"funnel      {name}: {' → '.join(f'{count:,}' for count in counts)} visitors "
        f"({counts[-1] / counts[0]:.1%} went all the way)"
        for name, counts in steps.items()
    ]


def survey_lines(query: Query) -> list[str]:
    rows = query(queries.survey_scores(ALL_TIME))
    if not rows:
        return ["surveys     no answers yet"]
    row = rows[0]

    def figure(value: float | None, answers: int, unit: str = "") -> str:
        return f"{'–' if value is None else f'{value:.1f}{unit}'} ({answers:,} answers)"

    return [f"surveys     NPS {figure(row['nps'], row['nps_responses'])}, CSAT {figure(row['csat_pct'], row['csat_responses'], '%')}, "
            f"CES {figure(row['ces_mean'], row['ces_responses'])}"]


def cac_lines(query: Query) -> list[str]:
    rows = query(queries.cac(ALL_TIME))
    if not rows:
        return ["CAC         no campaign costs imported (footfall costs import)"]
    losing = [row["utm_campaign"] for row in rows if row["clv_to_cac"] is not None and row["clv_to_cac"] < 1]
    spent = sum(row["cost"] for row in rows)
    line = f"CAC         {len(rows)} campaigns, {spent:,.2f} {rows[0]['currency']} spent"
    return [line + (f"; worth less than they cost: {', '.join(losing)}" if losing else "; every campaign's customers are worth more than they cost")]


def clv_lines(query: Query) -> list[str]:
    rows = query(queries.clv(ALL_TIME))
    if not rows:
        return ["CLV         no buying customers yet"]
    row = rows[0]
    if not row["fitted"]:
        return [f"CLV         {row['customers']:,} buying customers, not fitted yet (footfall clv fit)"]
    return [f"CLV         {row['fitted']:,} customers fitted, {row['likely_alive']:,} likely alive; median predicted CLV "
            f"{row['predicted'][MEDIAN]:,.2f}, {row['purchases_90d']:,.1f} purchases expected in the next 90 days"]


def feedback_lines(query: Query) -> list[str]:
    """Each site's largest comment themes, by their key words (footfall feedback)."""
    # scikit-learn takes a second to load: only when there are comments to group.
    from footfall.feedback.themes import find_themes

    comments = read_comments(query, ALL_TIME, None)
    if not comments:
        return ["feedback    no survey comments yet"]
    lines = []
    for site, found in comments.items():
        themes = find_themes(found, (found[0].at, found[-1].at)).themes
        largest = "; ".join(f"{', '.join(theme.key_words[:2])} ({theme.comments:,})" for theme in themes[:FEEDBACK_THEMES])
        lines.append(f"feedback    {site}: {len(found):,} comments in {len(themes)} themes, the largest: {largest}")
    return lines


def persona_lines(query: Query) -> list[str]:
    found = latest_by_site(query, ALL_TIME)
    if not found:
        return ["personas    none fitted yet (footfall personas)"]
    return [f"personas    {site}: " + "; ".join(f"{row['name']} ({100 * row['customer_share']:.0f}% of customers, "
                                                f"{100 * row['revenue_share']:.0f}% of revenue)" for row in rows)
            for site, rows in found.items()]


Part = Callable[[Query], list[str]]
# The summary's parts in reading order: what a newcomer should see first.
PARTS: tuple[Part, ...] = (landed, funnel_lines, survey_lines, cac_lines, clv_lines, feedback_lines, persona_lines)


def summary_lines(query: Query, parts: tuple[Part, ...] = PARTS) -> list[str]:
    return [line for part in parts for line in part(query)]


def event_count(query: Query) -> int:
    return query(f"SELECT count() AS n FROM {DATABASE}.events FINAL")[0]["n"]
