"""Run one worker, sessionising and analysing its share of the events: `python -m processors` (what
`footfall up` starts)."""

from __future__ import annotations

import gc
import sys

from processors.runtime import agent  # noqa: F401  (registers the agent, and with it every table and timer)
from processors.runtime.visitors import app

# A worker holds millions of long-lived objects (visitor states, profiles) and makes many
# short-lived ones per event. With Python's default thresholds the cyclic collector
# rescanned that heap often enough to take a fifth of the worker's time, for garbage that
# reference counting frees anyway; collections this much rarer cost almost nothing.
GC_THRESHOLDS = (50_000, 20, 10)

if __name__ == "__main__":
    gc.set_threshold(*GC_THRESHOLDS)
    sys.argv = [sys.argv[0], "worker", "--loglevel", "warn", "--without-web"]
    app.main()
