"""A site's calibration as ClickHouse summarises it (the modern engine, the real migrations):
a day's purchases are one transaction, the user id names the customer, bots and later
purchases are left out; and a site too small to fit is refused with the reason."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from infra.clickhouse.embedded import EmbeddedClickHouse
from infra.clickhouse.migrations import migrate
from processors.analytics.clv.calibration import calibration_sql, fit_site
from processors.analytics.clv.fitting import FitError

UNTIL = date(2026, 3, 31)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedClickHouse]:
    backend = EmbeddedClickHouse(Path(tmp_path_factory.mktemp("clv")) / "clickhouse")
    migrate(backend)
    yield backend
    backend.close()


def insert(engine: EmbeddedClickHouse, site: str, rows: list[tuple[str, str, str, float | None, int]]) -> None:
    """(anonymous id, user id, time, revenue, bot) purchases."""
    values = ", ".join(
        f"('{site}-{n}', '{site}', 'purchase', 'Order Completed', '{ts}', now64(3), '{anonymous}', '{user}', "
        f"{'NULL' if revenue is None else revenue}, {bot}, 1)"
        for n, (anonymous, user, ts, revenue, bot) in enumerate(rows)
    )
    engine.execute(
        "INSERT INTO footfall.events (event_id, site_id, type, name, ts, received_at, anonymous_id, user_id, revenue, bot, version) "
        f"VALUES {values}"
    )


def test_the_summary_counts_days_names_customers_by_user_id_and_leaves_out_bots_and_later_days(engine: EmbeddedClickHouse) -> None:
    insert(engine, "summary", [
        ("a1", "", "2026-01-10 09:00:00", 10.0, 0),
        ("a1", "", "2026-01-10 18:00:00", 5.0, 0),      # the same day: one transaction of 15
        ("a2", "u1", "2026-01-12 10:00:00", 20.0, 0),
        ("a3", "u1", "2026-02-01 10:00:00", 30.0, 0),   # another device, the same user
        ("a3", "u1", "2026-02-01 11:00:00", None, 0),
        ("a4", "", "2026-02-02 10:00:00", 99.0, 1),     # a bot
        ("a1", "", "2026-04-01 00:00:00", 50.0, 0),     # after the calibration
    ])
    rows = {row["customer"]: row for row in engine.read(calibration_sql("summary", UNTIL))}
    epoch = date(1970, 1, 1)
    assert set(rows) == {"a1", "u1"}
    assert {k: rows["a1"][k] for k in ("first_day", "last_day", "days", "repeat_spend")} == {
        "first_day": (date(2026, 1, 10) - epoch).days, "last_day": (date(2026, 1, 10) - epoch).days, "days": 1, "repeat_spend": 0.0,
    }
    assert (rows["u1"]["days"], rows["u1"]["repeat_spend"], rows["u1"]["last_day"] - rows["u1"]["first_day"]) == (2, 30.0, 20)


def test_a_site_too_small_to_fit_is_refused_with_the_reason(engine: EmbeddedClickHouse) -> None:
    insert(engine, "small", [("a", "", "2026-01-01 10:00:00", 5.0, 0), ("a", "", "2026-01-05 10:00:00", 5.0, 0),
                             ("b", "", "2026-01-02 10:00:00", 7.0, 0)])
    with pytest.raises(FitError, match="BG/NBD needs at least 10 customers, there are 2"):
        fit_site(engine.read, "small", UNTIL, 0)
    with pytest.raises(FitError, match="site nobody has no purchases up to 2026-03-31"):
        fit_site(engine.read, "nobody", UNTIL, 0)


def test_a_site_with_repeat_buyers_is_fitted(engine: EmbeddedClickHouse) -> None:
    rng = np.random.default_rng(11)
    rows = []
    for customer in range(300):
        first = int(rng.integers(0, 60))
        for day in sorted({first, *(first + int(d) for d in rng.integers(1, 80, int(rng.poisson(1.5))))}):
            rows.append((f"c{customer}", "", f"{date.fromordinal(date(2026, 1, 1).toordinal() + day)} 12:00:00",
                         float(rng.gamma(5, 8)), 0))
    insert(engine, "shop", rows)
    fit = fit_site(engine.read, "shop", UNTIL, 1_000)
    assert (fit.site_id, fit.customers, fit.calibration_end, fit.fitted_at_ms) == ("shop", 300, UNTIL, 1_000)
    assert fit.q > 1 and fit.log_likelihood < 0
