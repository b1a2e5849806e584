"""The agent's order, which keeps a crash and replay exact: a batch's outputs are stored by
Kafka first, then the crash-test fault point is passed, then the states are saved; and the
bot events it left out are counted."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from prometheus_client import REGISTRY

from infra import faults
from infra.config import Settings
from processors.runtime import batch_agent
from processors.runtime.batch_agent import process_batches
from processors.runtime.wiring import build_worker
from schemas.topics import EVENTS


class FakePublisher:
    def __init__(self) -> None:
        self.published: list[Any] = []

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish_batched(self, records: list[Any]) -> None:
        self.published += records


def fake_event(n: int, bot: bool = False) -> SimpleNamespace:
    moment = datetime(2027, 1, 1, tzinfo=UTC).isoformat()
    value = {"event_id": f"e{n}", "site_id": "demo", "type": "page_view", "name": "Page Viewed", "ts": moment,
             "received_at": moment, "anonymous_id": f"v{n}", "bot": bot}
    message = SimpleNamespace(topic=EVENTS.name, partition=n % EVENTS.partitions, offset=n, timestamp=1.8e9)
    return SimpleNamespace(key=f"demo:v{n}".encode(), value=orjson.dumps(value), message=message)


def test_outputs_are_stored_before_the_fault_point_and_states_saved_after(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    worker = build_worker(Settings(state_dir=tmp_path))
    worker.publisher = FakePublisher()  # type: ignore[assignment]
    worker.erasures.caught_up.set()  # none to read
    saved: list[tuple[str, bytes]] = []
    for table in (worker.visitors, worker.profiles):
        table.send_changelog = lambda partition, key, value, name=table.name, **_: saved.append((name, key))
    at_fault: list[tuple[int, int]] = []
    monkeypatch.setattr(faults, "reached", lambda point: at_fault.append((len(worker.publisher.published), len(saved))))

    async def one_batch(app, stream, size, within):
        yield [fake_event(0), fake_event(1), fake_event(2, bot=True)]

    monkeypatch.setattr(batch_agent, "event_batches", one_batch)
    bots_before = bot_events()
    asyncio.run(process_batches(worker, stream=None))  # type: ignore[arg-type]
    # When the point is reached every output is stored and no state is saved yet.
    assert at_fault == [(len(worker.publisher.published), 0)] and at_fault[0][0] > 0
    assert {name for name, _ in saved} == {"visitors", "profiles"} and len(saved) == 4  # the bot has none
    assert bot_events() == bots_before + 1


def bot_events() -> float:
    return REGISTRY.get_sample_value("footfall_processor_bot_events_total", {"site": "demo"}) or 0.0
