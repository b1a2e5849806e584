"""What landed in ClickHouse, in a few figures: what `make run` prints after the demo."""

from __future__ import annotations

from dataclasses import dataclass

from infra.clickhouse.warehouse import Query
from schemas.tables import DATABASE

SUMMARY_SQL = f"""
SELECT
    (SELECT count() FROM {DATABASE}.events FINAL) AS events,
    (SELECT uniqExact(anonymous_id) FROM {DATABASE}.events FINAL) AS visitors,
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
    sessions: int
    bounces: int
    revenue: float
    purchases: int

    @property
    def bounce_rate(self) -> float:
        return self.bounces / self.sessions if self.sessions else 0.0

    def lines(self) -> list[str]:
        return [
            f"events      {self.events:,}",
            f"visitors    {self.visitors:,}",
            f"sessions    {self.sessions:,}  (bounce rate {self.bounce_rate:.1%})",
            f"purchases   {self.purchases:,}  (revenue {self.revenue:,.2f})",
        ]


def summarise(query: Query) -> Summary:
    row = query(SUMMARY_SQL)[0]
    return Summary(**{key: row[key] for key in Summary.__dataclass_fields__})


def event_count(query: Query) -> int:
    return query(f"SELECT count() AS n FROM {DATABASE}.events FINAL")[0]["n"]
