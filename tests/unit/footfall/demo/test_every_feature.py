"""The demo traffic feeds every feature of the report: the demo site's checkout funnel is
walked step by step, surveys are answered with comments in several languages, pages end
with their engaged time, identifies carry demographics, the campaigns' costs match their
utm tags, and customers buy again over enough days for a lifetime value fit."""

from __future__ import annotations

import csv
import io
import random
from collections import Counter, defaultdict
from datetime import date, timedelta

import pytest

from collector.enrich import RequestMeta, normalise
from collector.geo import Geolocator
from collector.parsing import validate_message
from footfall.costs.parse import parse_costs
from footfall.demo import feedback
from footfall.demo.catalogue import CAMPAIGN_DAILY_COST, CAMPAIGNS
from footfall.demo.costs import campaign_costs_csv, daily_cost
from footfall.demo.simulation import DemoPlan, generate
from infra.config import DEMO_SITE
from processors.analytics import surveys
from processors.analytics.clv import bgnbd, gamma_gamma, summary
from processors.analytics.funnels import FunnelProgress, advance
from processors.analytics.site_config import for_sites
from schemas.surveys import SCALES
from tests.support.demo_traffic import NOW, at

LOCATE = Geolocator().locate
# The demo that `make run` sends.
VISITORS, DAYS = 400, 60


@pytest.fixture(scope="module")
def full_demo() -> tuple[list[dict], DemoPlan]:
    return generate(NOW, visitors=VISITORS, days=DAYS, seed=5)


def normalised(messages: list[dict]) -> list[dict]:
    meta = RequestMeta(site_id="demo", received_at=NOW, client_ip=None, user_agent=None)
    return [normalise(validate_message(m), meta, lambda: pytest.fail("no messageId"), LOCATE).model_dump() for m in messages]


def test_buyers_walk_the_demo_sites_checkout_funnel_and_some_leave_it_on_the_way(full_demo) -> None:
    (funnel,) = for_sites([DEMO_SITE]).for_site("demo").funnel_definitions
    levels: dict[str, int] = {}
    progress: dict[str, FunnelProgress] = defaultdict(FunnelProgress)
    for event in normalised(full_demo[0]):
        visitor = event["anonymous_id"]
        progress[visitor], _ = advance(funnel, progress[visitor], event, int(event["ts"].timestamp() * 1000))
        levels[visitor] = progress[visitor].level
    buyers = {e["anonymousId"] for e in full_demo[0] if e.get("event") == "Order Completed"}
    assert buyers and all(levels[visitor] == len(funnel.steps) for visitor in buyers)
    reached = Counter(levels.values())
    assert all(reached[level] > 0 for level in range(1, len(funnel.steps))), f"every step loses someone: {reached}"


def test_survey_answers_count_as_the_processors_read_them_with_comments_in_three_languages(full_demo) -> None:
    messages, plan = full_demo
    answers = [e for e in normalised(messages) if surveys.is_survey(e)]
    assert len(answers) == plan.survey_answers > 50
    parsed = [surveys.parse_answer(e, 0) for e in answers]
    assert not [a for a in parsed if isinstance(a, surveys.InvalidAnswer)]
    assert {a.survey for a in parsed} == set(SCALES)
    commented = [a for a in parsed if a.comment]
    assert 0.4 < len(commented) / len(parsed) < 0.8
    scripts = {"ru": any("\u0400" <= c <= "\u04ff" for a in commented for c in a.comment),
               "vi": any(c in "ăâđêôơư" for a in commented for c in a.comment.lower())}
    assert all(scripts.values()), scripts
    assert any(a.comment.isascii() for a in commented)
    nps = [a.score for a in parsed if a.survey == "nps"]
    assert min(nps) <= 6 and max(nps) >= 9, "detractors and promoters alike"


@pytest.mark.parametrize("survey", list(SCALES))
def test_a_comment_praises_or_complains_as_its_score_goes(survey: str) -> None:
    low, high = SCALES[survey]
    for language in ("en", "ru", "vi"):
        praise, complaints = feedback.THEMES["delivery"][language]
        top = {feedback.comment(random.Random(i), survey, high, "delivery", language) for i in range(50)}
        bottom = {feedback.comment(random.Random(i), survey, low, "delivery", language) for i in range(50)}
        every_praise = {c for theme in feedback.THEMES.values() for c in theme[language][0]}
        every_complaint = {c for theme in feedback.THEMES.values() for c in theme[language][1]}
        assert top <= every_praise and bottom <= every_complaint
        assert top & set(praise) and bottom & set(complaints)


