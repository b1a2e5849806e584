"""BG/NBD and Gamma-Gamma: likelihoods on cases worked by hand, the model's identities, a
fit recovering the parameters it simulated from, and the inputs a site can send."""

from __future__ import annotations

import math

import numpy as np
import pytest

from processors.analytics.clv import bgnbd, gamma_gamma, summary, value
from processors.analytics.clv.fitting import FitError

ONES = bgnbd.BgNbd(r=1.0, alpha=1.0, a=1.0, b=1.0)


def arrays(*values: float) -> np.ndarray:
    return np.array(values, dtype=float)


def test_a_customer_without_repeats_is_the_chance_of_no_purchase_while_alive() -> None:
    # x = 0: (α / (α + T))^r, the negative binomial's zero, times P(still alive) = 1.
    assert bgnbd.log_likelihood(ONES, arrays(0), arrays(0), arrays(1)) == pytest.approx(math.log(1 / 2))


def test_a_repeat_customer_sums_alive_and_dropped_out() -> None:
    # x = 1, t_x = 1, T = 2, all parameters 1: B(1,2)/B(1,1)·1/3² + B(2,1)/B(1,1)·1/2² = 1/18 + 1/8.
    assert bgnbd.log_likelihood(ONES, arrays(1), arrays(1), arrays(2)) == pytest.approx(math.log(13 / 72))


def test_p_alive_is_the_alive_share_of_the_likelihood() -> None:
    # The first term of the case above over the whole: (1/18) / (13/72).
    assert bgnbd.p_alive(ONES, arrays(1), arrays(1), arrays(2))[0] == pytest.approx(4 / 13)
    assert bgnbd.p_alive(ONES, arrays(0), arrays(0), arrays(5))[0] == 1.0


def test_the_purchase_rate_now_is_the_posterior_rate_of_the_living() -> None:
    params = bgnbd.BgNbd(r=0.24, alpha=30.9, a=0.79, b=2.43)
    x, t_x, T = arrays(4), arrays(120), arrays(250)
    dt = 1e-4
    rate = bgnbd.expected_purchases(params, dt, x, t_x, T)[0] / dt
    assert rate == pytest.approx(bgnbd.p_alive(params, x, t_x, T)[0] * (params.r + 4) / (params.alpha + 250), rel=1e-3)


def test_expected_purchases_grow_with_the_horizon_and_start_at_zero() -> None:
    params = bgnbd.BgNbd(r=0.24, alpha=30.9, a=0.79, b=2.43)
    expected = bgnbd.expected_purchases(params, arrays(0, 30, 90, 365), arrays(2), arrays(50), arrays(200))
    assert expected[0] == 0.0
    assert np.all(np.diff(expected) > 0)


def test_gamma_gamma_density_by_hand() -> None:
    # x = 1, m = 1, p = q = v = 1: Γ(2)/(Γ(1)Γ(1)) · 1 · 1 / (1 + 1)² = 1/4.
    ones = gamma_gamma.GammaGamma(1.0, 1.0, 1.0)
    assert gamma_gamma.log_likelihood(ones, arrays(1), arrays(1)) == pytest.approx(math.log(1 / 4))


def test_expected_spend_moves_from_the_population_mean_to_the_customers_own() -> None:
    params = gamma_gamma.GammaGamma(p=6.25, q=3.74, v=15.44)
    population = params.p * params.v / (params.q - 1)
    spend = gamma_gamma.expected_spend(params, arrays(0, 1, 1000), arrays(np.nan, 100, 100))
    assert spend[0] == pytest.approx(population)
    assert population < spend[1] < spend[2] < 100
    assert spend[2] == pytest.approx(100, rel=0.01)


def test_undiscounted_value_is_spend_times_a_years_purchases() -> None:
    fitted = value.Fitted(bgnbd.BgNbd(0.24, 30.9, 0.79, 2.43), gamma_gamma.GammaGamma(6.25, 3.74, 15.44))
    customer = summary.Customer(x=3, t_x=100, T=200, monetary=40.0)
    got = value.predict(fitted, customer, value.Horizon(months=12, monthly_discount=0.0))
    args = (arrays(3), arrays(100), arrays(200))
    year = bgnbd.expected_purchases(fitted.purchases, 365.25, *args)[0]
    spend = gamma_gamma.expected_spend(fitted.spend, arrays(3), arrays(40.0))[0]
    assert got.clv == pytest.approx(spend * year)
    assert got.expected_purchases_365d == pytest.approx(bgnbd.expected_purchases(fitted.purchases, 365, *args)[0])
    discounted = value.predict(fitted, customer, value.Horizon(months=12, monthly_discount=0.01))
    assert spend * year / 1.01**12 < discounted.clv < got.clv


