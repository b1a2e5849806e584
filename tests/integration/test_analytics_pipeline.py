"""Segments, funnels and customer rows through the real pipeline: HTTP → Kafka → Faust →
sink → ClickHouse, with the worker killed (SIGKILL) and restarted halfway.

A small population with known behaviours (buyers, a repeat buyer who identifies and
answers surveys, a cart abandoner, a browser, a customer known only from orders
backfilled months late) lands in the expected segments, a geographic one included (the
country the collector found for the address a visitor sent from); the time-driven segments (an
abandoned cart, at risk, churned) are entered at the very moment they were due, with
delays of seconds configured for the test; funnel progress equals ClickHouse's own
windowFunnel over footfall.events, and customers' purchases, AOV, RFM scores and lifetime
value equal a reference computed in SQL from the purchases in footfall.events.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.support.pipeline import Pipeline, new_broker, start_pipeline
from tests.support.processes import kill
from tests.support.waiting import wait_for

SITE, KEY = "shop", "shop_key"
CART_HOURS, AT_RISK_DAYS, CHURN_DAYS = 0.0025, 0.00015, 0.0003
CONFIG = f"""
[[sites]]
id = "{SITE}"
write_key = "{KEY}"

[sites.analytics]
cart_abandonment_hours = {CART_HOURS}
at_risk_days = {AT_RISK_DAYS}
churn_days = {CHURN_DAYS}

[[sites.segments]]
name = "from_britain"
all = [{{field = "country", op = "eq", value = "GB"}}]

