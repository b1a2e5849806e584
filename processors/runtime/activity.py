"""When each state of a table was last active, partition by partition, and each partition's
arrival clock: what lets the timers that forget idle visitors and expire profiles work in
proportion to what they remove, not to the size of the table. Pure: no Faust, no Kafka."""

from __future__ import annotations

from collections.abc import Collection, Iterable


class ArrivalClocks:
    """Each partition's time on the clock of the events' Kafka timestamps: when the latest
    event processed there arrived, plus the wall-clock time since it was processed.

    While a partition is behind, its clock is as far behind as its events; once it is
    caught up (or quiet), its clock follows the wall clock."""

    def __init__(self) -> None:
        # partition → (latest arrival processed, wall clock when it was), in ms
        self._latest: dict[int, tuple[int, int]] = {}

    def observe(self, partition: int, arrived_ms: int, now_ms: int) -> None:
        """Events that arrived up to `arrived_ms` were processed at `now_ms`."""
        known = self._latest.get(partition)
        self._latest[partition] = (max(arrived_ms, known[0]) if known else arrived_ms, now_ms)

    def knows(self, partition: int) -> bool:
        return partition in self._latest

    def now(self, partition: int, now_ms: int) -> int | None:
        """The partition's time, never ahead of the wall clock; None before anything is known of it."""
        known = self._latest.get(partition)
        if known is None:
            return None
        arrived_ms, processed_ms = known
        return min(now_ms, arrived_ms + max(0, now_ms - processed_ms))

    def reset(self) -> None:
        self._latest.clear()


class ActivityIndex:
    """A table's keys by partition, each partition's in the order they were last active,
    with when (on the partition's arrival clock). Inactive keys are found at the front."""

    def __init__(self) -> None:
        self._partitions: dict[int, dict[bytes, int]] = {}
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def __contains__(self, entry: tuple[int, bytes]) -> bool:
        partition, key = entry
        return key in self._partitions.get(partition, ())

    def reset(self) -> None:
        self._partitions.clear()
        self._size = 0

    def partitions(self) -> list[int]:
        return list(self._partitions)

    def keys(self, partition: int) -> list[bytes]:
        return list(self._partitions.get(partition, ()))

    def touch(self, partition: int, key: bytes, seen_ms: int) -> None:
        """The key was active at `seen_ms`: it goes to the back of its partition."""
        keys = self._partitions.setdefault(partition, {})
        if keys.pop(key, None) is None:
            self._size += 1
        keys[key] = seen_ms

    def adopt(self, partition: int, found: Iterable[tuple[int, bytes]]) -> None:
        """Keys found in the table but not yet here (a recovered partition's), with when they
        were last active: ahead of every key touched since, oldest first."""
        touched = self._partitions.get(partition, {})
        adopted = {key: seen_ms for seen_ms, key in sorted(found) if key not in touched}
        self._size += len(adopted)
        adopted.update(touched)
        self._partitions[partition] = adopted

    def discard(self, partition: int, key: bytes) -> None:
        keys = self._partitions.get(partition)
        if keys is not None and keys.pop(key, None) is not None:
            self._size -= 1

    def inactive(self, partition: int, before_ms: int, limit: int, busy: Collection[bytes] = ()) -> list[bytes]:
        """Up to `limit` keys of the partition last active before `before_ms`, oldest first;
        keys in `busy` are passed over, not returned."""
        found: list[bytes] = []
        for key, seen_ms in self._partitions.get(partition, {}).items():
            if seen_ms >= before_ms or len(found) >= limit:
                break
            if key not in busy:
                found.append(key)
        return found
