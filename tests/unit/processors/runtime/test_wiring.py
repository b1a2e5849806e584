"""A worker is a value built from its settings: importing the processors registers
nothing, and building one gives its app the agent, the timers and the coded tables, with
the session rules and analytics of the sites it was given."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from infra.config import Settings, Site
from processors.runtime.wiring import build_worker
from schemas.topics import EVENTS


def test_importing_the_processors_builds_nothing(tmp_path: Path) -> None:
    env = {**os.environ, "FOOTFALL_STATE_DIR": str(tmp_path / "state")}
    modules = "processors.__main__, processors.runtime.wiring, processors.runtime.batch_agent, processors.runtime.profile_timers"
    subprocess.run([sys.executable, "-c", f"import {modules}"], env=env, check=True, timeout=60)
    assert not (tmp_path / "state").exists()  # an app, once made, has its data folder there


def test_a_built_worker_has_its_agent_timers_and_tables(tmp_path: Path) -> None:
    shop = Site(id="shop", write_key="k", session_gap_s=60, funnels=[{"name": "buy", "window_s": 60, "steps": [{"type": "purchase"}]}])
    worker = build_worker(Settings(state_dir=tmp_path, sites=[shop], session_gap_s=600, allowed_lateness_s=30))
    assert list(worker.app.agents) == ["process_batches"]
    assert worker.events.get_topic_name() == EVENTS.name
    assert (worker.visitors.value_serializer, worker.profiles.value_serializer) == ("footfall-visitor", "footfall-customer")
    assert worker.visitors.changelog_topic.value_serializer == "footfall-visitor"
    # the quiet-logs task, the erasures' and the lifetime value models' readers, seven timers
    # (the refit among them), and the metrics' server and refresh timer
    assert len(worker.app._app_tasks) == 12
    never_refit = build_worker(Settings(state_dir=tmp_path, sites=[shop], clv_refit_hours=0))
    assert len(never_refit.app._app_tasks) == 11
    assert (worker.rules.for_site("shop").gap_ms, worker.rules.for_site("blog").gap_ms) == (60_000, 600_000)
    assert worker.rules.idle_horizon_ms == 630_000
    assert [funnel.name for funnel in worker.analytics.for_site("shop").funnel_definitions] == ["buy"]
