"""Waiting for an eventually consistent pipeline: a check polled until it holds, and a
failure that says what it saw last."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(check: Callable[[], object], timeout_s: float = 90, what: str = "condition") -> None:
    """Poll `check` until it returns True; anything else it returns is what the assertion
    error shows if time runs out."""
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last is True:
            return
        time.sleep(0.5)
    raise AssertionError(f"{what} not reached in {timeout_s}s; last: {last}")
