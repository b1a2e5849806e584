"""What the sink's consumer loop has read and not yet written: the rows, the offsets to
commit once they are stored, and since when the batch has been open.

Pure, so what a batch takes and when it is due are tested without Kafka. Several sinks may
share one consumer group; a partition the group has just moved to another sink must never
be written by this one again (its new owner reads it from the committed offset, and two
writers of one partition could store a session's moves out of order), so records fetched
for a partition that is no longer this sink's are left out.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from infra.erasures import Forgotten
from sinks.rows import NOBODY, RowBatch


class Partition(Protocol):
    """A topic partition as the consumer names it."""

    topic: str
    partition: int


class Fetched(Protocol):
    """One record as the consumer hands it over."""

    offset: int
    value: bytes | None
    key: bytes | None


@dataclass
class Gathering:
    """The batch being gathered and, per partition, the offset to commit once it is written."""

    opened: float
    forgotten: Forgotten = NOBODY
    # Per site, the demographic traits its identify calls' rows keep.
    trait_names: Mapping[str, Collection[str]] = field(default_factory=dict)
    batch: RowBatch = field(init=False)
    offsets: dict[Partition, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.batch = RowBatch(forgotten=self.forgotten, trait_names=self.trait_names)

    def take(self, fetched: Mapping[Partition, Sequence[Fetched]], owned: Collection[Partition], now: float) -> None:
        """Records of the partitions this sink still owns, into the batch; the batch's age
        counts from the fetch that brought its first record."""
        if not self.batch:
            self.opened = now
        for partition, records in fetched.items():
            if partition not in owned or not records:
                continue
            for record in records:
                self.batch.take(partition.topic, partition.partition, record.offset, record.value, record.key)
            self.offsets[partition] = records[-1].offset + 1

    def due(self, now: float, rows: int, age_s: float) -> bool:
        """Full, or open for long enough: time to write it."""
        return bool(self.batch) and (len(self.batch) >= rows or now - self.opened >= age_s)
