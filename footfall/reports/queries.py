"""The SQL behind `footfall report`, one named query per section.

Each query takes a site filter and the first day of the period and returns rows that
footfall/reports/sections.py turns into tables; the survey scores are built from the
scales and cut-offs in schemas/surveys.py, the same numbers the processors classify with.
Queries of footfall.events count bots' events only for the sites that count them, as the
processors do for the tables they write.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from infra.config import Site
from schemas.surveys import PASSIVE_MIN, PROMOTER_MIN, SATISFIED_MIN, SCALES, SURVEY_EVENT
from schemas.tables import DATABASE
from sinks.rows import quote

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


@dataclass(frozen=True)
class Scope:
    """Which site (None: all) and from which day (UTC, counted whole) the report looks, and
    which sites count their bots' events as traffic."""

    site: str | None
    since: date
    bots_counted: frozenset[str] = frozenset()

    @property
    def site_filter(self) -> str:
        return "1" if self.site is None else f"site_id = {quote(self.site)}"

    @property
    def counted(self) -> str:
        """The events that count: people's, and bots' where their site counts them."""
        if not self.bots_counted:
            return "bot = 0"
        return f"(bot = 0 OR site_id IN ({', '.join(quote(site) for site in sorted(self.bots_counted))}))"

    @property
    def events_filter(self) -> str:
        return f"{self.site_filter} AND {self.counted}"

    def from_(self, column: str) -> str:
        return f"{column} >= toDateTime64('{self.since.isoformat()} 00:00:00', 3, 'UTC')"


def counting_bots(sites: Iterable[Site]) -> frozenset[str]:
    """The sites whose bots' events count (Site.count_bots), for Scope.bots_counted."""
    return frozenset(site.id for site in sites if site.count_bots)


def bots_left_out(scope: Scope) -> str:
    return f"""
SELECT count() AS events
FROM {DATABASE}.events FINAL
WHERE {scope.site_filter} AND {scope.from_('ts')} AND NOT {scope.counted}"""


def traffic(scope: Scope) -> str:
    return f"""
SELECT toString(toDate(ts)) AS day, count() AS events, uniqExact(anonymous_id) AS visitors,
       countIf(type = 'page_view') AS page_views
FROM {DATABASE}.events FINAL
WHERE {scope.events_filter} AND {scope.from_('ts')}
GROUP BY day ORDER BY day"""


def top_pages(scope: Scope, limit: int = 10) -> str:
    return f"""
SELECT path, count() AS views, uniqExact(anonymous_id) AS visitors
FROM {DATABASE}.events FINAL
WHERE type = 'page_view' AND {scope.events_filter} AND {scope.from_('ts')}
GROUP BY path ORDER BY views DESC, path LIMIT {limit}"""


def sessions(scope: Scope) -> str:
    """A bounce is a session with a single page view and nothing else (sessions.is_bounce)."""
    return f"""
SELECT count() AS sessions, countIf(is_bounce = 1) AS bounces, avg(duration_s) AS avg_duration_s,
       avg(pageviews) AS pages_per_session
FROM {DATABASE}.sessions FINAL
WHERE {scope.site_filter} AND {scope.from_('started_at')}
HAVING sessions > 0"""


def conversion(scope: Scope) -> str:
    """Conversion rate: the period's visitors who bought, of all the period's visitors."""
    return f"""
SELECT uniqExact(anonymous_id) AS visitors, uniqExactIf(anonymous_id, type = 'purchase') AS buyers
FROM {DATABASE}.events FINAL
WHERE {scope.events_filter} AND {scope.from_('ts')}
HAVING visitors > 0"""


def funnels(scope: Scope) -> str:
    return f"""
SELECT funnel, step, sum(visitors) AS visitors
FROM {DATABASE}.funnel_daily
WHERE {scope.site_filter} AND day >= '{scope.since.isoformat()}'
GROUP BY funnel, step ORDER BY funnel, step"""


def segment_sizes(scope: Scope) -> str:
    return f"""
SELECT segment, count() AS members
FROM {DATABASE}.segment_membership FINAL
WHERE {scope.site_filter}
GROUP BY segment ORDER BY members DESC, segment"""


