"""Survey answers (NPS, CSAT, CES) from the "Survey Responded" event, and site scores.

A site asks its customers and sends each answer as a track event "Survey Responded" with
properties `survey` (nps, csat or ces), `score` and an optional `comment`. A customer's
opinion is their latest answer, so site scores are taken over one answer per customer and
survey: a customer who answers weekly counts once, as they feel now.

Scales, as the three measures are usually run:
- NPS: 0-10, "how likely are you to recommend us"; 9-10 promoters, 7-8 passives,
  0-6 detractors; NPS = % promoters - % detractors, from -100 to 100.
- CSAT: 1-5, "how satisfied were you"; CSAT = % of answers that are 4 or 5.
- CES: 1-7, "how easy was it"; CES = the mean score (higher is easier).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

SURVEY_EVENT = "Survey Responded"
SCALES: Mapping[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
COMMENT_LIMIT = 2000


@dataclass(frozen=True)
class Answer:
    survey: str
    score: int
    ts_ms: int
    event_id: str
    comment: str | None = None


@dataclass(frozen=True)
class Rejected:
    """An answer that cannot count, with the reason for the dead-letter record."""

    reason: str


def is_survey(event: Mapping[str, Any]) -> bool:
    return event.get("type") == "track" and event.get("name") == SURVEY_EVENT


def parse_answer(event: Mapping[str, Any], ts_ms: int) -> Answer | Rejected:
    """The answer a "Survey Responded" event carries, or why it cannot count."""
    properties = event.get("properties") or {}
    survey = properties.get("survey")
    if survey not in SCALES:
        return Rejected(f"properties.survey must be one of {', '.join(SCALES)}, got {survey!r}")
    low, high = SCALES[survey]
    score = properties.get("score")
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(score) or score != int(score):
        return Rejected(f"properties.score must be a whole number from {low} to {high} for {survey}, got {score!r}")
    if not low <= score <= high:
        return Rejected(f"properties.score {score!r} is outside the {survey} scale {low}-{high}")
    comment = properties.get("comment")
    if comment is not None and not isinstance(comment, str):
        return Rejected(f"properties.comment must be text, got {comment!r}")
    return Answer(survey, int(score), ts_ms, event["event_id"], comment[:COMMENT_LIMIT] if comment else None)


def latest(current: Answer | None, candidate: Answer) -> Answer:
    """The later of two answers by event time (then event id), whatever order they came in."""
    if current is None or (candidate.ts_ms, candidate.event_id) > (current.ts_ms, current.event_id):
        return candidate
    return current


def nps_category(score: int) -> str:
    if score >= 9:
        return "promoter"
    if score >= 7:
        return "passive"
    return "detractor"


@dataclass(frozen=True)
class SiteScores:
    """A site's scores over its customers' latest answers; None where nobody answered."""

    nps: float | None
    promoters: int
    passives: int
    detractors: int
    csat_pct: float | None
    csat_responses: int
    ces_mean: float | None
    ces_responses: int


def site_scores(answers: Iterable[Answer]) -> SiteScores:
    """Scores over answers that are already one per customer and survey (their latest)."""
    by_survey: dict[str, list[int]] = {name: [] for name in SCALES}
    for answer in answers:
        by_survey[answer.survey].append(answer.score)
    nps, csat, ces = by_survey["nps"], by_survey["csat"], by_survey["ces"]
    categories = [nps_category(score) for score in nps]
    promoters, detractors = categories.count("promoter"), categories.count("detractor")
    return SiteScores(
        nps=100 * (promoters - detractors) / len(nps) if nps else None,
        promoters=promoters,
        passives=categories.count("passive"),
        detractors=detractors,
        csat_pct=100 * sum(1 for score in csat if score >= 4) / len(csat) if csat else None,
        csat_responses=len(csat),
        ces_mean=sum(ces) / len(ces) if ces else None,
        ces_responses=len(ces),
    )
