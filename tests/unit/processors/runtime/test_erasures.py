"""A worker and the people forgotten: their events, new or replayed, are dropped before
sessionisation and counted; their visitor and profile states leave the tables with a
tombstone each; nobody else's events or states are touched."""

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
from infra.kafka.publisher import partition_for
from infra.keys import keyed_hash, site_key
from processors.runtime import batch_agent
from processors.runtime.batch_agent import process_batches
from processors.runtime.erasures import erase_recovered_states, erase_states, without_forgotten
from processors.runtime.wiring import build_worker
from processors.runtime.worker import EVENT_PARTITIONS, Worker
from schemas.erasures import Erasure
from schemas.topics import EVENTS

SETTINGS = {"hash_key": "k" * 32}


def event(n: int, anonymous_id: str, user_id: str | None = None, site_id: str = "demo") -> SimpleNamespace:
    moment = datetime(2027, 1, 1, 0, n, tzinfo=UTC).isoformat()
    value = {"event_id": f"e{n}", "site_id": site_id, "type": "purchase", "name": "Order Completed", "ts": moment,
             "received_at": moment, "anonymous_id": anonymous_id, "user_id": user_id, "revenue": 10.0, "order_id": f"o{n}"}
    key = f"{site_id}:{anonymous_id}".encode()
    message = SimpleNamespace(topic=EVENTS.name, partition=partition_for(key, EVENT_PARTITIONS, []), offset=n, timestamp=1.8e9)
    return SimpleNamespace(key=key, value=orjson.dumps(value), message=message)


class Outputs:
    """The worker's publisher and changelogs, noted."""

    def __init__(self, worker: Worker):
        self.published: list[Any] = []
        self.changelog: list[tuple[str, bytes, object]] = []
        for table in (worker.visitors, worker.profiles):
            table.send_changelog = lambda partition, key, value, name=table.name, **_: self.changelog.append((name, key, value))

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish_batched(self, records: list[Any]) -> None:
        self.published += records


def new_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Worker, Outputs]:
    worker = build_worker(Settings(state_dir=tmp_path, **SETTINGS))
    outputs = Outputs(worker)
    worker.publisher = outputs  # type: ignore[assignment]
    worker.erasures.caught_up.set()
    worker.owned_partitions = lambda table: set(range(EVENTS.partitions))  # type: ignore[method-assign]
    monkeypatch.setattr(faults, "reached", lambda point: None)
    return worker, outputs


def forget(worker: Worker, site_id: str, *ids: str) -> Erasure:
    key = site_key(worker.settings, site_id)
    erasure = Erasure(site_id=site_id, id_hashes=[keyed_hash(key, id_) for id_ in ids], requested_at=datetime.now(UTC))
    worker.forgotten.apply(erasure.key, erasure.model_dump_json().encode())
    return erasure


def run_batch(worker: Worker, monkeypatch: pytest.MonkeyPatch, batch: list[SimpleNamespace]) -> None:
    async def one_batch(app, stream, size, within):
        yield batch

    monkeypatch.setattr(batch_agent, "event_batches", one_batch)
    asyncio.run(process_batches(worker, stream=None))  # type: ignore[arg-type]


def erased_events(site: str) -> float:
    return REGISTRY.get_sample_value("footfall_processor_events_erased_total", {"site": site}) or 0.0


def test_events_of_a_forgotten_person_are_dropped_by_any_of_their_ids(tmp_path: Path) -> None:
    worker = build_worker(Settings(state_dir=tmp_path, **SETTINGS))
    forget(worker, "demo", "anon-1", "user-1")
    batch = [event(1, "anon-1"), event(2, "anon-2", "user-1"), event(3, "anon-3"), event(4, "anon-1", site_id="blog")]
    records = [(e.key, e.value) for e in batch]
    records.append((b"demo:anon-1", b"not json"))  # the key alone names them
    records.append((b"demo:anon-4", b"not json"))  # not theirs: left to sessionisation, as ever
    records.append((b"no colon", b"[1, 2]"))
    kept, dropped = without_forgotten(records, worker.forgotten)
    assert [key for key, _ in kept] == [b"demo:anon-3", b"blog:anon-1", b"demo:anon-4", b"no colon"]
    assert dropped == {"demo": 3}


def test_a_batch_publishes_and_saves_nothing_of_a_forgotten_person(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    worker, outputs = new_worker(tmp_path, monkeypatch)
    forget(worker, "demo", "anon-1", "user-1")
    before = erased_events("demo")
    run_batch(worker, monkeypatch, [event(1, "anon-1"), event(2, "anon-2", "user-1"), event(3, "anon-3")])
    assert {record.key for record in outputs.published} == {b"demo:anon-3"}
    assert b"anon-1" not in b"".join(record.value for record in outputs.published)
    assert {key for _, key, _ in outputs.changelog} == {b"demo:anon-3"}
    assert set(worker.visitors.data) == set(worker.profiles.data) == {b"demo:anon-3"}
    assert erased_events("demo") == before + 2


def test_an_erasure_deletes_the_states_of_its_person_with_a_tombstone_each(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    worker, outputs = new_worker(tmp_path, monkeypatch)
    run_batch(worker, monkeypatch, [event(1, "anon-1"), event(2, "anon-2", "user-1"), event(3, "anon-3"), event(4, "anon-1", site_id="blog")])
    assert len(worker.visitors.data) == len(worker.profiles.data) == 4
    outputs.changelog.clear()
    # The person is known by their user id alone: the state keyed by another anonymous id goes too.
    forget(worker, "demo", "anon-1", "user-1")
    asyncio.run(erase_states(worker, {"demo"}))
    gone = {b"demo:anon-1", b"demo:anon-2"}
    assert sorted(outputs.changelog) == sorted((table, key, None) for table in ("visitors", "profiles") for key in gone)
    assert set(worker.visitors.data) == set(worker.profiles.data) == {b"demo:anon-3", b"blog:anon-1"}
    assert not any(key in gone for partition in worker.visitor_activity.partitions() for key in worker.visitor_activity.keys(partition))
    # Deleting again finds nothing more to delete.
    asyncio.run(erase_states(worker, {"demo"}))
    assert len(outputs.changelog) == 4


def test_recovered_states_are_cleared_once_per_generation_after_the_erasures_were_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    worker, outputs = new_worker(tmp_path, monkeypatch)
    run_batch(worker, monkeypatch, [event(1, "anon-1"), event(3, "anon-3")])
    outputs.changelog.clear()
    forget(worker, "demo", "anon-1")
    monkeypatch.setattr(type(worker.app), "consumer_generation_id", 7, raising=False)
    worker.erasures.caught_up.clear()
    asyncio.run(erase_recovered_states(worker))
    assert outputs.changelog == [] and worker.erased_generation is None  # not before every erasure is known
    worker.erasures.caught_up.set()
    asyncio.run(erase_recovered_states(worker))
    assert sorted(outputs.changelog) == [("profiles", b"demo:anon-1", None), ("visitors", b"demo:anon-1", None)]
    assert worker.erased_generation == 7
