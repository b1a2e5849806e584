"""Bounded worker state without Kafka: a built worker's timers forget idle visitors and
expire anonymous profiles by the time stored in each state, so a worker that recovered
them (after a restart or a rebalance) forgets them too; customers are kept, a batch in
flight is left alone, and states of partitions another worker took are dropped from memory."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
import pytest

from infra.config import Settings
from infra.kafka.publisher import partition_for
from processors.analytics.analyse import analyse_batch
from processors.runtime import batch_agent, inactive_states, profile_codec, visitor_codec
from processors.runtime.batch_agent import Arrivals, save_batch
from processors.runtime.idle_visitors import forget_idle_visitors
from processors.runtime.profile_timers import expire_profiles
from processors.runtime.wiring import build_worker
from processors.runtime.worker import EVENT_PARTITIONS, Worker
from processors.sessionisation.changes import FirstSeen
from processors.sessionisation.sessionise import sessionise_batch

T0_MS = 1_900_000_000_000
GAP_S, LATENESS_S = 60, 10
HORIZON_MS = (GAP_S + LATENESS_S) * 1000
RETENTION_DAYS = 1
DAY_MS = 86_400_000


class FakeTime:
    """The wall clock the agent's saves and the timers read, moved by the test."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.ms = T0_MS
        monkeypatch.setattr(inactive_states, "wall_ms", lambda: self.ms)
        monkeypatch.setattr(batch_agent, "time", SimpleNamespace(time=lambda: self.ms / 1000))


class Harness:
    """A built worker whose changelog sends are recorded, owning every partition."""

    def __init__(self, tmp_path: Path, name: str):
        settings = Settings(
            state_dir=tmp_path / name, session_gap_s=GAP_S, allowed_lateness_s=LATENESS_S,
            profile_retention_days=RETENTION_DAYS,
        )
        self.worker: Worker = build_worker(settings)
        self.sent: dict[str, list[tuple[bytes, Any]]] = {"visitors": [], "profiles": []}
        for table in (self.worker.visitors, self.worker.profiles):
            table.send_changelog = self._recorder(table.name)
        self.owned = set(EVENT_PARTITIONS)
        self.worker.owned_partitions = lambda table: self.owned  # type: ignore[method-assign]

    def _recorder(self, name: str):
        def send(partition: int, key: bytes, value: Any, **_: Any) -> None:
            self.sent[name].append((key, value))
        return send

    def batch(self, *events: dict[str, Any], arrived_ms: int) -> None:
        """What the agent does with a batch once Kafka stored its outputs."""
        w = self.worker
        records = [(f"demo:{e['anonymous_id']}".encode(), orjson.dumps(e)) for e in events]
        result = sessionise_batch(records, FirstSeen(w.visitors.data.get), w.rules.for_site)
        analysed = analyse_batch(result.placed, w.profiles.data.get, w.analytics.for_site, w.bounds.get)
        keys = [key for key, _ in records]
        save_batch(w, result, analysed, Arrivals({k: partition_for(k, EVENT_PARTITIONS, []) for k in keys}, dict.fromkeys(keys, arrived_ms)))

    def tombstoned(self, table: str) -> set[bytes]:
        return {key for key, value in self.sent[table] if value is None}

    def recovered_by(self, successor: Harness, old_format: bool = False) -> None:
        """What a successor's Faust recovery would put in its tables: the latest value of
        each key in the changelogs, decoded."""
        for name, codec in (("visitors", visitor_codec.CODEC), ("profiles", profile_codec.CODEC)):
            table = getattr(successor.worker, name)
            for key, value in dict(self.sent[name]).items():
                if value is not None:
                    data = codec.dump(value)
                    if old_format:
                        data.pop("seen")
                    table.data[key] = codec.load(orjson.loads(orjson.dumps(data)))


def event(n: int, visitor: str, at_ms: int, type_: str = "page_view", **fields: Any) -> dict[str, Any]:
    moment = datetime.fromtimestamp(at_ms / 1000, UTC).isoformat()
    return {"event_id": f"e{n}", "site_id": "demo", "type": type_, "name": type_, "ts": moment, "received_at": moment,
            "anonymous_id": visitor, **fields}


def run(timer, harness: Harness) -> None:
    asyncio.run(timer(harness.worker))


def test_idle_visitors_are_forgotten_with_a_tombstone_and_active_ones_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeTime(monkeypatch)
    one = Harness(tmp_path, "one")
    one.batch(event(1, "early", T0_MS), event(2, "later", T0_MS), arrived_ms=T0_MS)
    clock.ms = T0_MS + HORIZON_MS - 1000
    one.batch(event(3, "later", clock.ms), arrived_ms=clock.ms)
    run(forget_idle_visitors, one)
    assert one.tombstoned("visitors") == set()
    clock.ms = T0_MS + HORIZON_MS + 1
    run(forget_idle_visitors, one)
    assert one.tombstoned("visitors") == {b"demo:early"}
    assert set(one.worker.visitors.data) == {b"demo:later"}


