"""Survey answers without Kafka: validation, categories and site scores against a
reference computed from the raw answers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processors.analytics.surveys import Answer, Rejected, latest, nps_category, parse_answer, site_scores

T0 = 1_800_000_000_000


def responded(**properties) -> dict:
    return {"event_id": "e1", "type": "track", "name": "Survey Responded", "properties": properties}


def test_a_valid_answer() -> None:
    answer = parse_answer(responded(survey="nps", score=9, comment="great"), T0)
    assert answer == Answer("nps", 9, T0, "e1", "great")


@pytest.mark.parametrize(
    ("properties", "reason"),
    [
        ({"survey": "nps", "score": 11}, "outside the nps scale 0-10"),
        ({"survey": "csat", "score": 0}, "outside the csat scale 1-5"),
        ({"survey": "ces", "score": 8}, "outside the ces scale 1-7"),
        ({"survey": "nps", "score": 7.5}, "whole number from 0 to 10"),
        ({"survey": "nps", "score": "9"}, "whole number"),
        ({"survey": "nps", "score": True}, "whole number"),
        ({"survey": "nps"}, "got None"),
        ({"survey": "ces", "score": float("nan")}, "whole number"),
        ({"survey": "happiness", "score": 3}, "survey must be one of nps, csat, ces"),
        ({"survey": "nps", "score": 9, "comment": 5}, "comment must be text"),
    ],
)
def test_bad_answers_are_rejected_with_a_reason(properties: dict, reason: str) -> None:
    result = parse_answer(responded(**properties), T0)
    assert isinstance(result, Rejected)
    assert reason in result.reason


def test_whole_floats_are_scores() -> None:
    assert parse_answer(responded(survey="csat", score=4.0), T0).score == 4


@pytest.mark.parametrize(("score", "category"), [(0, "detractor"), (6, "detractor"), (7, "passive"), (8, "passive"), (9, "promoter"), (10, "promoter")])
def test_nps_categories(score: int, category: str) -> None:
    assert nps_category(score) == category


def test_the_latest_answer_wins_whatever_the_arrival() -> None:
    old, new = Answer("nps", 3, T0, "a"), Answer("nps", 10, T0 + 1, "b")
    assert latest(latest(None, new), old) == new
    assert latest(latest(None, old), new) == new


def test_no_answers_no_scores() -> None:
    scores = site_scores([])
    assert (scores.nps, scores.csat_pct, scores.ces_mean) == (None, None, None)


answers = st.lists(
    st.one_of(
        st.builds(lambda s: Answer("nps", s, T0, "e"), st.integers(0, 10)),
        st.builds(lambda s: Answer("csat", s, T0, "e"), st.integers(1, 5)),
        st.builds(lambda s: Answer("ces", s, T0, "e"), st.integers(1, 7)),
    ),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(answers=answers)
def test_site_scores_equal_the_textbook_formulas(answers: list[Answer]) -> None:
    nps = [a.score for a in answers if a.survey == "nps"]
    csat = [a.score for a in answers if a.survey == "csat"]
    ces = [a.score for a in answers if a.survey == "ces"]
    scores = site_scores(answers)
    if nps:
        promoters = len([s for s in nps if s in (9, 10)])
        detractors = len([s for s in nps if s <= 6])
        assert scores.nps == pytest.approx(100 * promoters / len(nps) - 100 * detractors / len(nps))
        assert (scores.promoters, scores.passives, scores.detractors) == (promoters, len(nps) - promoters - detractors, detractors)
        assert -100 <= scores.nps <= 100
    else:
        assert scores.nps is None
    assert scores.csat_pct == (pytest.approx(100 * len([s for s in csat if s in (4, 5)]) / len(csat)) if csat else None)
    assert scores.ces_mean == (pytest.approx(sum(ces) / len(ces)) if ces else None)
    assert (scores.csat_responses, scores.ces_responses) == (len(csat), len(ces))
