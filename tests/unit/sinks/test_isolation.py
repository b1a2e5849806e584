"""The writer on the real engine (chDB): rows ClickHouse refuses for what they hold are
found and set aside in footfall.rejected_rows, every other row is stored; a backfill of
many months is stored whole; a replay stores nothing twice; a refusal of the server's
condition stores nothing aside and leaves the whole batch to write again."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from infra.clickhouse.backend import ClickHouseError
from infra.clickhouse.embedded import EmbeddedClickHouse
from infra.clickhouse.migrations import migrate
from schemas.topics import SEGMENT_CHANGES, SESSIONISED
from sinks.rejections import REFUSED, UNREADABLE
from sinks.rows import RowBatch
from sinks.service import Writer

START = datetime(2010, 1, 15, 10, 0, tzinfo=UTC)


class Observed:
    """The real engine, with each insert noted (table and rows) and, optionally, ClickHouse's
    row numbers cut from its messages, as a server reached over the native protocol gives none."""

    def __init__(self, engine: EmbeddedClickHouse, row_numbers: bool = True):
        self.engine, self.row_numbers = engine, row_numbers
        self.inserts: list[tuple[str, int]] = []
        self.refuse_next: dict[str, str] = {}

    def execute(self, sql: str) -> None:
        self.engine.execute(sql)

    def insert(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        self.inserts.append((table, len(rows)))
        if table in self.refuse_next:
            raise ClickHouseError(self.refuse_next.pop(table))
        try:
            self.engine.insert(table, rows)
        except ClickHouseError as exc:
            if self.row_numbers:
                raise
            raise ClickHouseError(re.sub(r"\(at row \d+\)", "", str(exc))) from None

    def query(self, sql: str) -> list[dict[str, Any]]:
        return self.engine.query(sql)

    def close(self) -> None:
        self.engine.close()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[EmbeddedClickHouse]:
    backend = EmbeddedClickHouse(tmp_path / "clickhouse")
    migrate(backend)
    yield backend
    backend.close()


def event(n: int, at: datetime = START, **fields: Any) -> dict[str, Any]:
    """A sessionised event as the sessioniser publishes it."""
    ts = at.isoformat()
    return {"event_id": f"e{n:05d}", "site_id": "shop", "type": "page_view", "name": "Page Viewed", "ts": ts,
            "received_at": ts, "anonymous_id": "a1", "session_id": "s1", "x": float(n), **fields}


def batch_of(events: list[dict[str, Any]]) -> RowBatch:
    batch = RowBatch()
    for offset, record in enumerate(events):
        batch.take(SESSIONISED.name, 0, offset, orjson.dumps({"kind": "event", "event": record}))
    return batch


def monthly(count: int) -> list[dict[str, Any]]:
    """An event a month, from START on."""
    return [event(n, datetime(START.year + n // 12, n % 12 + 1, 15, tzinfo=UTC)) for n in range(count)]


def one(engine: EmbeddedClickHouse, sql: str) -> Any:
    return next(iter(engine.query(sql)[0].values()))


def stored_ids(engine: EmbeddedClickHouse) -> list[str]:
    return [row["event_id"] for row in engine.query("SELECT event_id FROM footfall.events FINAL ORDER BY event_id")]


def rejected(engine: EmbeddedClickHouse) -> list[dict[str, Any]]:
    return engine.query("SELECT * FROM footfall.rejected_rows FINAL ORDER BY content")


def test_a_row_clickhouse_refuses_is_set_aside_and_the_rows_beside_it_stored(engine: EmbeddedClickHouse) -> None:
    observed = Observed(engine)
    events = [event(n) for n in range(1_000)]
    events[617] = event(617, x="abc")
    written = Writer(observed).write(batch_of(events))

    assert stored_ids(engine) == [f"e{n:05d}" for n in range(1_000) if n != 617]
    assert written.stored["events"] == 999 and len(written.rejected) == 1
    [row] = rejected(engine)
    assert (row["site_id"], row["target_table"], row["reason_class"], row["source"]) == ("shop", "events", REFUSED, "")
    assert row["reason"].startswith("Code: 72. DB::Exception: Cannot read floating point value")
    assert "(while reading the value of key x)" in row["reason"] and row["reason"].endswith("(CANNOT_PARSE_NUMBER)")
    assert orjson.loads(row["content"])["event_id"] == "e00617"
    # ClickHouse named the row: the rows before it, the row alone, the rows after it.
    assert [rows for table, rows in observed.inserts if table == "footfall.events"] == [1_000, 617, 383, 1, 382]


def test_without_row_numbers_refused_rows_are_found_by_halving(engine: EmbeddedClickHouse) -> None:
    observed = Observed(engine, row_numbers=False)
    bad = {3, 100, 101, 199}
    events = [event(n, x="abc" if n in bad else float(n)) for n in range(200)]
    written = Writer(observed).write(batch_of(events))

    assert stored_ids(engine) == [f"e{n:05d}" for n in range(200) if n not in bad]
    assert sorted(orjson.loads(row["content"])["event_id"] for row in rejected(engine)) == [f"e{n:05d}" for n in sorted(bad)]
    assert written.stored["events"] == 196
    assert len([table for table, _ in observed.inserts if table == "footfall.events"]) < 60


def test_a_value_outside_its_type_is_refused_and_the_other_tables_rows_stored(engine: EmbeddedClickHouse) -> None:
    batch = RowBatch()
    change = {"site_id": "shop", "segment": "loyal", "anonymous_id": "a1", "customer_id": "c1", "at_ms": 1_795_600_800_000, "version": 3}
    batch.take(SEGMENT_CHANGES.name, 0, 0, orjson.dumps({**change, "change": "entered"}))
    batch.take(SEGMENT_CHANGES.name, 0, 1, orjson.dumps({**change, "change": "teleported", "anonymous_id": "a2"}))
    Writer(engine).write(batch)

    assert engine.query("SELECT anonymous_id, change FROM footfall.segment_changes") == [{"anonymous_id": "a1", "change": "entered"}]
    assert one(engine, "SELECT count() FROM footfall.segment_membership") == 2, "membership takes any change"
    [row] = rejected(engine)
    assert row["target_table"] == "segment_changes" and "(UNKNOWN_ELEMENT_OF_ENUM)" in row["reason"]
    assert "Unknown element 'teleported' for enum" in row["reason"]


def test_a_backfill_spanning_many_months_is_stored_whole_and_a_replay_adds_nothing(engine: EmbeddedClickHouse) -> None:
    observed = Observed(engine)
    events = monthly(150)
    written = Writer(observed).write(batch_of(events))
    assert written.stored["events"] == 150 and written.rejected == []
    assert [rows for table, rows in observed.inserts if table == "footfall.events"] == [100, 50]
    assert rejected(engine) == []

    Writer(observed).write(batch_of(events))  # the same batch again, as after a crash before the commit
    assert one(engine, "SELECT count() FROM footfall.events") == 150, "the same blocks: dropped by insert deduplication"
    assert one(engine, "SELECT uniqExact(toYYYYMM(ts)) FROM footfall.events") == 150


def test_a_server_allowing_fewer_partitions_per_insert_still_stores_every_row(engine: EmbeddedClickHouse) -> None:
    engine.execute("SET max_partitions_per_insert_block = 8")
    written = Writer(engine).write(batch_of(monthly(30)))
    assert written.stored["events"] == 30 and written.rejected == []
    assert stored_ids(engine) == [f"e{n:05d}" for n in range(30)]


def test_a_record_that_cannot_be_read_is_kept_with_where_it_sits_and_a_replay_collapses(engine: EmbeddedClickHouse) -> None:
    moments = iter(datetime(2026, 11, 25, tzinfo=UTC) + timedelta(seconds=n) for n in range(10))
    writer = Writer(engine, clock=lambda: next(moments))
    batch = batch_of([event(1), event(2, ts="0001-01-01T00:00:00Z")])
    batch.take(SESSIONISED.name, 5, 77, b"\xffnot json")
    writer.write(batch)
    writer.write(batch)  # replayed later: set aside again, at another moment

    assert stored_ids(engine) == ["e00001"]
    rows = rejected(engine)
    assert [(row["reason_class"], row["source"]) for row in rows] == [
        (UNREADABLE, "footfall.events.sessionised:0:1"), (UNREADABLE, "footfall.events.sessionised:5:77"),
    ]
    assert rows[0]["site_id"] == "shop" and rows[0]["reason"].startswith("ImpossibleTime: 0001-01-01T00:00:00+00:00 is outside")
    assert rows[1]["content"] == "\ufffdnot json" and rows[1]["reason"].startswith("JSONDecodeError: ")
    assert one(engine, "SELECT count() FROM footfall.rejected_rows FINAL") == 2


def test_a_refusal_of_the_servers_condition_sets_nothing_aside_and_the_batch_is_written_again(engine: EmbeddedClickHouse) -> None:
    observed = Observed(engine)
    batch = batch_of([event(n, x="abc" if n == 5 else float(n)) for n in range(20)])
    observed.refuse_next["footfall.rejected_rows"] = "Code: 243. DB::Exception: Cannot reserve 1.00 MiB, not enough space. (NOT_ENOUGH_SPACE)"
    with pytest.raises(ClickHouseError, match="NOT_ENOUGH_SPACE") as refused:
        Writer(observed).write(batch)
    assert not refused.value.permanent
    assert rejected(engine) == []

    Writer(observed).write(batch)  # the caller's retry, once the disk has room
    assert one(engine, "SELECT count() FROM footfall.events") == 19, "every stored block recognised: nothing twice"
    assert [orjson.loads(row["content"])["event_id"] for row in rejected(engine)] == ["e00005"]


def test_costs_for_years_of_days_are_imported_whole(engine: EmbeddedClickHouse) -> None:
    days = [(START + timedelta(days=15 * n)).date().isoformat() for n in range(300)]  # about 150 months
    rows = [{"site_id": "shop", "day": day, "utm_source": "news", "utm_medium": "email", "utm_campaign": "c",
             "cost": 1.0, "currency": "EUR", "version": 1} for day in days]
    Writer(engine).insert_costs(rows)
    assert one(engine, "SELECT count() FROM footfall.campaign_costs FINAL") == 300
