"""How the sink writes a batch: table by table in the writer, and, while ClickHouse refuses,
retried with its partitions paused and polled, resumed once written; and the loop around
it: write, the fault point, then the commit."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any, NamedTuple

import orjson
import pytest
from aiokafka import TopicPartition
from prometheus_client import REGISTRY

from infra import faults
from infra.faults import SINK_AFTER_WRITE
from infra.clickhouse.backend import ClickHouseError
from infra.config import Settings
from schemas.topics import CUSTOMERS, DEAD_LETTER, SESSIONISED, SESSIONS
from sinks.rejections import REFUSED, UNREADABLE, refused
from sinks.rows import RowBatch
from sinks.service import Writer, Written
from sinks.sink import HandOver, SinkLoop, write_with_retries

PARTITIONS = {TopicPartition(SESSIONISED.name, 0), TopicPartition(SESSIONS.name, 3)}
EVENT = {"event_id": "e1", "site_id": "shop", "type": "page_view", "name": "Page Viewed", "ts": 0, "received_at": 0}


class RecordingBackend:
    """Notes each call: the statement, or the table and how many rows."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def execute(self, sql: str) -> None:
        self.calls.append(("execute", sql))

    def insert(self, table: str, rows: Any) -> None:
        self.calls.append(("insert", table, len(rows)))

    def query(self, sql: str) -> list[dict[str, Any]]:
        self.calls.append(("query", sql))
        return [{"one": 1}]

    def close(self) -> None:
        self.calls.append(("close",))


class RefusingWriter:
    """Refuses the first `refusals` writes as a full disk would; logs every call in `calls`."""

    def __init__(self, calls: list[str], refusals: int):
        self.calls, self.refusals = calls, refusals

    def write(self, batch: RowBatch) -> Written:
        self.calls.append("write")
        if self.refusals:
            self.refusals -= 1
            raise ClickHouseError("Code: 243. Cannot reserve 1.00 MiB, not enough space")
        return Written(Counter(events=len(batch.events), sessions=len(batch.sessions), invalid_events=len(batch.invalid)))


class RecordingConsumer:
    def __init__(self, calls: list[str]):
        self.calls = calls
        self.paused: set[TopicPartition] = set()

    def assignment(self) -> set[TopicPartition]:
        return PARTITIONS

    def pause(self, *partitions: TopicPartition) -> None:
        self.calls.append("pause")
        self.paused.update(partitions)

    def resume(self, *partitions: TopicPartition) -> None:
        self.calls.append("resume")
        self.paused.difference_update(partitions)

    async def getmany(self, timeout_ms: int = 0, max_records: int | None = None) -> dict:
        self.calls.append(f"poll {sorted(self.paused)}" if self.paused else "poll")
        return {}


def batch() -> RowBatch:
    rows = RowBatch()
    rows.add(SESSIONISED.name, orjson.dumps({"kind": "event", "event": EVENT}))
    rows.add(SESSIONISED.name, orjson.dumps({"kind": "moved", "site_id": "shop", "event_ids": ["e1"], "session_id": "s2"}))
    rows.add(DEAD_LETTER.name, orjson.dumps({"site_id": "shop", "received_at": 0, "endpoint": "batch", "reason": "bad", "raw": "{"}))
    return rows


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def write(writer: RefusingWriter, consumer: RecordingConsumer) -> None:
    settings = Settings(sink_retry_initial_s=0.001, sink_retry_max_s=0.002)
    asyncio.run(write_with_retries(writer, batch(), consumer, settings))  # type: ignore[arg-type]


def test_the_writer_stores_events_before_the_moves_that_rewrite_them() -> None:
    backend = RecordingBackend()
    rows = batch()
    rows.add(CUSTOMERS.name, orjson.dumps({"customer_id": "c1", "first_purchase_ms": None, "last_purchase_ms": None,
                                           "nps_ms": None, "csat_ms": None, "ces_ms": None, "updated_ms": 0}))
    Writer(backend).write(rows)
    assert backend.calls == [
        ("insert", "footfall.events", 1),
        ("execute", rows.moves[0]),
        ("insert", "footfall.sessions", 0),
        ("insert", "footfall.invalid_events", 1),
        ("insert", "footfall.customers", 1),
    ]


def test_the_writer_sends_costs_queries_and_close_to_its_backend() -> None:
    backend = RecordingBackend()
    writer = Writer(backend)
    writer.insert_costs([{"site_id": "shop"}, {"site_id": "shop"}])
    assert writer.query("SELECT 1 AS one") == [{"one": 1}]
    writer.close()
    assert backend.calls == [("insert", "footfall.campaign_costs", 2), ("query", "SELECT 1 AS one"), ("close",)]


def test_a_batch_written_at_once_neither_pauses_nor_retries() -> None:
    calls: list[str] = []
    retries, events = sample("footfall_sink_retries_total"), sample("footfall_sink_rows_written_total", table="events")
    write(RefusingWriter(calls, refusals=0), RecordingConsumer(calls))
    assert calls == ["write"]
    assert sample("footfall_sink_retries_total") == retries
    assert sample("footfall_sink_rows_written_total", table="events") == events + 1


