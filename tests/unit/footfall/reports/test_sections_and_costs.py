"""Costs CSV validation and the report's pure formatting."""

from __future__ import annotations

import pytest
from rich.console import Console

from footfall.reports import sections
from footfall.costs.parse import CostFileError, parse_costs

HEADER = "day,utm_source,utm_medium,utm_campaign,cost,currency"


def render(renderable) -> str:
    console = Console(width=200, record=True)
    with console.capture() as captured:
        console.print(renderable)
    return captured.get()


def test_a_valid_file_gives_rows_for_the_site() -> None:
    rows = parse_costs([HEADER, "2024-05-01,google,cpc,spring,12.5,EUR", "", "2024-05-02,,,spring,0,USD"], "shop", 7)
    assert rows == [
        {"site_id": "shop", "version": 7, "day": "2024-05-01", "utm_source": "google", "utm_medium": "cpc", "utm_campaign": "spring", "cost": 12.5, "currency": "EUR"},
        {"site_id": "shop", "version": 7, "day": "2024-05-02", "utm_source": "", "utm_medium": "", "utm_campaign": "spring", "cost": 0.0, "currency": "USD"},
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("2024-13-01,g,cpc,spring,1,EUR", "line 2, column day: '2024-13-01' is not a date"),
        ("2024-05-01,g,cpc,spring,1,5,EUR", "line 2: expected 6 values, got 7"),
        ("2024-05-01,g,cpc,spring,-3,EUR", "line 2, column cost: '-3' must be zero or more"),
        ("2024-05-01,g,cpc,spring,1.000,00,EUR", "line 2: expected 6 values"),
        ("2024-05-01,g,cpc,spring,nan,EUR", "line 2, column cost: 'nan' must be zero or more"),
        ("2024-05-01,g,cpc,spring,1,euro", "line 2, column currency: 'euro' is not a three-letter currency code"),
        ("2024-05-01,g,cpc,,1,EUR", "line 2, column utm_campaign: the campaign name is missing"),
    ],
)
def test_a_bad_cell_is_named_by_line_and_column(line: str, expected: str) -> None:
    with pytest.raises(CostFileError) as raised:
        parse_costs([HEADER, line], "shop", 1)
    assert str(raised.value).startswith(expected)


def test_the_header_is_checked_and_repeated_campaign_days_refused() -> None:
    with pytest.raises(CostFileError, match="line 1: the header must be day,utm_source"):
        parse_costs(["date,source,cost", "2024-05-01,g,1"], "shop", 1)
    with pytest.raises(CostFileError, match="line 3: the same day and campaign as line 2"):
        parse_costs([HEADER, "2024-05-01,g,cpc,spring,1,EUR", "2024-05-01,g,cpc,spring,2,EUR"], "shop", 1)


def test_empty_sections_say_no_data_yet() -> None:
    assert "no data yet" in render(sections.traffic([]))
    assert "no data yet" in render(sections.surveys([], []))
    assert "import campaign costs" in render(sections.cac([]))


def test_funnel_steps_are_shares_of_the_previous_and_first_step() -> None:
    rows = [{"funnel": "checkout", "step": step, "visitors": visitors} for step, visitors in ((1, 200), (2, 50), (3, 10))]
    printed = render(sections.funnels(rows))
    assert "│ 3    │ 10       │ 20.0%       │ 5.0%" in printed


def test_retention_shares_are_of_the_cohorts_first_week() -> None:
    rows = [
        {"cohort_week": "2024-05-06", "week_number": 0, "visitors": 4},
        {"cohort_week": "2024-05-06", "week_number": 2, "visitors": 1},
        {"cohort_week": "2024-05-13", "week_number": 0, "visitors": 2},
        {"cohort_week": "2024-05-13", "week_number": 1, "visitors": 2},
    ]
    assert sections.retention_grid(rows) == (3, [("2024-05-06", 4, [1.0, 0.0, 0.25]), ("2024-05-13", 2, [1.0, 1.0, 0.0])])


CAMPAIGN = {"site_id": "shop", "utm_source": "google", "utm_medium": "cpc", "currency": "EUR"}


def test_campaigns_whose_customers_are_worth_less_than_they_cost_are_marked() -> None:
    rows = [
        {**CAMPAIGN, "utm_campaign": "spring", "cost": 100.0, "customers": 2, "cac": 50.0, "clv_historical": 30.0, "clv_predicted": 45.0, "clv_to_cac": 1.5},
        {**CAMPAIGN, "utm_campaign": "summer", "cost": 90.0, "customers": 1, "cac": 90.0, "clv_historical": 20.0, "clv_predicted": None, "clv_to_cac": 20 / 90},
        {**CAMPAIGN, "utm_campaign": "autumn", "cost": 10.0, "customers": 0, "cac": None, "clv_historical": None, "clv_predicted": None, "clv_to_cac": None},
    ]
    lines = render(sections.cac(rows)).splitlines()
    spring, summer, autumn = (next(line for line in lines if name in line) for name in ("spring", "summer", "autumn"))
    assert "30.00 EUR" in spring and "45.00 EUR" in spring and "1.50" in spring and "worth less" not in spring
    assert "0.22 ✗ worth less than they cost" in summer
    assert "worth less" not in autumn and autumn.count("–") == 4


def test_the_clv_section_shows_p_alive_once_a_fit_exists() -> None:
    before = {"customers": 3, "historical": [1.0] * 5, "predicted": [None] * 5, "alive": [None] * 5, "fitted": 0,
              "likely_alive": 0, "predicted_total": None, "purchases_90d": None}
    printed = render(sections.clv([before]))
    assert "│ spent so far" in printed and "│ P(alive)" not in printed and "│ predicted" not in printed
    assert "after the first fit (footfall clv fit)" in " ".join(printed.split())
    after = {**before, "predicted": [5.0, 6.0, 7.0, 8.0, 9.0], "alive": [0.1, 0.3, 0.5, 0.8, 1.0], "fitted": 3, "likely_alive": 2,
             "predicted_total": 21.0, "purchases_90d": 0.9}
    printed = render(sections.clv([after]))
    assert "│ P(alive)      │ 0.10 │ 0.30 │ 0.50 │ 0.80 │ 1.00" in printed
    assert "2 of 3 likely alive (P(alive) ≥ 0.5), 0.9 purchases expected in 90 days, 21.00 predicted in all" in " ".join(printed.split())
