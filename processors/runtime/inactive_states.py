"""What the timers that forget idle visitors and expire profiles share: keeping a table's
activity index complete (a worker that recovered or took over partitions indexes the states
it found, by the time stored in each), and removing inactive states a bounded chunk at a
time, with the lock the agent and the other timers share taken for each chunk only."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import faust

from infra.kafka.publisher import partition_for
from processors.runtime import metrics
from processors.runtime.activity import ActivityIndex
from processors.runtime.worker import EVENT_PARTITIONS, Worker

# States looked at, or removed, per hold of the lock.
CHUNK = 5000

# Called with (partition, key, state, the partition's clock) for each inactive state: it
# removes the state, or touches it again to keep it.
Remove = Callable[[int, bytes, Any, int], None]


def wall_ms() -> int:
    return int(time.time() * 1000)


def settled(worker: Worker, generation: int | None) -> bool:
    """Neither rebalancing nor recovering, nor rebalanced since `generation`: the table
    holds what this worker owns, and the partitions it owns are still the ones it read."""
    app = worker.app
    return not (app.rebalancing or app.in_recovery) and app.consumer_generation_id == generation


async def index_states(worker: Worker, table: faust.Table, activity: ActivityIndex, owned: set[int]) -> None:
    """After a rebalance (a new consumer generation), index every state of the partitions
    owned, by when it was last active; forget, in memory only, those of partitions now
    another worker's. Between rebalances the agent keeps the index, and this does nothing."""
    worker.follow_rebalance()
    if len(activity) == len(table.data):
        return
    generation = worker.tracked_generation
    keys = list(table.data.keys())
    found: dict[int, list[tuple[int, bytes]]] = defaultdict(list)
    unstamped: dict[int, list[bytes]] = defaultdict(list)
    for start in range(0, len(keys), CHUNK):
        async with worker.lock:
            if not settled(worker, generation):
                return  # a rebalance began: the next run starts again
            for key in keys[start:start + CHUNK]:
                state = table.data.get(key)
                if state is None:
                    continue
                partition = partition_for(key, EVENT_PARTITIONS, [])
                if partition not in owned:
                    del table.data[key]
                elif (partition, key) not in activity:
                    if state.seen_ms is None:
                        unstamped[partition].append(key)
                    else:
                        found[partition].append((state.seen_ms, key))
        await asyncio.sleep(0)
    async with worker.lock:
        if not settled(worker, generation):
            return
        now_ms = wall_ms()
        for partition in found.keys() | unstamped.keys():
            stamped = found[partition]
            if not worker.clocks.knows(partition):
                # Until this worker processes events there, the partition's clock starts
                # where its previous owner left it: the latest arrival it saved (now, if
                # no state says).
                worker.clocks.observe(partition, max((seen_ms for seen_ms, _ in stamped), default=now_ms), now_ms)
            # States saved before the time was kept count as active now.
            since = worker.clocks.now(partition, now_ms) or now_ms
            present = [(seen_ms, key) for seen_ms, key in stamped if key in table.data]
            present += [(since, key) for key in unstamped[partition] if key in table.data]
            activity.adopt(partition, present)


async def remove_inactive(worker: Worker, table: faust.Table, activity: ActivityIndex, inactive_ms: int, remove: Remove) -> None:
    """Hand `remove` every state of the partitions owned inactive for longer than
    `inactive_ms` on its partition's clock, never one of the batch in flight."""
    generation = worker.app.consumer_generation_id
    if not settled(worker, generation):
        return
    owned = worker.owned_partitions(table)
    await index_states(worker, table, activity, owned)
    for partition in sorted(owned):
        clock = worker.clocks.now(partition, wall_ms())
        if clock is None:
            continue  # nothing known of it yet: nothing is idle on it
        while True:
            async with worker.lock:
                if not settled(worker, generation):
                    return
                keys = activity.inactive(partition, clock - inactive_ms, CHUNK, worker.in_flight)
                for key in keys:
                    activity.discard(partition, key)
                    state = table.data.get(key)
                    if state is not None:
                        remove(partition, key, state, clock)
            if len(keys) < CHUNK:
                break
            await asyncio.sleep(0)
    metrics.TABLE_STATES.labels(table.name).set(len(table.data))
