"""Which answers are retried, which are refused for good, and when retrying stops."""

from __future__ import annotations

import pytest

from infra.retry import Backoff
from webhooks.schedule import Schedule, Verdict, judge


@pytest.mark.parametrize("status, verdict", [
    (200, Verdict.DELIVERED), (204, Verdict.DELIVERED), (299, Verdict.DELIVERED),
    (None, Verdict.RETRY), (408, Verdict.RETRY), (429, Verdict.RETRY), (500, Verdict.RETRY), (503, Verdict.RETRY), (599, Verdict.RETRY),
    (301, Verdict.REFUSED), (400, Verdict.REFUSED), (401, Verdict.REFUSED), (404, Verdict.REFUSED), (410, Verdict.REFUSED), (100, Verdict.REFUSED),
])
def test_each_answer_has_its_verdict(status: int | None, verdict: Verdict) -> None:
    assert judge(status) is verdict


def test_waits_double_up_to_the_cap_and_stop_at_the_retry_time() -> None:
    schedule = Schedule(Backoff(initial_s=1, max_s=8), retry_s=30)
    assert [schedule.next_wait(attempt, 0) for attempt in range(1, 7)] == [1, 2, 4, 8, 8, 8]
    assert schedule.next_wait(3, 26) == 4  # ends exactly at the retry time
    assert schedule.next_wait(3, 26.5) is None
    assert Schedule(Backoff(initial_s=1, max_s=8), retry_s=0).next_wait(1, 0) is None
