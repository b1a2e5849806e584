"""What the demo shop paid for its campaigns, as the CSV a site imports with `footfall costs
import`: one row per day and campaign of the demo's days, each campaign's daily cost a
little higher at the weekend. Pure, so the file and what it imports can be checked alike."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from footfall.costs.parse import HEADER
from footfall.demo.catalogue import CAMPAIGN_DAILY_COST, CAMPAIGNS, CURRENCY

WEEKEND_UPLIFT = 1.25
SATURDAY = 5


def daily_cost(campaign: str, day: date) -> float:
    base = CAMPAIGN_DAILY_COST[campaign]
    return round(base * WEEKEND_UPLIFT if day.weekday() >= SATURDAY else base, 2)


def campaign_costs_csv(last_day: date, days: int) -> str:
    """The costs of every demo campaign on each of the `days` days up to `last_day`."""
    if days < 1:
        raise ValueError("days must be 1 or more")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for offset in range(days - 1, -1, -1):
        day = last_day - timedelta(days=offset)
        for source, medium, name, _, _ in CAMPAIGNS:
            writer.writerow((day.isoformat(), source, medium, name, f"{daily_cost(name, day):.2f}", CURRENCY))
    return out.getvalue()
