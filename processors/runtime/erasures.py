"""A worker and the people forgotten (footfall.erasures): their events are dropped before
sessionisation, new or replayed, and their visitor and profile states leave the tables,
each with a tombstone in its changelog, so no worker recovers them and no timer writes a
row of theirs again.

States are deleted when an erasure arrives, and again, for every erasure held, once a
rebalance settles: a partition this worker recovered may hold the state of someone
forgotten while no worker owned it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from functools import partial
from collections.abc import Callable, Collection, Iterable, Iterator
from typing import Any

import faust
import orjson

from infra.config import Settings
from infra.erasures import Forgotten
from infra.kafka.erasure_reader import ErasureReader
from infra.kafka.publisher import partition_for
from infra.keys import site_key
from processors.analytics.analyse import CustomerState
from processors.runtime import metrics
from processors.runtime.activity import ActivityIndex
from processors.runtime.inactive_states import CHUNK, settled
from processors.runtime.worker import EVENT_PARTITIONS, Worker
from processors.sessionisation.sessionise import KeyValue, visitor_of
from processors.sessionisation.sessions import VisitorState
from schemas.erasures import Erasure

log = logging.getLogger("footfall.sessioniser")


def forgotten_of(settings: Settings) -> Forgotten:
    """An empty Forgotten hashing with the sites' keys as configured (infra.keys)."""
    return Forgotten(lambda site_id: site_key(settings, site_id))


def without_forgotten(records: Iterable[KeyValue], forgotten: Forgotten) -> tuple[list[KeyValue], Counter[str]]:
    """The events of a batch that are no forgotten person's, and how many were dropped, by
    site. Only events of sites with an erasure are decoded and their ids hashed."""
    kept: list[KeyValue] = []
    dropped: Counter[str] = Counter()
    for key, value in records:
        site_id = metrics.site_of(key)
        if forgotten.holds(site_id) and forgotten.names(site_id, _event_ids(key, value)):
            dropped[site_id] += 1
        else:
            kept.append((key, value))
    return kept, dropped


def _event_ids(key: bytes, value: bytes) -> Iterator[object]:
    """The ids an event goes by: its key's visitor, its anonymous and user ids."""
    yield visitor_of(key) if key and b":" in key else None
    try:
        event = orjson.loads(value)
    except orjson.JSONDecodeError:
        return  # not an event: sessionisation deals with it as with any other
    if isinstance(event, dict):
        yield event.get("anonymous_id")
        yield event.get("user_id")


def visitor_ids(key: bytes, state: VisitorState) -> tuple[str | None, ...]:
    return visitor_of(key), state.anonymous_id, state.user_id


def profile_ids(key: bytes, state: CustomerState) -> tuple[str | None, ...]:
    return visitor_of(key), state.profile.user_id


IdsOf = Callable[[bytes, Any], tuple[str | None, ...]]


def _site_of(state: Any) -> str:
    return state.site_id if isinstance(state, VisitorState) else state.profile.site_id


async def _erase_from(worker: Worker, table: faust.Table, activity: ActivityIndex, ids_of: IdsOf, sites: Collection[str]) -> int:
    """Delete the states of `table` that name someone forgotten on `sites`, a chunk at a
    time under the lock; a tombstone for each in a partition this worker owns."""
    owned = worker.owned_partitions(table)
    keys = list(table.data.keys())
    erased = 0
    for start in range(0, len(keys), CHUNK):
        async with worker.lock:
            for key in keys[start:start + CHUNK]:
                state = table.data.get(key)
                if state is None or _site_of(state) not in sites:
                    continue
                if not worker.forgotten.names(_site_of(state), ids_of(key, state)):
                    continue
                partition = partition_for(key, EVENT_PARTITIONS, [])
                del table.data[key]
                activity.discard(partition, key)
                if partition in owned:
                    table.send_changelog(partition, key, None, value_serializer="raw")
                erased += 1
        await asyncio.sleep(0)
    metrics.STATES_ERASED.labels(table.name).inc(erased)
    return erased


async def erase_states(worker: Worker, sites: Collection[str]) -> None:
    """Every visitor and profile state of someone forgotten on `sites`, out of the tables."""
    visitors = await _erase_from(worker, worker.visitors, worker.visitor_activity, visitor_ids, sites)
    profiles = await _erase_from(worker, worker.profiles, worker.profile_activity, profile_ids, sites)
    if visitors or profiles:
        log.info("erased %d visitor and %d profile states of people forgotten on %s", visitors, profiles, ", ".join(sorted(sites)))


async def on_erasure(worker: Worker, erasure: Erasure) -> None:
    """An erasure that arrived while the worker runs: its person's states go at once."""
    await erase_states(worker, {erasure.site_id})


async def erase_recovered_states(worker: Worker) -> None:
    """A timer: once per consumer generation, after the rebalance settled and the
    erasures were read, the states of everyone forgotten leave what the worker recovered."""
    generation = worker.app.consumer_generation_id
    if worker.erased_generation == generation or not worker.erasures.caught_up.is_set() or not settled(worker, generation):
        return
    if worker.forgotten:
        await erase_states(worker, worker.forgotten.sites())
    if settled(worker, generation):
        worker.erased_generation = generation


def erasure_reader(worker: Worker) -> ErasureReader:
    """The worker's reader of footfall.erasures, deleting states as erasures arrive."""
    return ErasureReader(
        worker.settings.kafka_bootstrap, worker.forgotten, "footfall-processors-erasures", log,
        on_malformed=lambda exc: metrics.ERASURES_MALFORMED.inc(), on_erasure=partial(on_erasure, worker),
    )


def install(worker: Worker) -> None:
    """Read the erasures from the worker's start to its end, and count what they hold."""
    for table in (worker.visitors, worker.profiles):
        metrics.STATES_ERASED.labels(table.name)
    metrics.ERASURE_HASHES.set_function(lambda: len(worker.forgotten))

    async def start_reading() -> None:
        worker.erasures.start()

    async def stop_reading(app: faust.App, **kwargs: Any) -> None:
        await worker.erasures.stop()

    worker.app.task(start_reading)
    worker.app.on_before_shutdown.connect(stop_reading)
