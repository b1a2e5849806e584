"""The activity index and the arrival clocks the idle timers go by: inactive keys come from
the front of each partition, recovered keys go ahead of those touched since, and a
partition's clock follows its events while it is behind and the wall clock once caught up."""

from __future__ import annotations

from processors.runtime.activity import ActivityIndex, ArrivalClocks


def test_inactive_keys_come_oldest_first_and_a_touch_sends_a_key_to_the_back() -> None:
    index = ActivityIndex()
    for n, key in enumerate((b"a", b"b", b"c")):
        index.touch(0, key, 1000 + n)
    index.touch(0, b"a", 2000)
    index.touch(1, b"z", 0)
    assert len(index) == 4
    assert index.inactive(0, before_ms=1500, limit=10) == [b"b", b"c"]
    assert index.inactive(0, before_ms=1500, limit=1) == [b"b"]
    assert index.inactive(0, before_ms=5000, limit=10, busy={b"b"}) == [b"c", b"a"]
    assert index.inactive(2, before_ms=5000, limit=10) == []


def test_adopted_keys_go_ahead_of_those_touched_since_and_are_counted_once() -> None:
    index = ActivityIndex()
    index.touch(0, b"new", 5000)
    index.adopt(0, [(300, b"late"), (100, b"early"), (200, b"new")])
    assert index.keys(0) == [b"early", b"late", b"new"]
    assert len(index) == 3 and (0, b"early") in index and (1, b"early") not in index
    index.discard(0, b"early")
    index.discard(0, b"gone")
    assert len(index) == 2
    index.reset()
    assert (len(index), index.partitions()) == (0, [])


def test_a_partition_clock_follows_its_events_while_behind_and_the_wall_clock_after() -> None:
    clocks = ArrivalClocks()
    assert clocks.now(0, now_ms=10_000) is None
    clocks.observe(0, arrived_ms=1_000, now_ms=10_000)  # nine seconds behind
    assert clocks.now(0, now_ms=10_000) == 1_000
    assert clocks.now(0, now_ms=12_000) == 3_000  # nothing since: as if caught up meanwhile
    # Processing old arrivals now shows the partition is behind: its clock goes back to
    # the latest arrival processed, so nothing is forgotten before its events are seen.
    clocks.observe(0, arrived_ms=500, now_ms=12_000)
    assert clocks.now(0, now_ms=12_000) == 1_000
    clocks.observe(1, arrived_ms=99_000, now_ms=12_000)  # a producer's clock ahead of ours
    assert clocks.now(1, now_ms=12_000) == 12_000
    clocks.reset()
    assert not clocks.knows(0)
