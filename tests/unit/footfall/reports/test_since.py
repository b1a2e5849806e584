"""The one `--since` grammar of `footfall report` and `footfall heatmap`."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from footfall.reports.since import parse_since, since_day


def test_parse_since_takes_spans_and_iso_times() -> None:
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert parse_since("30m", now) == datetime(2026, 11, 22, 11, 30, tzinfo=UTC)
    assert parse_since("24h", now) == datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    assert parse_since("2w", now) == datetime(2026, 11, 8, 12, 0, tzinfo=UTC)
    assert parse_since("2026-11-01") == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_since("2026-11-01T10:00:00+02:00") == datetime(2026, 11, 1, 8, tzinfo=UTC)
    with pytest.raises(ValueError, match="neither"):
        parse_since("yesterday")
    with pytest.raises(ValueError, match="before the year 1"):
        parse_since("99999999999d", now)


def test_the_report_counts_the_whole_day_since_falls_in() -> None:
    now = datetime(2024, 5, 31, 6, 0, tzinfo=UTC)
    assert since_day("7d", now) == date(2024, 5, 24)
    assert since_day("12h", now) == date(2024, 5, 30)
    assert since_day("2024-01-02", now) == date(2024, 1, 2)
    assert since_day("2024-01-02T01:00:00+02:00", now) == date(2024, 1, 1)
    with pytest.raises(ValueError, match="--since takes 7d"):
        since_day("last week", now)
