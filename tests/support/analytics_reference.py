"""Customers and the built-in segments that follow from a visitor's history alone, as SQL
computes them from footfall.events and footfall.sessions: what the streaming analytics of
a run must equal, however often its worker crashed."""

from __future__ import annotations

from collections.abc import Callable

from processors.analytics.parameters import Parameters
from tests.support.pipeline import Pipeline

# Segments whose membership is a function of the visitor's events and sessions; the others
# depend on when the worker's timers looked (at risk, churned, abandoned carts) or on
# engaged time, which no table keeps.
HISTORY_SEGMENTS = ("new", "returning", "purchasers", "repeat_buyers", "high_value", "deep_scrollers")
# The built-in segments' thresholds, as a site without analytics settings has them.
DEFAULTS = Parameters()

CUSTOMERS_SQL = """
SELECT anonymous_id, purchases, round(revenue, 2) AS revenue,
       toUnixTimestamp64Milli(first_purchase_at) AS first_ms, toUnixTimestamp64Milli(last_purchase_at) AS last_ms
FROM footfall.customers FINAL WHERE anonymous_id LIKE '%{run}' AND purchases > 0 ORDER BY anonymous_id
"""
CUSTOMERS_REFERENCE = """
SELECT anonymous_id, toUInt32(count()) AS purchases, round(sum(revenue), 2) AS revenue,
       min(toUnixTimestamp64Milli(ts)) AS first_ms, max(toUnixTimestamp64Milli(ts)) AS last_ms
FROM footfall.events FINAL WHERE anonymous_id LIKE '%{run}' AND type = 'purchase' GROUP BY anonymous_id ORDER BY anonymous_id
"""
MEMBERS_SQL = """
SELECT anonymous_id, arraySort(groupArray(toString(segment))) AS segments FROM footfall.segment_membership FINAL
WHERE anonymous_id LIKE '%{run}' AND segment IN {segments} GROUP BY anonymous_id
"""
HISTORIES_SQL = """
SELECT e.anonymous_id AS anonymous_id, e.purchases AS purchases, e.revenue AS revenue, e.scroll AS scroll, s.sessions AS sessions
FROM (SELECT anonymous_id, countIf(type = 'purchase') AS purchases, sum(if(type = 'purchase', ifNull(revenue, 0), 0)) AS revenue,
             max(ifNull(scroll_pct, 0)) AS scroll
      FROM footfall.events FINAL WHERE anonymous_id LIKE '%{run}' GROUP BY anonymous_id) AS e
JOIN (SELECT anonymous_id, count() AS sessions FROM footfall.sessions FINAL WHERE anonymous_id LIKE '%{run}' GROUP BY anonymous_id) AS s
ON s.anonymous_id = e.anonymous_id
"""


def expected_segments(history: dict) -> list[str]:
    wanted = {
        "new": history["sessions"] <= 1,
        "returning": history["sessions"] >= 2,
        "purchasers": history["purchases"] >= 1,
        "repeat_buyers": history["purchases"] >= 2,
        "high_value": history["revenue"] >= DEFAULTS.high_value_revenue,
        "deep_scrollers": history["scroll"] >= DEFAULTS.deep_scroll_pct,
    }
    return sorted(name for name, member in wanted.items() if member)


def analytics_exact(pipeline: Pipeline, run: str) -> Callable[[], object]:
    """A check for `wait_for`: True once every buyer's customer row (purchases, revenue,
    first and last purchase) and every visitor's history segments equal the reference,
    else what differs."""

    def check() -> object:
        customers = pipeline.query(CUSTOMERS_SQL.format(run=run))
        reference = pipeline.query(CUSTOMERS_REFERENCE.format(run=run))
        members = {row["anonymous_id"]: row["segments"] for row in pipeline.query(MEMBERS_SQL.format(run=run, segments=HISTORY_SEGMENTS))}
        histories = pipeline.query(HISTORIES_SQL.format(run=run))
        expected = {row["anonymous_id"]: segments for row in histories if (segments := expected_segments(row))}
        differences: dict[str, object] = {}
        if customers != reference:
            differences["customers (seen, reference)"] = (customers, reference)
        wrong = {v: (members.get(v), expected.get(v)) for v in members.keys() | expected.keys() if members.get(v) != expected.get(v)}
        if wrong:
            differences["segments (seen, reference)"] = wrong
        return differences or True

    return check
