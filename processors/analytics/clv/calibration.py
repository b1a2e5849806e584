"""A site's calibration from footfall.events: the statement that summarises each customer's
purchases in ClickHouse (one row a customer, never their events), and the fit over its rows.

A customer is the user id of a purchase, or its anonymous id when it has none, as the
customers table names them; bots' purchases are left out. Pure but for the `query` it is
given, so the command and the refit timer fit the same way, through the sink or not.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from infra.clickhouse.literals import string_literal
from processors.analytics.clv import bgnbd, gamma_gamma, summary
from processors.analytics.clv.fitting import FitError
from schemas.clv import ClvFit
from schemas.tables import DATABASE

Query = Callable[[str], list[dict[str, Any]]]


def calibration_sql(site_id: str, until: date) -> str:
    """Per customer: the first and last purchase day (days since the epoch), the number of
    days they bought on and the spend of every day but the first."""
    return f"""
SELECT customer, min(day) AS first_day, max(day) AS last_day, count() AS days,
       sum(spend) - argMin(spend, day) AS repeat_spend
FROM
(
    SELECT if(user_id != '', user_id, anonymous_id) AS customer, toInt32(toDate32(ts)) AS day,
           sum(ifNull(revenue, 0)) AS spend
    FROM {DATABASE}.events FINAL
    WHERE site_id = {string_literal(site_id)} AND type = 'purchase' AND bot = 0 AND toDate32(ts) <= toDate32({string_literal(until.isoformat())})
    GROUP BY customer, day
)
GROUP BY customer"""


def fit_site(query: Query, site_id: str, until: date, fitted_at_ms: int) -> ClvFit:
    """Both models fitted on the site's purchases up to and including `until`; FitError
    with the reason when they cannot be."""
    end_day = summary.day_number(until)
    rows = query(calibration_sql(site_id, until))
    customers = [c for row in rows if (c := summary.customer(
        int(row["first_day"]), int(row["last_day"]), int(row["days"]), float(row["repeat_spend"]), end_day)) is not None]
    if not customers:
        raise FitError(f"site {site_id} has no purchases up to {until.isoformat()}")
    data = summary.calibration(customers)
    purchases, log_likelihood = bgnbd.fit(data.x, data.t_x, data.T)
    spend, _ = gamma_gamma.fit(data.repeat_x, data.repeat_monetary)
    return ClvFit(
        site_id=site_id, fitted_at_ms=fitted_at_ms, calibration_end=until, customers=data.customers,
        r=purchases.r, alpha=purchases.alpha, a=purchases.a, b=purchases.b, p=spend.p, q=spend.q, v=spend.v,
        log_likelihood=log_likelihood,
    )
