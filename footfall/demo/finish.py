"""What the demo does once its traffic has landed, so every section of the report has data:
it imports what its campaigns cost, as a site does with `footfall costs import`, and fits
the lifetime value models, as `footfall clv fit` does, then waits until every buying
customer's row carries the fit's figures."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

from footfall.clv.commands import publish
from footfall.costs.parse import parse_costs
from footfall.costs.store import store_costs
from footfall.demo.costs import campaign_costs_csv
from footfall.local.processes import wait_until
from infra import config
from infra.clickhouse.literals import string_literal
from infra.clickhouse.warehouse import Query, Warehouse
from processors.analytics.clv.calibration import fit_site
from schemas.clv import ClvFit
from schemas.tables import DATABASE

FIT_TIMEOUT_S = 300.0


def import_demo_costs(warehouse: Warehouse, site_id: str, last_day: date, days: int, folder: Path) -> tuple[Path, int]:
    """Writes the demo's campaign costs as a costs file in `folder` (for a look at the
    format) and imports it: the file and how many rows it stored."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "campaign_costs.csv"
    path.write_text(campaign_costs_csv(last_day, days), encoding="utf-8")
    with path.open(newline="", encoding="utf-8") as lines:
        rows = parse_costs(lines, site_id, version=time.time_ns() // 1_000_000)
    store_costs(warehouse, rows)
    return path, len(rows)


def buyers_sql(site_id: str) -> str:
    """Buying visitors in the events, and in the customers table with and without a fit."""
    site = string_literal(site_id)
    return f"""
SELECT (SELECT uniqExact(anonymous_id) FROM {DATABASE}.events FINAL WHERE site_id = {site} AND type = 'purchase') AS bought,
       uniqExact(anonymous_id) AS buyers, countIf(p_alive IS NOT NULL) AS fitted, count() AS rows
FROM {DATABASE}.customers FINAL
WHERE site_id = {site} AND purchases > 0 AND is_deleted = 0"""


def fit_lifetime_value(settings: config.Settings, query: Query, site_id: str, until: date) -> ClvFit:
    """Fits the site's models on its purchases up to `until`, publishes the fit, and waits
    until the processors have given it to the row of every visitor who bought."""
    fit = fit_site(query, site_id, until, time.time_ns() // 1_000_000)
    publish(settings, [fit])

    def every_buyer_fitted() -> bool:
        row = query(buyers_sql(site_id))[0]
        return row["buyers"] == row["bought"] and row["fitted"] == row["rows"]

    wait_until(every_buyer_fitted, FIT_TIMEOUT_S, "P(alive) on every buying customer's row")
    return fit