@pytest.mark.parametrize("old_format", [False, True], ids=["states with their time", "states saved before it was kept"])
def test_a_worker_forgets_the_idle_visitors_it_recovered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, old_format: bool) -> None:
    clock = FakeTime(monkeypatch)
    one = Harness(tmp_path, "one")
    one.batch(*(event(n, f"v{n}", T0_MS) for n in range(20)), arrived_ms=T0_MS)
    successor = Harness(tmp_path, "successor")
    one.recovered_by(successor, old_format)
    # Recovered after a long stop: the partition may be catching up on events that arrived
    # meanwhile, so its clock starts where its previous owner left it (or, for states
    # without a stored time, now), and the stop itself is not counted as idle time.
    clock.ms = T0_MS + 2 * HORIZON_MS
    run(forget_idle_visitors, successor)
    assert successor.tombstoned("visitors") == set() and len(successor.worker.visitors.data) == 20
    clock.ms += HORIZON_MS + 1
    run(forget_idle_visitors, successor)
    assert successor.tombstoned("visitors") == {f"demo:v{n}".encode() for n in range(20)}
    assert len(successor.worker.visitors.data) == 0 and len(successor.worker.visitor_activity) == 0


def test_a_visitor_of_the_batch_in_flight_is_not_forgotten(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeTime(monkeypatch)
    one = Harness(tmp_path, "one")
    one.batch(event(1, "a", T0_MS), event(2, "b", T0_MS), arrived_ms=T0_MS)
    one.worker.in_flight = {b"demo:a"}
    clock.ms += HORIZON_MS + 1
    run(forget_idle_visitors, one)
    assert one.tombstoned("visitors") == {b"demo:b"}
    one.worker.in_flight = set()
    run(forget_idle_visitors, one)
    assert one.tombstoned("visitors") == {b"demo:a", b"demo:b"}


def test_a_partition_behind_forgets_no_one_whose_next_event_it_has_not_reached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker processes events that arrived long ago (it is catching up): idleness is
    measured on their arrival times, not on the wall clock."""
    FakeTime(monkeypatch)  # the wall clock stands still: only arrival times move
    one = Harness(tmp_path, "one")
    key = b"demo:a"
    one.batch(event(1, "a", T0_MS - 10 * HORIZON_MS), arrived_ms=T0_MS - 10 * HORIZON_MS)
    run(forget_idle_visitors, one)
    assert one.tombstoned("visitors") == set() and key in one.worker.visitors.data


def test_states_of_partitions_another_worker_took_leave_memory_without_a_tombstone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    FakeTime(monkeypatch)
    one = Harness(tmp_path, "one")
    one.batch(*(event(n, f"v{n}", T0_MS) for n in range(30)), arrived_ms=T0_MS)
    kept = {0, 1, 2}
    one.owned = kept
    one.worker.app.consumer_generation_id += 1  # the rebalance that took the other half
    run(forget_idle_visitors, one)
    remaining = set(one.worker.visitors.data)
    assert remaining and all(partition_for(key, EVENT_PARTITIONS, []) in kept for key in remaining)
    assert len(remaining) < 30 and one.tombstoned("visitors") == set()


def test_nothing_is_forgotten_while_the_worker_rebalances(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeTime(monkeypatch)
    one = Harness(tmp_path, "one")
    one.batch(event(1, "a", T0_MS), arrived_ms=T0_MS)
    clock.ms += HORIZON_MS + 1
    one.worker.app.rebalancing = True
    run(forget_idle_visitors, one)
    assert one.tombstoned("visitors") == set()


def test_only_anonymous_profiles_expire_after_the_retention(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeTime(monkeypatch)
    one = Harness(tmp_path, "one")
    one.batch(
        event(1, "anonymous", T0_MS),
        event(2, "identified", T0_MS, "identify", user_id="U-1"),
        event(3, "buyer", T0_MS, "purchase", revenue=12.5, order_id="o-1"),
        event(4, "with-traits", T0_MS, "identify", traits={"plan": "pro"}),
        arrived_ms=T0_MS,
    )
    clock.ms = T0_MS + RETENTION_DAYS * DAY_MS - 1
    run(expire_profiles, one)
    assert one.tombstoned("profiles") == set()
    clock.ms += 2
    run(expire_profiles, one)
    assert one.tombstoned("profiles") == {b"demo:anonymous"}
    assert set(one.worker.profiles.data) == {b"demo:identified", b"demo:buyer", b"demo:with-traits"}
    # Customers are looked at again a retention later, and kept again.
    clock.ms += RETENTION_DAYS * DAY_MS + 1
    run(expire_profiles, one)
    assert len(one.worker.profiles.data) == 3 and len(one.worker.profile_activity) == 3


def test_a_recovered_anonymous_profile_expires_and_a_returning_visitor_starts_afresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeTime(monkeypatch)
    one = Harness(tmp_path, "one")
    one.batch(event(1, "a", T0_MS), event(2, "a", T0_MS + 1000), arrived_ms=T0_MS)
    successor = Harness(tmp_path, "successor")
    one.recovered_by(successor)
    run(expire_profiles, successor)
    clock.ms += RETENTION_DAYS * DAY_MS + 1
    run(expire_profiles, successor)
    assert successor.tombstoned("profiles") == {b"demo:a"}
    successor.batch(event(3, "a", clock.ms), arrived_ms=clock.ms)
    assert successor.worker.profiles.data[b"demo:a"].profile.events == 1