def test_a_refused_batch_is_retried_with_the_partitions_paused_and_polled_until_written(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[str] = []
    consumer = RecordingConsumer(calls)
    before = {name: sample(name) for name in ("footfall_sink_retries_total", "footfall_sink_errors_total")}
    events, invalid = (sample("footfall_sink_rows_written_total", table=table) for table in ("events", "invalid_events"))

    with caplog.at_level(logging.WARNING, logger="footfall.sink"):
        write(RefusingWriter(calls, refusals=3), consumer)

    paused = f"poll {sorted(PARTITIONS)}"
    assert calls == ["write", "pause", paused, "write", paused, "write", paused, "write", "resume"]
    assert consumer.paused == set()
    assert sample("footfall_sink_retries_total") == before["footfall_sink_retries_total"] + 3
    assert sample("footfall_sink_errors_total") == before["footfall_sink_errors_total"] + 3
    assert sample("footfall_sink_rows_written_total", table="events") == events + 1
    assert sample("footfall_sink_rows_written_total", table="invalid_events") == invalid + 1
    warnings = [(record.name, record.getMessage()) for record in caplog.records]
    refused = "writing 3 rows failed, retrying in 0.0s: Code: 243. Cannot reserve 1.00 MiB, not enough space"
    assert warnings == [("footfall.sink", refused)] * 3
    assert [record.args[1] for record in caplog.records] == [0.001, 0.002, 0.002]  # type: ignore[index]


class Record(NamedTuple):
    offset: int
    value: bytes | None
    key: bytes | None = None


class LoopConsumer(RecordingConsumer):
    """Hands out one prepared fetch per poll, then asks the loop to stop; notes each commit."""

    def __init__(self, calls: list, fetches: list[dict], stopping: asyncio.Event):
        super().__init__(calls)
        self.fetches, self.stopping = fetches, stopping

    async def getmany(self, timeout_ms: int = 0, max_records: int | None = None) -> dict:
        if self.fetches:
            return self.fetches.pop(0)
        self.stopping.set()
        return {}

    async def commit(self, offsets: dict) -> None:
        self.calls.append(("commit", dict(offsets)))


class NotingWriter:
    def __init__(self, calls: list):
        self.calls = calls

    def write(self, batch: RowBatch) -> Written:
        self.calls.append(("write", [row["event_id"] for row in batch.events], [r.source for r in batch.rejected]))
        return Written(Counter(events=len(batch.events)), list(batch.rejected))


def test_the_loop_writes_a_batch_then_reaches_the_fault_point_then_commits_and_survives_a_malformed_record(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list = []
    monkeypatch.setattr(faults, "reached", lambda point: calls.append(("reached", point)))
    stopping = asyncio.Event()
    events = TopicPartition(SESSIONISED.name, 0)
    good = [orjson.dumps({"kind": "event", "event": EVENT | {"event_id": f"e{n}"}}) for n in range(3)]
    fetches = [{events: [Record(10, good[0]), Record(11, good[1])]}, {events: [Record(12, b"{not json"), Record(13, good[2])]}]
    consumer = LoopConsumer(calls, fetches, stopping)
    settings = Settings(sink_batch_rows=2, sink_batch_s=60)

    asyncio.run(SinkLoop(consumer, NotingWriter(calls), settings).run(stopping))  # type: ignore[arg-type]

    assert calls == [
        ("write", ["e0", "e1"], []), ("reached", SINK_AFTER_WRITE), ("commit", {events: 12}),
        ("write", ["e2"], [f"{SESSIONISED.name}:0:12"]), ("reached", SINK_AFTER_WRITE), ("commit", {events: 14}),
    ]


class SettingAsideWriter:
    """Stores every event but the first, which it sets aside as ClickHouse refused."""

    def write(self, batch: RowBatch) -> Written:
        aside = [refused("events", batch.events[0], "Code: 72. Cannot read floating point value")]
        return Written(Counter(events=len(batch.events) - 1), aside + list(batch.rejected))


def test_rows_set_aside_are_counted_by_table_and_reason_and_logged_not_counted_as_written(caplog: pytest.LogCaptureFixture) -> None:
    rows = batch()
    rows.add(SESSIONISED.name, orjson.dumps({"kind": "event", "event": EVENT | {"event_id": "e2"}}))
    rows.take(SESSIONS.name, 1, 5, b"[]")
    names = ("footfall_sink_rows_rejected_total", "footfall_sink_rows_written_total")
    before = {
        "refused": sample(names[0], table="events", reason_class=REFUSED),
        "unreadable": sample(names[0], table="sessions", reason_class=UNREADABLE),
        "written": sample(names[1], table="events"),
    }
    with caplog.at_level(logging.WARNING, logger="footfall.sink"):
        asyncio.run(write_with_retries(SettingAsideWriter(), rows, RecordingConsumer([]), Settings()))  # type: ignore[arg-type]
    assert sample(names[0], table="events", reason_class=REFUSED) == before["refused"] + 1
    assert sample(names[0], table="sessions", reason_class=UNREADABLE) == before["unreadable"] + 1
    assert sample(names[1], table="events") == before["written"] + 1
    assert [record.getMessage() for record in caplog.records] == [
        "set 2 of 5 rows aside in footfall.rejected_rows; the first, for events: Code: 72. Cannot read floating point value"
    ]


def test_partitions_taken_away_by_the_group_are_handed_over_only_once_their_batch_is_written_and_committed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list = []
    monkeypatch.setattr(faults, "reached", lambda point: calls.append(("reached", point)))
    events = TopicPartition(SESSIONISED.name, 0)
    consumer = LoopConsumer(calls, [], asyncio.Event())
    loop = SinkLoop(consumer, NotingWriter(calls), Settings(sink_batch_rows=100, sink_batch_s=60))  # type: ignore[arg-type]
    loop.gathering.take({events: [Record(7, orjson.dumps({"kind": "event", "event": EVENT}))]}, {events}, 0.0)

    async def rebalance() -> None:
        await HandOver(loop).on_partitions_revoked([events])
        calls.append("handed over")
        await HandOver(loop).on_partitions_revoked([events])  # nothing left to write

    asyncio.run(rebalance())

    assert calls == [("write", ["e1"], []), ("reached", SINK_AFTER_WRITE), ("commit", {events: 8}), "handed over"]