def segment_movements(scope: Scope) -> str:
    return f"""
SELECT segment, countIf(change = 'entered') AS entered, countIf(change = 'left') AS left
FROM {DATABASE}.segment_changes FINAL
WHERE {scope.site_filter} AND {scope.from_('at')}
GROUP BY segment ORDER BY segment"""


def revenue(scope: Scope) -> str:
    return f"""
SELECT currency, count() AS orders, sum(revenue) AS total, total / orders AS aov,
       uniqExact(anonymous_id) AS buyers
FROM {DATABASE}.events FINAL
WHERE type = 'purchase' AND revenue IS NOT NULL AND {scope.events_filter} AND {scope.from_('ts')}
GROUP BY currency ORDER BY total DESC"""


def clv(scope: Scope) -> str:
    """Quantiles over the buying customers of what they spent, of their predicted value and
    of P(alive) (the latter two over those the site's latest fit gives one), and how many
    are likely alive (P(alive) at least a half)."""
    levels = ", ".join(str(level) for level in QUANTILES)
    return f"""
SELECT count() AS customers, quantiles({levels})(clv_historical) AS historical,
       quantiles({levels})(clv_predicted) AS predicted, quantiles({levels})(p_alive) AS alive,
       count(p_alive) AS fitted, countIf(p_alive >= 0.5) AS likely_alive,
       sum(clv_predicted) AS predicted_total, sum(expected_purchases_90d) AS purchases_90d
FROM {DATABASE}.customers FINAL
WHERE purchases > 0 AND {scope.site_filter}
HAVING customers > 0"""


def nps_figures(score: str, answered: str) -> str:
    """Promoters, passives, detractors, responses and NPS over the `answered` rows."""
    return f"""countIf({answered} AND {score} >= {PROMOTER_MIN}) AS promoters,
       countIf({answered} AND {score} >= {PASSIVE_MIN} AND {score} < {PROMOTER_MIN}) AS passives,
       countIf({answered} AND {score} < {PASSIVE_MIN}) AS detractors,
       promoters + passives + detractors AS nps_responses,
       100 * (promoters - detractors) / nps_responses AS nps"""


def csat_figures(score: str, answered: str) -> str:
    """Responses and the satisfied share (in %) over the `answered` rows."""
    return f"""countIf({answered}) AS csat_responses,
       100 * countIf({answered} AND {score} >= {SATISFIED_MIN}) / csat_responses AS csat_pct"""


def ces_figures(score: str, answered: str) -> str:
    """Responses and the mean score over the `answered` rows."""
    return f"""countIf({answered}) AS ces_responses,
       avgIf({score}, {answered}) AS ces_mean"""


def survey_scores(scope: Scope) -> str:
    """Over each customer's latest answer to each survey, as the customers table keeps them,
    when that answer falls in the period."""
    # Qualified: the figures' own names (nps) would otherwise shadow the columns.
    nps, csat, ces = (f"customers.{name}" for name in ("nps", "csat", "ces"))
    answered = {name: f"{name} IS NOT NULL AND {scope.from_(f'{name}_at')}" for name in (nps, csat, ces)}
    return f"""
SELECT {nps_figures(nps, answered[nps])},
       {csat_figures(csat, answered[csat])},
       {ces_figures(ces, answered[ces])}
FROM {DATABASE}.customers FINAL
WHERE {scope.site_filter}
HAVING nps_responses + csat_responses + ces_responses > 0"""


def in_scale(survey: str = "survey", score: str = "score") -> str:
    """The answers whose score is on their survey's scale."""
    return " OR ".join(f"({survey} = '{name}' AND {score} BETWEEN {low} AND {high})" for name, (low, high) in SCALES.items())


def survey_weeks(scope: Scope) -> str:
    """Per week (from Monday), over each respondent's latest answer that week."""
    return f"""
SELECT toString(week) AS week_start,
       {nps_figures('score', "survey = 'nps'")},
       {csat_figures('score', "survey = 'csat'")},
       {ces_figures('score', "survey = 'ces'")}
FROM
(
    SELECT toMonday(ts) AS week, JSONExtractString(properties, 'survey') AS survey,
           if(user_id != '', user_id, anonymous_id) AS respondent,
           argMax(JSONExtractInt(properties, 'score'), (ts, event_id)) AS score
    FROM {DATABASE}.events FINAL
    WHERE type = 'track' AND name = {quote(SURVEY_EVENT)} AND {scope.events_filter} AND {scope.from_('ts')}
    GROUP BY site_id, week, survey, respondent
    HAVING {in_scale()}
)
GROUP BY week ORDER BY week"""


