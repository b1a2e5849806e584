"""Run one worker, the sessioniser and the analytics agent: `python -m processors` (what
`footfall up` starts)."""

from __future__ import annotations

import sys

from processors import analytics_app  # noqa: F401  (registers the analytics agent and its timers)
from processors.app import app

if __name__ == "__main__":
    sys.argv = [sys.argv[0], "worker", "--loglevel", "warn", "--without-web"]
    app.main()
