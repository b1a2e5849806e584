"""Personas as readable tables, from their rows (footfall.personas, or a fit about to be
stored): the figures of each side by side, then each one's portrait. Values come from
what sites sent (traits, pages, comments' words): every cell is text, never markup."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from rich.console import Group, RenderableType

from footfall.reports.sections import number, table, titled

Row = Mapping[str, Any]
FIGURES = ("id", "persona", "customers", "share", "revenue", "conversion", "AOV", "purchases/customer",
           "CLV so far", "CLV predicted", "NPS")
PORTRAIT = ("id", "demographics", "country", "device", "channel", "top pages", "problems (feedback themes)")


def percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def shares(values: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(f"{value['value']} {percent(value['share'])}" for value in values) or "–"


def demographics(found: Mapping[str, Any]) -> str:
    lines = [f"{name}: {value:.0f} (median)" if isinstance(value, (int, float)) else f"{name}: {shares(value)}"
             for name, value in found.items()]
    return "\n".join(lines) or "–"


def problems(found: Sequence[Mapping[str, Any]]) -> str:
    return "\n".join(f"{', '.join(problem['key_words']) or '–'} ({problem['comments']} comments, "
                     f"{problem['detractors']} detractors)" for problem in found) or "–"


def figures_row(row: Row) -> list[str]:
    return [str(row["persona_id"]), row["name"], f"{row['customers']:,}", percent(row["customer_share"]),
            percent(row["revenue_share"]), percent(row["conversion"]), number(row["aov"]),
            number(row["purchase_frequency"]), number(row["clv_historical"]), number(row["clv_predicted"]),
            number(row["nps"], 0)]


def portrait_row(row: Row) -> list[str]:
    drawn = orjson.loads(row["portrait"])
    return [str(row["persona_id"]), demographics(drawn["demographics"]), shares(drawn["countries"]),
            shares(drawn["devices"]), shares(drawn["channels"]), shares(drawn["top_pages"]), problems(drawn["problems"])]


def personas_tables(site: str, rows: Sequence[Row]) -> RenderableType:
    """A site's personas (rows of one fit), under a title."""
    first = rows[0]
    caption = (f"{sum(row['customers'] for row in rows):,} customers, fitted {str(first['fitted_at'])[:19]}; "
               f"{first['criterion']}; conversion: their sessions with a purchase; NPS: % promoters - % detractors")
    figures = table(FIGURES, [figures_row(row) for row in rows], caption)
    portraits = table(PORTRAIT, [portrait_row(row) for row in rows],
                      "shares of the persona's members; top pages: the share of members who viewed each")
    return titled(f"Personas of {site}", Group(figures, portraits))
