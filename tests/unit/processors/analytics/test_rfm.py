"""RFM, AOV and lifetime value: the stream's figures against a reference computed another
way, in SQL by the ClickHouse engine (chDB) from the raw purchases: for lifetime value, the
calibration summary (purchase days, recency, age and repeat spend) the model is given."""

from __future__ import annotations

import random
import re
from functools import reduce

import chdb
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processors.analytics import rfm
from processors.analytics.clv.bgnbd import BgNbd
from processors.analytics.clv.gamma_gamma import GammaGamma
from processors.analytics.clv.summary import Customer
from processors.analytics.clv.value import Fitted, Horizon, predict
from processors.analytics.customer_rows import customer_row
from processors.analytics.profiles import CustomerProfile, update

DAY = 86_400_000
NOW = 1_800_000_000_000
# The CDNOW fit, in days.
FITTED = Fitted(BgNbd(r=0.2426, alpha=30.896, a=0.7929, b=2.426), GammaGamma(p=6.2495, q=3.7442, v=15.4435))
HORIZON = Horizon()

# Customers as generated below: each a list of purchases (ts_ms, revenue).
Purchases = list[tuple[int, float]]

# The usual segment map over the "RF" score pair, as regular expressions; "lost" is
# split off the bottom corner of hibernating.
RF_PATTERNS = (
    (r"11", "lost"),
    (r"[1-2][1-2]", "hibernating"),
    (r"[1-2][3-4]", "at_risk"),
    (r"[1-2]5", "cant_lose_them"),
    (r"3[1-2]", "about_to_sleep"),
    (r"33", "need_attention"),
    (r"[3-4][4-5]", "loyal"),
    (r"41", "promising"),
    (r"51", "new_customers"),
    (r"[4-5][2-3]", "potential_loyalists"),
    (r"5[4-5]", "champions"),
)


def rf_group(r: int, f: int) -> str:
    return next(name for pattern, name in RF_PATTERNS if re.fullmatch(pattern, f"{r}{f}"))


def profiles_from(customers: list[Purchases], seed: random.Random) -> list[CustomerProfile]:
    """Each customer's orders fed in a shuffled order, as backfills and late events come."""
    result = []
    for c, purchases in enumerate(customers):
        events = [
            ({"event_id": f"{c}-{i}", "type": "purchase", "name": "Order Completed", "revenue": revenue, "order_id": f"o{c}-{i}"}, ts)
            for i, (ts, revenue) in enumerate(purchases)
        ]
        seed.shuffle(events)
        result.append(reduce(lambda p, item: update(p, *item), events, CustomerProfile("demo", f"c{c}")))
    return result


def reference_rows(customers: list[Purchases]) -> dict[int, dict]:
    """Per customer, from the raw purchases, in SQL: the figures, the quintile scores over
    the customers who bought, AOV and lifetime value."""
    rows = ", ".join(f"({c}, {ts}, {revenue})" for c, purchases in enumerate(customers) for ts, revenue in purchases)
    sql = f"""
    WITH
        per_customer AS (
            SELECT c, count() AS n, sum(revenue) AS total, min(ts) AS first, max(ts) AS last,
                   groupArray((intDiv(ts, {DAY}), revenue)) AS bought
            FROM values('c UInt32, ts Int64, revenue Float64', {rows}) GROUP BY c
        ),
        cuts AS (
            SELECT quantilesExactInclusive(0.2, 0.4, 0.6, 0.8)(toFloat64(last)) AS rq,
                   quantilesExactInclusive(0.2, 0.4, 0.6, 0.8)(toFloat64(n)) AS fq,
                   quantilesExactInclusive(0.2, 0.4, 0.6, 0.8)(total) AS mq
            FROM per_customer
        )
    SELECT c, n, total, first, last,
           ({NOW} - last) / {DAY} AS recency_days,
           1 + arrayCount(q -> last > q, rq) AS r,
           1 + arrayCount(q -> n > q, fq) AS f,
           1 + arrayCount(q -> total > q, mq) AS m,
           total / n AS aov,
           length(arrayDistinct(arrayMap(p -> p.1, bought))) - 1 AS x,
           intDiv(last, {DAY}) - intDiv(first, {DAY}) AS t_x,
           intDiv({NOW}, {DAY}) - intDiv(first, {DAY}) AS age,
           total - arraySum(arrayMap(p -> if(p.1 = intDiv(first, {DAY}), p.2, 0), bought)) AS repeat_spend,
           if(x > 0, repeat_spend / x, NULL) AS monetary
    FROM per_customer CROSS JOIN cuts
    """
    result = chdb.query(sql, "JSONEachRow").bytes().decode()
    return {row["c"]: row for row in map(orjson.loads, result.splitlines())}


