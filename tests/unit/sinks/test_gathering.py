"""What the sink's loop gathers: the records of the partitions it still owns, the offsets
to commit after them, and when the batch is due."""

from __future__ import annotations

from typing import NamedTuple

import orjson

from schemas.topics import SESSIONISED
from sinks.gathering import Gathering


class Partition(NamedTuple):
    topic: str
    partition: int


class Record(NamedTuple):
    offset: int
    value: bytes | None
    key: bytes | None = None


EVENTS_0, EVENTS_1 = Partition(SESSIONISED.name, 0), Partition(SESSIONISED.name, 1)


def event(n: int) -> bytes:
    body = {"event_id": f"e{n}", "site_id": "shop", "type": "page_view", "name": "Page Viewed", "ts": 0, "received_at": 0}
    return orjson.dumps({"kind": "event", "event": body})


def test_records_of_partitions_the_group_took_away_are_left_to_their_next_owner() -> None:
    gathering = Gathering(opened=0.0)
    fetched = {EVENTS_0: [Record(4, event(4)), Record(5, event(5))], EVENTS_1: [Record(9, event(9))]}

    gathering.take(fetched, owned={EVENTS_0}, now=1.0)

    assert [row["event_id"] for row in gathering.batch.events] == ["e4", "e5"]
    assert gathering.offsets == {EVENTS_0: 6}


def test_the_offset_to_commit_is_the_one_after_the_last_record_taken_even_a_malformed_one() -> None:
    gathering = Gathering(opened=0.0)
    gathering.take({EVENTS_0: [Record(10, event(10))]}, {EVENTS_0, EVENTS_1}, 1.0)
    gathering.take({EVENTS_0: [Record(11, b"\xff not json"), Record(12, None)], EVENTS_1: []}, {EVENTS_0, EVENTS_1}, 1.1)

    assert gathering.offsets == {EVENTS_0: 13}
    assert [rejection.source for rejection in gathering.batch.rejected] == [f"{SESSIONISED.name}:0:11", f"{SESSIONISED.name}:0:12"]


def test_a_batch_is_due_when_full_or_old_enough_and_never_while_empty() -> None:
    gathering = Gathering(opened=0.0)
    assert not gathering.due(now=1e9, rows=1, age_s=0.0)

    gathering.take({EVENTS_0: [Record(1, event(1))]}, {EVENTS_0}, now=100.0)
    assert not gathering.due(now=100.4, rows=2, age_s=0.5)  # its age counts from its first record
    assert gathering.due(now=100.5, rows=2, age_s=0.5)
    gathering.take({EVENTS_0: [Record(2, event(2))]}, {EVENTS_0}, now=100.1)
    assert gathering.due(now=100.1, rows=2, age_s=0.5)

