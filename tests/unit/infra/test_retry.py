"""The one retry policy: how long it waits, what it retries, when it gives up, what it reports."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from infra import retry
from infra.retry import Backoff, retry_async, retry_blocking

TINY = Backoff(initial_s=0.001, max_s=0.004)


class Flaky:
    """Fails with the given errors, in turn, then answers "done"; counts its calls."""

    def __init__(self, *failures: BaseException):
        self.failures = list(failures)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "done"


Run = Callable[..., str]


def run_blocking(flaky: Flaky, *args: Any, **kwargs: Any) -> str:
    return retry_blocking(flaky, *args, **kwargs)


def run_async(flaky: Flaky, *args: Any, **kwargs: Any) -> str:
    async def operation() -> str:
        await asyncio.sleep(0)
        return flaky()

    return asyncio.run(retry_async(operation, *args, **kwargs))


@pytest.fixture(params=[run_blocking, run_async], ids=["blocking", "async"])
def run(request: pytest.FixtureRequest) -> Run:
    """Each test of both loops: they share the policy, so they must behave alike."""
    return request.param


def test_waits_double_from_the_initial_one_and_stop_at_the_cap() -> None:
    backoff = Backoff(initial_s=0.5, max_s=3.0)
    assert [backoff.delay(retry) for retry in range(1, 7)] == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]
    assert [Backoff(initial_s=0.1, max_s=10, factor=3).delay(retry) for retry in (1, 2, 3)] == pytest.approx([0.1, 0.3, 0.9])


def test_equal_initial_and_cap_wait_the_same_every_time() -> None:
    assert {Backoff(initial_s=1, max_s=1).delay(retry) for retry in range(1, 31)} == {1}


def test_a_failing_operation_is_retried_until_it_succeeds(run: Run) -> None:
    flaky = Flaky(ValueError("one"), ValueError("two"), ValueError("three"))
    assert run(flaky, ValueError, TINY) == "done"
    assert flaky.calls == 4


def test_spent_attempts_reraise_the_last_error(run: Run) -> None:
    last = ValueError("third")
    flaky = Flaky(ValueError("first"), ValueError("second"), last, ValueError("never tried"))
    with pytest.raises(ValueError) as raised:
        run(flaky, ValueError, TINY, attempts=3)
    assert raised.value is last
    assert flaky.calls == 3


def test_one_attempt_means_no_retry(run: Run) -> None:
    flaky = Flaky(ValueError("only"))
    with pytest.raises(ValueError, match="only"):
        run(flaky, ValueError, TINY, attempts=1)
    assert flaky.calls == 1


def test_only_the_given_exception_types_are_retried(run: Run) -> None:
    flaky = Flaky(ConnectionError("retried"), TimeoutError("retried too"), KeyError("not retried"))
    with pytest.raises(KeyError, match="not retried"):
        run(flaky, (ConnectionError, TimeoutError), TINY)
    assert flaky.calls == 3
    assert flaky.failures == []


def test_a_subclass_of_a_given_type_is_retried(run: Run) -> None:
    flaky = Flaky(ConnectionRefusedError("refused"))
    assert run(flaky, OSError, TINY) == "done"
    assert flaky.calls == 2


def test_on_retry_sees_each_error_and_the_wait_before_the_next_try(run: Run) -> None:
    errors = [ValueError(str(n)) for n in range(4)]
    noted: list[tuple[BaseException, float]] = []
    assert run(Flaky(*errors), ValueError, TINY, on_retry=lambda exc, wait: noted.append((exc, wait))) == "done"
    assert noted == [(errors[0], 0.001), (errors[1], 0.002), (errors[2], 0.004), (errors[3], 0.004)]


def test_on_retry_is_not_told_of_the_error_that_is_raised(run: Run) -> None:
    errors = [ValueError("a"), ValueError("b")]
    noted: list[BaseException] = []
    with pytest.raises(ValueError, match="b"):
        run(Flaky(*errors), ValueError, TINY, attempts=2, on_retry=lambda exc, wait: noted.append(exc))
    assert noted == [errors[0]]


def test_the_blocking_loop_sleeps_each_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(retry.time, "sleep", slept.append)
    assert retry_blocking(Flaky(OSError(), OSError(), OSError()), OSError, Backoff(initial_s=2, max_s=5)) == "done"
    assert slept == [2, 4, 5]


def test_the_async_loop_sleeps_each_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        await real_sleep(0)

    flaky = Flaky(OSError(), OSError(), OSError())

    async def operation() -> str:
        return flaky()

    monkeypatch.setattr(retry.asyncio, "sleep", sleep)
    assert asyncio.run(retry_async(operation, OSError, Backoff(initial_s=2, max_s=5))) == "done"
    assert slept == [2, 4, 5]