purchase = st.tuples(st.integers(-700, 0).map(lambda d: NOW + d * DAY // 2), st.integers(1, 400).map(float))
populations = st.lists(st.lists(purchase, min_size=1, max_size=6), min_size=1, max_size=30)


@settings(max_examples=40, deadline=None)
@given(customers=populations, seed=st.randoms())
def test_customer_rows_equal_the_sql_reference(customers: list[Purchases], seed: random.Random) -> None:
    profiles = profiles_from(customers, seed)
    bounds = rfm.boundaries(profiles)
    expected = reference_rows(customers)
    for c, profile in enumerate(profiles):
        row, ref = customer_row(profile, bounds, NOW, FITTED, HORIZON), expected[c]
        assert (row.purchases, row.revenue) == (ref["n"], ref["total"])
        assert (row.first_purchase_ms, row.last_purchase_ms) == (ref["first"], ref["last"])
        assert row.recency_days == pytest.approx(ref["recency_days"], rel=1e-12)
        assert (row.r_score, row.f_score, row.m_score) == (ref["r"], ref["f"], ref["m"])
        assert row.rfm_segment == rf_group(ref["r"], ref["f"])
        assert row.aov == pytest.approx(ref["aov"], rel=1e-12)
        assert row.clv_historical == ref["total"]
        predicted = predict(FITTED, Customer(ref["x"], ref["t_x"], ref["age"], ref["monetary"]), HORIZON)
        assert row.p_alive == pytest.approx(predicted.p_alive, rel=1e-9)
        assert row.expected_purchases_90d == pytest.approx(predicted.expected_purchases_90d, rel=1e-9)
        assert row.expected_purchases_365d == pytest.approx(predicted.expected_purchases_365d, rel=1e-9)
        assert row.clv_predicted == pytest.approx(predicted.clv, rel=1e-9)


def test_every_rf_pair_has_the_standard_group() -> None:
    assert {(r, f): rfm.GROUPS[(r, f)] for r in range(1, 6) for f in range(1, 6)} == {
        (r, f): rf_group(r, f) for r in range(1, 6) for f in range(1, 6)
    }
    assert len(rfm.GROUP_NAMES) == 11


def test_one_time_buyers_score_lowest_on_frequency() -> None:
    # Most customers bought once: the lower cut points are all 1, and 1 is above none.
    cuts = rfm.quintile_cuts([1, 1, 1, 1, 1, 1, 2, 3, 5, 8])
    assert rfm.score(1, cuts) == 1
    assert rfm.score(8, cuts) == 5


def test_no_scores_without_purchases() -> None:
    assert rfm.boundaries([CustomerProfile("demo", "a")]) is None
    bounds = rfm.Boundaries((1.0,) * 4, (1.0,) * 4, (1.0,) * 4)
    assert rfm.scores(CustomerProfile("demo", "a"), bounds) is None
    row = customer_row(CustomerProfile("demo", "a"), bounds, NOW, FITTED, HORIZON)
    assert (row.aov, row.recency_days, row.rfm_segment, row.clv_predicted, row.p_alive) == (None, None, None, None, None)


def test_no_predicted_value_before_the_sites_first_fit() -> None:
    buyer = update(CustomerProfile("demo", "a"), {"event_id": "e", "type": "purchase", "revenue": 120.0}, NOW - DAY)
    row = customer_row(buyer, None, NOW, None, HORIZON)
    assert (row.clv_historical, row.clv_predicted, row.p_alive, row.expected_purchases_365d) == (120.0, None, None, None)
    fitted = customer_row(buyer, None, NOW, FITTED, HORIZON)
    assert fitted.p_alive == 1.0 and fitted.clv_predicted is not None and fitted.clv_predicted > 0
