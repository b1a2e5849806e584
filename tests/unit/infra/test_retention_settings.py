"""The retention settings: defaults a European business can defend, read from the
environment like every other setting, and refused when absurd or when an erased person
could be replayed."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from infra.config import MAX_RETENTION_DAYS, Retention, Settings


@pytest.fixture(autouse=True)
def no_config_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FOOTFALL_CONFIG", raising=False)


def test_defaults_keep_rollups_longer_than_the_events_they_come_from() -> None:
    retention = Settings().retention
    assert retention.events_days == 396
    assert retention.invalid_events_days == retention.rejected_rows_days == 30
    assert min(retention.heatmap_clicks_days, retention.scroll_reach_days, retention.page_hourly_days) > retention.events_days
    assert retention.erasures_topic_days > max(retention.event_topics_days, retention.dead_letter_topic_days)


def test_each_retention_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOOTFALL_RETENTION__EVENTS_DAYS", "90")
    monkeypatch.setenv("FOOTFALL_RETENTION__CAMPAIGN_COSTS_DAYS", "0")
    retention = Settings().retention
    assert (retention.events_days, retention.campaign_costs_days, retention.sessions_days) == (90, 0, 396)
    assert retention.table_days("events") == 90


@pytest.mark.parametrize("days", [-1, MAX_RETENTION_DAYS + 1, 10**9, 1.5, True, "a year", None])
def test_absurd_retentions_are_refused(days: object) -> None:
    with pytest.raises(ValidationError):
        Retention(events_days=days)


def test_the_longest_retention_is_twenty_years() -> None:
    assert Retention(events_days=MAX_RETENTION_DAYS).events_days == MAX_RETENTION_DAYS


@pytest.mark.parametrize(
    "topics",
    [
        {"event_topics_days": 90},  # erasures 90 would go before the last replayable event
        {"dead_letter_topic_days": 85},
        {"event_topics_days": 0},  # events kept for ever, erasures not
        {"erasures_topic_days": 13},
    ],
)
def test_erasures_must_outlast_every_replayable_topic(topics: dict[str, int]) -> None:
    with pytest.raises(ValidationError, match="erasures_topic_days"):
        Retention(**topics)


def test_erasures_kept_long_enough_or_for_ever_are_accepted() -> None:
    assert Retention(event_topics_days=90, erasures_topic_days=97).erasures_topic_days == 97
    assert Retention(event_topics_days=0, erasures_topic_days=0).erasures_topic_days == 0
    assert Retention(erasures_topic_days=0).erasures_topic_days == 0
