"""The one grammar of `--since`, for every command that looks back from now."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

SPAN = re.compile(r"^(\d+)([mhdw])$")
UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
GRAMMAR = "30m, 24h, 7d, 2w (minutes, hours, days or weeks before now), or an ISO date or time like 2024-05-01"


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """The moment `text` names: a span before now, or an ISO 8601 date or time (UTC unless it says)."""
    now = now or datetime.now(UTC)
    span = SPAN.match(text.strip())
    if span:
        try:
            return now - timedelta(**{UNITS[span[2]]: int(span[1])})
        except OverflowError:
            raise ValueError(f"--since {text!r} reaches back before the year 1") from None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"--since takes 7d, 24h, 30m, 2w or an ISO date or time like 2024-05-01; {text!r} is neither a span nor a date"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def since_day(text: str, now: datetime | None = None) -> date:
    """For figures kept by day: the UTC day the moment falls in, counted whole (at 06:00,
    `12h` reaches back into yesterday, so all of yesterday counts)."""
    return parse_since(text, now).date()
