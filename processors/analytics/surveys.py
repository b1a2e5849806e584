"""Survey answers (NPS, CSAT, CES) from the "Survey Responded" event.

A customer's opinion is their latest answer to each survey, so an answer is checked
against its survey's scale and then kept only if it is later than the one held.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from schemas.surveys import COMMENT_MAX_CHARS, SCALES, SURVEY_EVENT, band


@dataclass(frozen=True)
class Answer:
    """One customer's answer to one survey."""

    survey: str
    score: int
    ts_ms: int
    event_id: str
    comment: str | None = None


@dataclass(frozen=True)
class InvalidAnswer:
    """A survey event that cannot count as an answer, with the reason for the dead-letter record."""

    reason: str


def is_survey(event: Mapping[str, Any]) -> bool:
    return event.get("type") == "track" and event.get("name") == SURVEY_EVENT


def parse_answer(event: Mapping[str, Any], ts_ms: int) -> Answer | InvalidAnswer:
    """The answer a "Survey Responded" event carries, or why it cannot count."""
    properties = event.get("properties") or {}
    survey = properties.get("survey")
    if survey not in SCALES:
        return InvalidAnswer(f"properties.survey must be one of {', '.join(SCALES)}, got {survey!r}")
    low, high = SCALES[survey]
    score = properties.get("score")
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(score) or score != int(score):
        return InvalidAnswer(f"properties.score must be a whole number from {low} to {high} for {survey}, got {score!r}")
    if not low <= score <= high:
        return InvalidAnswer(f"properties.score {score!r} is outside the {survey} scale {low}-{high}")
    comment = properties.get("comment")
    if comment is not None and not isinstance(comment, str):
        return InvalidAnswer(f"properties.comment must be text, got {comment!r}")
    return Answer(survey, int(score), ts_ms, event["event_id"], comment[:COMMENT_MAX_CHARS] if comment else None)


def latest(current: Answer | None, candidate: Answer) -> Answer:
    """The later of two answers by event time (then event id), whatever order they came in."""
    if current is None or (candidate.ts_ms, candidate.event_id) > (current.ts_ms, current.event_id):
        return candidate
    return current


def nps_category(score: int) -> str:
    return band("nps", score)