[[sites.funnels]]
name = "checkout"
window_s = 600
steps = [{{type = "page_view", field = "path", op = "eq", value = "/product"}}, {{event = "Product Added"}}, {{type = "purchase"}}]
"""
BRITISH_ADDRESS, AMERICAN_ADDRESS = "86.128.12.77", "73.0.1.1"
FUNNEL_SQL = "windowFunnel(600000)(toUInt64(toUnixTimestamp64Milli(ts)), type = 'page_view' AND path = '/product', name = 'Product Added', type = 'purchase')"


def due(anchor_ms: int, threshold_ms: float) -> int:
    """When `elapsed >= threshold` first holds, in whole milliseconds."""
    return anchor_ms + math.ceil(threshold_ms)


@dataclass
class Population:
    run: str
    start: datetime

    def visitor(self, name: str) -> str:
        return f"{name}-{self.run}"

    def msg(self, number: int, name: str, seconds: float, kind: str = "page", **extra) -> dict:
        base = {
            "messageId": f"{self.run}-{name}-{number}",
            "anonymousId": self.visitor(name),
            "timestamp": (self.start + timedelta(seconds=seconds)).isoformat(),
        }
        if kind == "page":
            return {**base, "type": "page", "properties": {"path": extra.pop("path", "/")}, **extra}
        if kind == "identify":
            return {**base, "type": "identify", **extra}
        return {**base, "type": "track", "event": kind, **extra}

    def order(self, number: int, name: str, seconds: float, revenue: float) -> dict:
        properties = {"order_id": f"o-{self.run}-{name}-{number}", "revenue": revenue, "currency": "EUR"}
        return self.msg(number, name, seconds, "Order Completed", properties=properties)

    def survey(self, number: int, name: str, seconds: float, survey: str, score: int) -> dict:
        return self.msg(number, name, seconds, "Survey Responded", properties={"survey": survey, "score": score})

    def before_the_crash(self) -> list[dict]:
        months = -100 * 86_400
        return [
            self.msg(1, "buyer", 0, path="/product", context={"ip": BRITISH_ADDRESS}),
            self.msg(2, "buyer", 5, "Product Added", properties={"product_id": "p1"}),
            self.msg(1, "repeat", 0, path="/"),
            self.order(2, "repeat", 10, 30.0),
            self.order(3, "repeat", months, 20.0),  # a purchase backfilled months late
            self.msg(1, "abandoner", 1, path="/product"),
            self.msg(2, "abandoner", 3, "Product Added", properties={"product_id": "p2"}),
            self.order(1, "old", months - 86_400 * 20, 15.0),
            self.order(2, "old", months, 25.0),
        ]

    def after_the_crash(self) -> list[dict]:
        return [
            self.order(3, "buyer", 8, 50.0),
            self.survey(4, "buyer", 9, "nps", 9),
            self.order(4, "repeat", 20, 70.0),
            self.survey(5, "repeat", 21, "nps", 10),
            self.survey(6, "repeat", 15, "nps", 3),  # arrives last, but its time is earlier
            self.msg(7, "repeat", 22, "identify", userId=f"U-{self.run}", traits={"plan": "pro"}),
            self.msg(1, "browser", 2, path="/product", context={"ip": AMERICAN_ADDRESS}),
            self.order(3, "old", -90 * 86_400, 40.0),  # backfilled after the crash too
        ]


def post(url: str, messages: list[dict]) -> None:
    response = httpx.post(f"{url}/v1/batch", json={"batch": messages}, auth=(KEY, ""), timeout=30)
    assert response.status_code == 200 and response.json().get("accepted", len(messages)) == len(messages), response.text


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Pipeline, Population]]:
    """One pipeline on a private broker; the population sent in two halves with a worker
    SIGKILLed and replaced between them, then every event, customer and timer awaited."""
    folder: Path = tmp_path_factory.mktemp("analytics")
    config = folder / "footfall.toml"
    config.write_text(CONFIG)
    broker = new_broker(folder / "broker")
    pipeline = start_pipeline(
        broker, folder / "stack",
        FOOTFALL_CONFIG=str(config),
        FOOTFALL_PROCESSOR_SESSION_TIMEOUT_S="8",
        FOOTFALL_SEGMENT_CHECK_S="1",
        FOOTFALL_RFM_REFRESH_S="2",
    )
    try:
        population = Population(uuid.uuid4().hex[:8], datetime.now(UTC).replace(microsecond=0))
        first, second = population.before_the_crash(), population.after_the_crash()
        post(pipeline.collector.url, first)
        wait_for(customers_of(pipeline, population, 4), 120, "customers of the first half")
        kill(pipeline.workers[0])
        pipeline.start_worker()
        post(pipeline.collector.url, second)
        wait_for(customers_of(pipeline, population, 5, purchases=7), 180, "customers of both halves")
        yield pipeline, population
    finally:
        pipeline.stop()
        broker.stop()


def customers_of(pipeline: Pipeline, population: Population, expected: int, purchases: int | None = None):
    def check():
        row = pipeline.query(
            f"SELECT count() AS n, sum(purchases) AS purchases FROM footfall.customers FINAL "
            f"WHERE site_id = '{SITE}' AND anonymous_id LIKE '%{population.run}'"
        )[0]
        return True if row["n"] == expected and purchases in (None, row["purchases"]) else row
    return check


def members(pipeline: Pipeline, population: Population) -> dict[str, set[str]]:
    rows = pipeline.query(
        f"SELECT anonymous_id, groupArray(segment) AS segments FROM footfall.segment_membership FINAL "
        f"WHERE site_id = '{SITE}' AND anonymous_id LIKE '%{population.run}' GROUP BY anonymous_id"
    )
    return {row["anonymous_id"].rsplit("-", 1)[0]: set(row["segments"]) for row in rows}


def last_ms(pipeline: Pipeline, visitor: str, where: str = "1") -> int:
    return pipeline.query(
        f"SELECT toUnixTimestamp64Milli(max(ts)) AS t FROM footfall.events FINAL WHERE anonymous_id = '{visitor}' AND {where}"
    )[0]["t"]


def changes(pipeline: Pipeline, visitor: str) -> list[tuple[str, str, int]]:
    rows = pipeline.query(
        f"SELECT segment, toString(change) AS change, toUnixTimestamp64Milli(at) AS at FROM footfall.segment_changes FINAL "
        f"WHERE anonymous_id = '{visitor}' ORDER BY at, version, segment"
    )
    return [(row["segment"], row["change"], row["at"]) for row in rows]


def test_time_driven_segments_are_entered_when_due(landed: tuple[Pipeline, Population]) -> None:
    pipeline, population = landed
    final = {
        "buyer": {"new", "purchasers", "churned", "from_britain"},
        "repeat": {"returning", "purchasers", "repeat_buyers", "churned"},  # the backfilled order is a second session
        "abandoner": {"new", "cart_abandoners"},
        "browser": {"new"},
        "old": {"returning", "purchasers", "repeat_buyers", "churned"},
    }

    def settled():
        seen = {visitor: {s for s in segments if not s.startswith("rfm_")} for visitor, segments in members(pipeline, population).items()}
        return True if seen == final else seen

    wait_for(settled, 120, "segments after the timers")
    places = pipeline.query(
        f"SELECT anonymous_id, groupUniqArray(country) AS countries FROM footfall.events FINAL "
        f"WHERE anonymous_id LIKE '%{population.run}' AND country != '' GROUP BY anonymous_id"
    )
    assert {row["anonymous_id"].rsplit("-", 1)[0]: row["countries"] for row in places} == {"buyer": ["GB"], "browser": ["US"]}
    rules = pipeline.query(
        f"SELECT DISTINCT rule FROM footfall.segment_changes FINAL "
        f"WHERE segment = 'from_britain' AND anonymous_id = '{population.visitor('buyer')}'"
    )
    assert [row["rule"] for row in rules] == ['country = "GB"']
    buyer = population.visitor("buyer")
    seen_ms = last_ms(pipeline, buyer)
    day_ms = 86_400_000
    history = changes(pipeline, buyer)
    assert ("at_risk", "entered", due(seen_ms, AT_RISK_DAYS * day_ms)) in history
    assert ("at_risk", "left", due(seen_ms, CHURN_DAYS * day_ms)) in history
    assert ("churned", "entered", due(seen_ms, CHURN_DAYS * day_ms)) in history
    abandoner = population.visitor("abandoner")
    cart_ms = last_ms(pipeline, abandoner, "name = 'Product Added'")
    assert ("cart_abandoners", "entered", due(cart_ms, CART_HOURS * 3_600_000)) in changes(pipeline, abandoner)


def test_funnel_progress_equals_clickhouses_window_funnel(landed: tuple[Pipeline, Population]) -> None:
    pipeline, population = landed
    reference = pipeline.query(
        f"SELECT anonymous_id, {FUNNEL_SQL} AS level FROM footfall.events FINAL "
        f"WHERE site_id = '{SITE}' AND anonymous_id LIKE '%{population.run}' GROUP BY anonymous_id HAVING level > 0"
    )
    progress = pipeline.query(
        f"SELECT anonymous_id, level, length(step_at) AS steps FROM footfall.funnel_progress FINAL "
        f"WHERE site_id = '{SITE}' AND funnel = 'checkout' AND anonymous_id LIKE '%{population.run}'"
    )
    assert {r["anonymous_id"]: r["level"] for r in progress} == {r["anonymous_id"]: r["level"] for r in reference}
    assert {r["anonymous_id"].rsplit("-", 1)[0]: r["level"] for r in progress} == {"buyer": 3, "abandoner": 2, "browser": 1}
    daily = pipeline.query(
        f"SELECT step, visitors, from_previous FROM footfall.funnel_daily WHERE site_id = '{SITE}' AND funnel = 'checkout' "
        f"AND day = toDate('{population.start.date()}') ORDER BY step"
    )
    assert [(r["step"], r["visitors"], round(r["from_previous"], 3)) for r in daily] == [(1, 3, 1.0), (2, 2, 0.667), (3, 1, 0.5)]


CUSTOMERS_REFERENCE = """
WITH orders AS (
    SELECT anonymous_id, count() AS purchases, sum(revenue) AS revenue,
           min(toUnixTimestamp64Milli(ts)) AS first_ms, max(toUnixTimestamp64Milli(ts)) AS last_ms
    FROM footfall.events FINAL WHERE site_id = '{site}' AND type = 'purchase' GROUP BY anonymous_id
),
cuts AS (
    SELECT quantilesExactInclusive(0.2, 0.4, 0.6, 0.8)(toFloat64(last_ms)) AS r,
           quantilesExactInclusive(0.2, 0.4, 0.6, 0.8)(toFloat64(purchases)) AS f,
           quantilesExactInclusive(0.2, 0.4, 0.6, 0.8)(revenue) AS m
    FROM orders
)
SELECT c.customer_id AS customer_id, o.purchases AS purchases, o.revenue AS revenue, o.revenue / o.purchases AS aov,
       o.first_ms AS first_ms, o.last_ms AS last_ms,
       1 + arrayCount(x -> o.last_ms > x, cuts.r) AS r, 1 + arrayCount(x -> o.purchases > x, cuts.f) AS f,
       1 + arrayCount(x -> o.revenue > x, cuts.m) AS m
