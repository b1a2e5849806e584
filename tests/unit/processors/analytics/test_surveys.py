"""Survey answers without Kafka: validation and categories, and the report's survey
scores, run on the embedded engine, against the textbook formulas over generated answers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from footfall.reports import queries
from infra.clickhouse.embedded import EmbeddedClickHouse
from infra.clickhouse.migrations import migrate
from processors.analytics.surveys import SURVEY_EVENT, Answer, InvalidAnswer, latest, nps_category, parse_answer

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
    assert isinstance(result, InvalidAnswer)
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


SITE = "surveys"
PERIOD = queries.Scope(SITE, date(2024, 5, 6))
IN_PERIOD, BEFORE = "2024-05-07 10:00:00.000", "2024-05-01 10:00:00.000"
SURVEYS = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}


@pytest.fixture(scope="module")
def clickhouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedClickHouse]:
    backend = EmbeddedClickHouse(Path(tmp_path_factory.mktemp("surveys")) / "clickhouse")
    migrate(backend)
    yield backend
    backend.close()


# A customer's latest answer to each survey, if any: its score and whether it falls in the period.
Customer = dict[str, tuple[int, bool] | None]
customers = st.lists(
    st.fixed_dictionaries({name: st.none() | st.tuples(st.integers(low, high), st.booleans()) for name, (low, high) in SURVEYS.items()}),
    max_size=40,
)


def store(clickhouse: EmbeddedClickHouse, population: list[Customer]) -> None:
    """The customers' rows as the processors write them, and their answers as events."""
    for table in ("customers", "events"):
        clickhouse.execute(f"TRUNCATE TABLE footfall.{table}")
    rows, events = [], []
    for number, customer in enumerate(population):
        row = {"site_id": SITE, "customer_id": f"c{number}", "updated_at": IN_PERIOD, "version": 1}
        for survey, given_answer in customer.items():
            if given_answer is None:
                continue
            score, in_period = given_answer
            row |= {survey: score, f"{survey}_at": IN_PERIOD if in_period else BEFORE}
            events.append({
                "event_id": f"c{number}-{survey}", "site_id": SITE, "type": "track", "name": SURVEY_EVENT,
                "ts": row[f"{survey}_at"], "received_at": IN_PERIOD, "anonymous_id": f"c{number}",
                "properties": orjson.dumps({"survey": survey, "score": score}).decode(), "version": 1,
            })
        if customer["nps"] is not None:
            row["nps_category"] = nps_category(customer["nps"][0])
        rows.append(row)
    clickhouse.insert("footfall.customers", rows)
    clickhouse.insert("footfall.events", events)


def answered(population: list[Customer], survey: str) -> list[int]:
    return [c[survey][0] for c in population if c[survey] is not None and c[survey][1]]


def assert_textbook_scores(row: dict, nps: list[int], csat: list[int], ces: list[int]) -> None:
    """NPS = % of 9-10 minus % of 0-6; CSAT = % of 4-5; CES = the mean; None for no answers."""
    promoters, detractors = len([s for s in nps if s in (9, 10)]), len([s for s in nps if s <= 6])
    if nps:
        assert row["nps"] == pytest.approx(100 * promoters / len(nps) - 100 * detractors / len(nps))
        assert -100 <= row["nps"] <= 100
    else:
        assert row["nps"] is None
    assert (row["promoters"], row["passives"], row["detractors"]) == (promoters, len(nps) - promoters - detractors, detractors)
    assert row["csat_pct"] == (pytest.approx(100 * len([s for s in csat if s in (4, 5)]) / len(csat)) if csat else None)
    assert row["ces_mean"] == (pytest.approx(sum(ces) / len(ces)) if ces else None)
    assert (row["nps_responses"], row["csat_responses"], row["ces_responses"]) == (len(nps), len(csat), len(ces))


@settings(max_examples=25, deadline=None)
@given(population=customers)
def test_report_scores_equal_the_textbook_formulas(clickhouse: EmbeddedClickHouse, population: list[Customer]) -> None:
    store(clickhouse, population)
    nps, csat, ces = (answered(population, survey) for survey in SURVEYS)
    scores = clickhouse.query(queries.survey_scores(PERIOD))
    weeks = clickhouse.query(queries.survey_weeks(PERIOD))
    if not (nps or csat or ces):
        assert scores == [] and weeks == []  # the report says "no data yet"
        return
    assert_textbook_scores(scores[0], nps, csat, ces)
    assert [week["week_start"] for week in weeks] == [PERIOD.since.isoformat()]
    assert_textbook_scores(weeks[0], nps, csat, ces)