def retention(scope: Scope) -> str:
    """A visitor's cohort is the week (from Monday) of their first event ever; week N counts
    the cohort's visitors with an event N weeks later."""
    return f"""
WITH first_seen AS
(
    SELECT site_id, anonymous_id, toMonday(min(ts)) AS cohort
    FROM {DATABASE}.events FINAL
    WHERE {scope.events_filter}
    GROUP BY site_id, anonymous_id
    HAVING cohort >= toMonday(toDate('{scope.since.isoformat()}'))
),
active AS
(
    SELECT DISTINCT site_id, anonymous_id, toMonday(ts) AS week
    FROM {DATABASE}.events FINAL
    WHERE {scope.events_filter} AND ts >= toMonday(toDate('{scope.since.isoformat()}'))
)
SELECT toString(cohort) AS cohort_week, intDiv(dateDiff('day', cohort, week), 7) AS week_number, count() AS visitors
FROM active INNER JOIN first_seen USING (site_id, anonymous_id)
GROUP BY cohort_week, week_number ORDER BY cohort_week, week_number"""


def cac(scope: Scope) -> str:
    """A customer is acquired by the campaign (utm source, medium, campaign) of the session
    of their first purchase ever; CAC is the campaign's cost in the period over the
    customers it acquired in the period. Their value is what they spent so far (historical
    CLV) and the discounted value predicted from the site's latest fit (NULL before one),
    averaged; CLV:CAC sets their sum against what acquiring one of them cost."""
    return f"""
WITH acquired AS
(
    SELECT s.site_id AS site_id, s.utm_source AS utm_source, s.utm_medium AS utm_medium, s.utm_campaign AS utm_campaign,
           count() AS customers, avg(c.clv_historical) AS clv_historical, avg(c.clv_predicted) AS clv_predicted
    FROM
    (
        SELECT site_id, anonymous_id, argMin(session_id, (ts, event_id)) AS session_id, min(ts) AS first_purchase
        FROM {DATABASE}.events FINAL
        WHERE type = 'purchase' AND {scope.events_filter}
        GROUP BY site_id, anonymous_id
        HAVING {scope.from_('first_purchase')}
    ) AS p
    INNER JOIN (SELECT * FROM {DATABASE}.sessions FINAL WHERE {scope.site_filter}) AS s
        ON s.site_id = p.site_id AND s.session_id = p.session_id
    LEFT JOIN
    (
        SELECT site_id, anonymous_id, clv_historical, clv_predicted
        FROM {DATABASE}.customers FINAL
        WHERE {scope.site_filter} AND is_deleted = 0
    ) AS c ON c.site_id = p.site_id AND c.anonymous_id = p.anonymous_id
    GROUP BY site_id, utm_source, utm_medium, utm_campaign
),
spent AS
(
    SELECT site_id, utm_source, utm_medium, utm_campaign, sum(cost) AS cost, any(currency) AS currency
    FROM {DATABASE}.campaign_costs FINAL
    WHERE {scope.site_filter} AND day >= '{scope.since.isoformat()}'
    GROUP BY site_id, utm_source, utm_medium, utm_campaign
)
SELECT spent.site_id AS site_id, spent.utm_source AS utm_source, spent.utm_medium AS utm_medium,
       spent.utm_campaign AS utm_campaign, spent.cost AS cost, spent.currency AS currency,
       acquired.customers AS customers, if(customers > 0, cost / customers, NULL) AS cac,
       if(customers > 0, acquired.clv_historical, NULL) AS clv_historical, acquired.clv_predicted AS clv_predicted,
       if(cac > 0, (clv_historical + ifNull(clv_predicted, 0)) / cac, NULL) AS clv_to_cac
FROM spent LEFT JOIN acquired
    ON acquired.site_id = spent.site_id AND acquired.utm_source = spent.utm_source
   AND acquired.utm_medium = spent.utm_medium AND acquired.utm_campaign = spent.utm_campaign
ORDER BY site_id, cost DESC, utm_campaign
SETTINGS join_use_nulls = 0"""