FROM orders AS o CROSS JOIN cuts
JOIN (SELECT * FROM footfall.customers FINAL) AS c ON c.anonymous_id = o.anonymous_id
WHERE o.anonymous_id LIKE '%{run}'
ORDER BY customer_id
"""
CUSTOMERS_SQL = """
SELECT customer_id, purchases, revenue, aov, toUnixTimestamp64Milli(first_purchase_at) AS first_ms,
       toUnixTimestamp64Milli(last_purchase_at) AS last_ms, r_score AS r, f_score AS f, m_score AS m, clv_predicted,
       clv_historical, nps, rfm_segment
FROM footfall.customers FINAL WHERE site_id = '{site}' AND anonymous_id LIKE '%{run}' AND purchases > 0
ORDER BY customer_id
"""


def test_customers_equal_a_reference_computed_from_the_purchases(landed: tuple[Pipeline, Population]) -> None:
    pipeline, population = landed
    names = {"site": SITE, "run": population.run}
    keys = ("customer_id", "purchases", "revenue", "aov", "first_ms", "last_ms", "r", "f", "m")

    def scored():
        rows = pipeline.query(CUSTOMERS_SQL.format(**names))
        return True if len(rows) == 3 and all(row["r"] is not None for row in rows) else rows

    wait_for(scored, 60, "RFM scores for every buyer")
    reference = pipeline.query(CUSTOMERS_REFERENCE.format(**names))
    rows = pipeline.query(CUSTOMERS_SQL.format(**names))
    assert [{k: row[k] for k in keys} for row in rows] == [{k: row[k] for k in keys} for row in reference]
    for row in rows:
        assert row["clv_predicted"] is None  # no lifetime value model has been fitted for the site
        assert row["clv_historical"] == row["revenue"]
    by_id = {row["customer_id"]: row for row in rows}
    repeat = by_id[f"U-{population.run}"]  # identified: one row, under the user id
    assert (repeat["purchases"], repeat["revenue"], repeat["nps"]) == (3, 120.0, 10)
    assert by_id[population.visitor("old")]["purchases"] == 3  # every backfilled order counted once
    assert by_id[population.visitor("buyer")]["nps"] == 9
    assert population.visitor("repeat") not in {
        row["customer_id"] for row in pipeline.query(f"SELECT customer_id FROM footfall.customers FINAL WHERE site_id = '{SITE}'")
    }
