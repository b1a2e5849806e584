"""What personas read in ClickHouse: each customer of a site with their sessions, device,
country, first channel, demographic traits, most viewed pages and survey comments, joined
there by the visitor (the anonymous id, else the user id); and the site's latest fit, whose
centres the next fit keeps the ids of."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import orjson

from footfall.feedback.comments import comments_sql
from footfall.feedback.model import Comment
from footfall.personas.model import Centre, CustomerFacts, TraitValue
from footfall.reports.queries import Scope
from infra.clickhouse.warehouse import Query
from schemas.tables import DATABASE
from schemas.traits import demographic_value
from sinks.rows import quote

# The customers grouped at most, the most recently changed first: clustering costs memory
# and time in proportion to them. A customer bought or said who they are; a visitor who did
# neither has a row too, and is left out.
MAX_CUSTOMERS = 50_000
# Identify calls whose traits are merged per visitor (the latest win), and pages kept.
MAX_IDENTIFIES = 20
TOP_PAGES = 5
VISITOR = "if(anonymous_id != '', anonymous_id, user_id)"
NO_CHANNEL = "direct"
EVERYTHING = date(1970, 1, 1)


def customers_sql(site: str, limit: int = MAX_CUSTOMERS) -> str:
    where = f"site_id = {quote(site)}"
    return f"""
SELECT c.customer_id AS customer_id, c.anonymous_id AS visitor, c.purchases AS purchases, c.revenue AS revenue,
       c.clv_historical AS clv_historical, c.clv_predicted AS clv_predicted, c.nps AS nps,
       s.sessions AS sessions, s.converting AS converting,
       e.device AS device, e.country AS country, e.channel AS channel, e.traits AS traits, e.pages AS pages
FROM (SELECT customer_id, anonymous_id, purchases, revenue, clv_historical, clv_predicted, nps
      FROM {DATABASE}.customers FINAL WHERE {where} AND is_deleted = 0 AND (purchases > 0 OR user_id != '')
      ORDER BY updated_at DESC, customer_id LIMIT {int(limit)}) AS c
LEFT JOIN (SELECT {VISITOR} AS visitor, count() AS sessions, countIf(purchases > 0) AS converting
           FROM {DATABASE}.sessions FINAL WHERE {where} AND is_deleted = 0 GROUP BY visitor) AS s ON s.visitor = c.anonymous_id
LEFT JOIN (SELECT {VISITOR} AS visitor,
                  argMaxIf(device, ts, device != '') AS device,
                  argMaxIf(country, ts, country != '') AS country,
                  argMinIf(concat(utm_source, ' / ', utm_medium), ts, utm_source != '') AS channel,
                  arrayMap(x -> x.2, arraySlice(arraySort(x -> x.1, groupArrayIf((ts, traits), traits != '')), -{MAX_IDENTIFIES})) AS traits,
                  topKIf({TOP_PAGES})(path, type = 'page_view' AND path != '') AS pages
           FROM {DATABASE}.events FINAL WHERE {where} GROUP BY visitor) AS e ON e.visitor = c.anonymous_id
ORDER BY customer_id"""


def merged_traits(texts: Sequence[str]) -> dict[str, TraitValue]:
    """The traits of a visitor's identify calls, oldest first, merged: the latest value wins.
    Each is bounded again, as a row may come from anywhere."""
    merged: dict[str, TraitValue] = {}
    for text in texts:
        try:
            traits = orjson.loads(text)
        except orjson.JSONDecodeError:
            continue
        if isinstance(traits, dict):
            for name, value in traits.items():
                kept = demographic_value(value)
                if kept is not None:
                    merged[str(name)] = kept
    return merged


def number(value: Any, default: float = 0.0) -> float:
    return default if value is None else float(value)


def facts_of(row: Mapping[str, Any], comments: Sequence[Comment]) -> CustomerFacts:
    return CustomerFacts(
        customer_id=row["customer_id"],
        purchases=int(row["purchases"]),
        revenue=number(row["revenue"]),
        clv_historical=number(row["clv_historical"]),
        clv_predicted=None if row["clv_predicted"] is None else float(row["clv_predicted"]),
        nps=None if row["nps"] is None else int(row["nps"]),
        sessions=int(row["sessions"] or 0),
        converting_sessions=int(row["converting"] or 0),
        device=row["device"] or None,
        country=row["country"] or None,
        channel=row["channel"] or NO_CHANNEL,
        traits=merged_traits(row["traits"] or ()),
        pages=tuple(row["pages"] or ()),
        comments=tuple(comments),
    )


def comments_by_visitor(query: Query, site: str) -> dict[str, list[Comment]]:
    found: dict[str, list[Comment]] = {}
    for row in query(comments_sql(Scope(site, EVERYTHING), None)):
        at = datetime.fromtimestamp(int(row["at_ms"]) / 1000, UTC)
        found.setdefault(row["visitor"], []).append(Comment(row["comment"], row["survey"], int(row["score"]), at))
    return found


def read_customers(query: Query, site: str) -> list[CustomerFacts]:
    """The site's customers, with their comments."""
    comments = comments_by_visitor(query, site)
    return [facts_of(row, comments.get(row["visitor"], ())) for row in query(customers_sql(site))]


def previous_sql(site: str) -> str:
    return f"""
SELECT persona_id, features, centroid FROM {DATABASE}.personas FINAL
WHERE site_id = {quote(site)} AND fitted_at = (SELECT max(fitted_at) FROM {DATABASE}.personas WHERE site_id = {quote(site)})
ORDER BY persona_id"""


def read_previous(query: Query, site: str) -> list[Centre]:
    """The centres of the site's latest fit; none before its first."""
    return [Centre(int(row["persona_id"]), tuple(row["features"]), tuple(float(value) for value in row["centroid"]))
            for row in query(previous_sql(site))]


def latest_sql(scope: Scope) -> str:
    """Each site's personas of its latest fit, largest first."""
    return f"""
SELECT * FROM {DATABASE}.personas FINAL
WHERE {scope.site_filter}
  AND (site_id, fitted_at) IN (SELECT site_id, max(fitted_at) FROM {DATABASE}.personas WHERE {scope.site_filter} GROUP BY site_id)
ORDER BY site_id, customers DESC, persona_id"""


def latest_by_site(query: Query, scope: Scope) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for row in query(latest_sql(scope)):
        found.setdefault(row["site_id"], []).append(row)
    return found
