"""The personas of a site side by side in a PNG: a column a persona, its share of customers
and of revenue as bars, and its portrait beneath, from the same rows the tables show."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from textwrap import fill

import orjson
from matplotlib.figure import Figure

from footfall.personas.tables import percent
from footfall.reports.sections import number

DPI = 80
WRAP = 34
COLOURS = ("#3b6ea5", "#d08c2d", "#4c9a5b", "#a5473b", "#7a5ba5", "#3b9aa5", "#8c8c8c", "#b5a53b")


def top(values: Sequence[Mapping[str, Any]], count: int = 2) -> str:
    return ", ".join(f"{value['value']} {percent(value['share'])}" for value in values[:count]) or "–"


def caption(row: Mapping[str, Any]) -> str:
    drawn = orjson.loads(row["portrait"])
    traits = [f"{name}: {value:.0f}" if isinstance(value, (int, float)) else f"{name}: {top(value, 1)}"
              for name, value in drawn["demographics"].items()]
    worries = [", ".join(problem["key_words"][:3]) for problem in drawn["problems"][:2]]
    lines = [
        f"{row['customers']:,} customers",
        f"conversion {percent(row['conversion'])} · AOV {number(row['aov'])}",
        f"{number(row['purchase_frequency'])} purchases each",
        f"CLV {number(row['clv_historical'])} so far, {number(row['clv_predicted'])} predicted",
        f"NPS {number(row['nps'], 0)}",
        "",
        *traits,
        f"country: {top(drawn['countries'])}",
        f"device: {top(drawn['devices'])}",
        f"channel: {top(drawn['channels'], 1)}",
        f"pages: {top(drawn['top_pages'], 3)}",
        f"problems: {'; '.join(worries) or '–'}",
    ]
    return "\n".join(fill(line, WRAP) if line else line for line in lines)


def draw(site: str, rows: Sequence[Mapping[str, Any]], out: Path) -> Path:
    """The personas of one fit, largest first, to `out`."""
    count = len(rows)
    figure = Figure(figsize=(1.2 + 3.6 * count, 7.0))  # no pyplot: nothing needs a display
    heading = f"{site} · {count} personas · fitted {str(rows[0]['fitted_at'])[:19]} · {rows[0]['criterion']}"
    figure.suptitle(fill(heading, 40 * count + 20), fontsize=10)
    column = 0.92 / count
    for index, row in enumerate(rows):
        colour = COLOURS[(int(row["persona_id"]) - 1) % len(COLOURS)]
        left = 0.07 + index * column
        bars = figure.add_axes((left, 0.58, 0.72 * column, 0.2))
        bars.bar(["customers", "revenue"], [100 * row["customer_share"], 100 * row["revenue_share"]], color=colour)
        bars.set_ylim(0, 100)
        if index == 0:
            bars.set_ylabel("% of the site's")
        bars.set_title(fill(f"#{row['persona_id']} {row['name']}", WRAP), fontsize=9, color=colour)
        figure.text(left, 0.52, caption(row), va="top", ha="left", fontsize=8)
    figure.savefig(out, dpi=DPI)
    return out
