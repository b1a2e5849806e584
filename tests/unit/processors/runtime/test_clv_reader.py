"""A worker's latest fit per site: a later fit replaces an earlier one, an earlier or repeated
one (a replay of the topic) changes nothing, and a record that is no fit is skipped."""

from __future__ import annotations

import orjson
import pytest

from processors.runtime.clv_reader import ClvModels

FIT = {
    "site_id": "shop", "fitted_at_ms": 2_000, "calibration_end": "2026-11-24", "customers": 50,
    "r": 0.243, "alpha": 30.9, "a": 0.793, "b": 2.426, "p": 6.25, "q": 3.74, "v": 15.44, "log_likelihood": -300.0,
}


def record(**changes: object) -> bytes:
    return orjson.dumps({**FIT, **changes})


def test_the_latest_fit_of_each_site_is_kept_and_marked_changed() -> None:
    models = ClvModels()
    assert models.take(record()) is not None
    assert models.take(record(site_id="blog", r=0.5)) is not None
    assert models.changed == {"shop", "blog"}
    models.changed.clear()
    assert models.take(record(fitted_at_ms=1_000, r=9.0)) is None  # older
    assert models.take(record()) is None  # the same, replayed
    assert models.changed == set() and models.fitted["shop"].purchases.r == 0.243
    assert models.take(record(fitted_at_ms=3_000, r=0.3)) is not None
    assert models.fitted["shop"].purchases.r == 0.3 and models.fitted["shop"].spend.v == 15.44
    assert models.changed == {"shop"}


@pytest.mark.parametrize("value", [None, b"", b"not json", b"[]", record(b=0), record(q=1.0), record(customers=0), record(extra=1),
                                   b'{"site_id": "shop"}', record(log_likelihood=5.0)])
def test_a_record_that_is_no_fit_is_skipped(value: bytes | None) -> None:
    models = ClvModels()
    assert models.take(value) is None
    assert models.fits == {} and models.changed == set()


def test_a_fit_dated_beyond_what_clickhouse_stores_is_skipped() -> None:
    """It would otherwise stay the site's latest for ever."""
    models = ClvModels()
    assert models.take(record(fitted_at_ms=10**15)) is None
    assert models.take(record()) is not None