@pytest.mark.parametrize("mood", [0.0, 0.5, 1.0, -3.0, 7.0])
def test_scores_stay_on_their_scale_whatever_the_mood(mood: float) -> None:
    rng = random.Random(2)
    for survey, (low, high) in SCALES.items():
        assert all(low <= feedback.score(rng, survey, mood) <= high for _ in range(200))


def test_every_theme_speaks_every_language() -> None:
    for theme, comments in feedback.THEMES.items():
        assert set(comments) == {"en", "ru", "vi"}, theme
        assert all(praise and complaints for praise, complaints in comments.values())
    assert {theme for theme, _ in feedback.CONCERNS} == set(feedback.THEMES)
    assert (feedback.language_of("ru-RU"), feedback.language_of("vi-VN"), feedback.language_of("de-DE")) == ("ru", "vi", "en")


def test_each_page_left_in_a_session_reports_its_engaged_time(full_demo) -> None:
    events = normalised(full_demo[0])
    by_visitor: dict[str, list[dict]] = defaultdict(list)
    for event in events:
        by_visitor[event["anonymous_id"]].append(event)
    engaged = 0
    for visits in by_visitor.values():
        viewed = None
        for event in visits:
            if event["type"] == "page_view":
                viewed = event
            elif event["name"] == "Page Engaged":
                engaged += 1
                assert viewed is not None and event["path"] == viewed["path"], "reported for the page it was on"
                spent_ms = (event["ts"] - viewed["ts"]).total_seconds() * 1000
                assert 0 < event["properties"]["engaged_ms"] <= spent_ms
                viewed = None  # once per page view
    assert engaged == full_demo[1].engagements > 0


def test_identified_visitors_tell_their_demographics(full_demo) -> None:
    traits = [m["traits"] for m in full_demo[0] if m["type"] == "identify"]
    for name in ("gender", "occupation", "income_band", "country"):
        assert len({t[name] for t in traits}) >= 3, name
    assert len({t["age"] for t in traits}) >= 20


def test_the_costs_file_imports_and_names_the_campaigns_the_traffic_carries(full_demo) -> None:
    text = campaign_costs_csv(NOW.date(), DAYS)
    rows = parse_costs(io.StringIO(text), "demo", version=1)
    assert len(rows) == DAYS * len(CAMPAIGNS)
    days = {row["day"] for row in rows}
    assert days == {(NOW.date() - timedelta(days=n)).isoformat() for n in range(DAYS)}
    costed = {(r["utm_source"], r["utm_medium"], r["utm_campaign"]) for r in rows}
    landed = {(c["source"], c["medium"], c["name"]) for m in full_demo[0] if (c := m["context"].get("campaign"))}
    assert landed == costed == {(s, m, n) for s, m, n, _, _ in CAMPAIGNS}
    assert set(CAMPAIGN_DAILY_COST) == {name for _, _, name, _, _ in CAMPAIGNS}
    assert next(csv.reader(io.StringIO(text)))[0] == "day"
    saturday = date(2024, 6, 1)
    assert daily_cost("brand_search", saturday) > daily_cost("brand_search", saturday - timedelta(days=2))
    with pytest.raises(ValueError):
        campaign_costs_csv(NOW.date(), 0)


def test_customers_buy_again_over_enough_days_for_both_lifetime_value_models(full_demo) -> None:
    messages, plan = full_demo
    spend: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for m in messages:
        if m.get("event") == "Order Completed":
            day = summary.day_number(at(m).date())
            spend[m.get("userId") or m["anonymousId"]][day] += m["properties"]["revenue"]
    assert plan.customers == len({m["anonymousId"] for m in messages if m.get("event") == "Order Completed"}) >= 50
    assert plan.repeat_customers >= 25
    end = summary.day_number(NOW.date())
    customers = [c for days in spend.values() if (c := summary.customer(
        min(days), max(days), len(days), sum(days.values()) - days[min(days)], end)) is not None]
    assert max(max(days) - min(days) for days in spend.values()) >= DAYS // 2
    data = summary.calibration(customers)
    purchases, _ = bgnbd.fit(data.x, data.t_x, data.T)
    spending, _ = gamma_gamma.fit(data.repeat_x, data.repeat_monetary)
    assert purchases.r > 0 and spending.q > 1
