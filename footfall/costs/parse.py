"""Campaign costs from CSV, checked before anything is stored.

A whole file is validated first, so a file with a mistake stores nothing and every
mistake is named by its line and column, ready to fix in a spreadsheet.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

HEADER = ("day", "utm_source", "utm_medium", "utm_campaign", "cost", "currency")
CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_ERRORS = 20


@dataclass(frozen=True)
class Problem:
    """One mistake in a costs file: where it is and what is wrong."""

    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


class CostFileError(ValueError):
    """The file's problems, the first MAX_ERRORS of them, each naming its line and column."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


def check_cell(column: str, value: str) -> tuple[Any, str | None]:
    """The cell's stored value, or why it cannot be stored."""
    if column == "day":
        try:
            return date.fromisoformat(value).isoformat(), None
        except ValueError:
            return None, f"{value!r} is not a date like 2024-05-31"
    if column == "cost":
        try:
            cost = float(value)
        except ValueError:
            return None, f"{value!r} is not a number (use . for decimals, no thousands separator)"
        if not math.isfinite(cost) or cost < 0:
            return None, f"{value!r} must be zero or more"
        return cost, None
    if column == "currency" and not CURRENCY.match(value):
        return None, f"{value!r} is not a three-letter currency code like EUR"
    if column == "utm_campaign" and not value:
        return None, "the campaign name is missing"
    return value, None


def parse_costs(lines: Iterable[str], site_id: str, version: int) -> list[dict[str, Any]]:
    """Rows for footfall.campaign_costs; raises CostFileError naming each bad cell.

    `version` is the import's time: rows of a later import replace those of an earlier
    one with the same site, day and campaign. A file that names the same day and campaign
    twice is refused, as one of the two costs would silently replace the other.
    """
    problems: list[Problem] = []
    rows: list[dict[str, Any]] = []
    first_line: dict[tuple[str, ...], int] = {}
    records: Iterator[list[str]] = csv.reader(lines)
    header = [cell.strip() for cell in next(records, [])]
    if tuple(header) != HEADER:
        raise CostFileError([Problem(1, None, f"the header must be {','.join(HEADER)}; got {','.join(header) or 'nothing'}")])
    for number, record in enumerate(records, start=2):
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(HEADER):
            problems.append(Problem(number, None, f"expected {len(HEADER)} values, got {len(record)}"))
            continue
        row: dict[str, Any] = {"site_id": site_id, "version": version}
        for column, cell in zip(HEADER, record):
            row[column], message = check_cell(column, cell.strip())
            if message:
                problems.append(Problem(number, column, message))
        key = (row["day"], row["utm_source"], row["utm_medium"], row["utm_campaign"])
        if key in first_line:
            problems.append(Problem(number, None, f"the same day and campaign as line {first_line[key]}"))
        first_line.setdefault(key, number)
        rows.append(row)
        if len(problems) >= MAX_ERRORS:
            break
    if problems:
        raise CostFileError(problems[:MAX_ERRORS])
    return rows