def simulate(params: bgnbd.BgNbd, customers: int, days: int, rng: np.random.Generator) -> summary.Calibration:
    """BG/NBD as the paper tells it: a rate and a drop-out chance per customer, then purchases."""
    rows = []
    for rate, drop in zip(rng.gamma(params.r, 1 / params.alpha, customers), rng.beta(params.a, params.b, customers)):
        t, last, x = 0.0, 0.0, 0
        while True:
            t += rng.exponential(1 / rate)
            if t > days:
                break
            x, last = x + 1, t
            if rng.random() < drop:
                break
        rows.append(summary.Customer(x, int(last), days, None))
    return summary.calibration(rows)


def test_a_fit_recovers_the_parameters_it_was_simulated_from() -> None:
    truth = bgnbd.BgNbd(r=0.5, alpha=20.0, a=0.8, b=2.5)
    data = simulate(truth, 8000, 365, np.random.default_rng(7))
    fitted, log_likelihood = bgnbd.fit(data.x, data.t_x, data.T)
    assert fitted.r == pytest.approx(truth.r, rel=0.15)
    assert fitted.alpha == pytest.approx(truth.alpha, rel=0.2)
    assert fitted.a / (fitted.a + fitted.b) == pytest.approx(truth.a / (truth.a + truth.b), rel=0.2)
    assert log_likelihood >= bgnbd.log_likelihood(truth, data.x, data.t_x, data.T)


def test_same_day_purchases_are_one_transaction_and_the_first_day_is_the_birth() -> None:
    customer = summary.from_daily({100: 30.0, 110: 10.0, 130: 20.0, 400: 99.0}, end_day=200)
    assert customer == summary.Customer(x=2, t_x=30, T=100, monetary=15.0)
    assert summary.from_daily({300: 5.0}, end_day=200) is None


@pytest.mark.parametrize("repeat_spend", [0.0, -50.0, float("nan"), float("inf")])
def test_a_repeat_spend_that_is_no_positive_mean_has_no_monetary_value(repeat_spend: float) -> None:
    assert summary.customer(10, 20, 3, repeat_spend, end_day=30) == summary.Customer(2, 10, 20, None)


@pytest.mark.parametrize("figures", [(20, 10, 2), (10, 40, 2), (10, 20, 0), (10, 12, 5), (10, 10, 2), (10, 20, 1)])
def test_figures_that_cannot_be_are_refused(figures: tuple[int, int, int]) -> None:
    first, last, days = figures
    assert summary.customer(first, last, days, 10.0, end_day=30) is None


def test_one_customer_is_too_few_to_fit() -> None:
    with pytest.raises(FitError, match="at least 10 customers, there are 1"):
        bgnbd.fit(arrays(2), arrays(10), arrays(20))


def test_customers_who_all_bought_on_one_day_only_cannot_be_fitted() -> None:
    with pytest.raises(FitError, match="no customer bought on a second day"):
        bgnbd.fit(np.zeros(50), np.zeros(50), np.full(50, 30.0))


def test_gamma_gamma_leaves_out_spends_that_are_not_positive() -> None:
    rng = np.random.default_rng(3)
    x = rng.integers(1, 6, 300).astype(float)
    spend = rng.gamma(6.0, 1 / 0.5, 300)
    clean, _ = gamma_gamma.fit(x, spend)
    hostile, _ = gamma_gamma.fit(np.concatenate([x, arrays(1, 2, 3, 4)]), np.concatenate([spend, arrays(0, -5, np.nan, np.inf)]))
    assert hostile == clean
    with pytest.raises(FitError, match="repeat buyers with a positive spend, there are 0"):
        gamma_gamma.fit(arrays(1, 2, 3), arrays(0, -1, np.nan))


def test_a_huge_customer_gets_no_figure_rather_than_an_absurd_one() -> None:
    fitted = value.Fitted(bgnbd.BgNbd(0.24, 30.9, 0.79, 2.43), gamma_gamma.GammaGamma(6.25, 3.74, 15.44))
    got = value.predict(fitted, summary.Customer(x=10**6, t_x=200, T=200, monetary=1e300), value.Horizon())
    assert got.clv is None or math.isfinite(got.clv)
    assert got.p_alive is not None and 0 <= got.p_alive <= 1
