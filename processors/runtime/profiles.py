"""The analytics state of the worker: customer profiles (segments, funnels, customer
rows) in a Faust table beside the sessioniser's, and the two timers that change them.

The profiles table is partitioned like footfall.events, so a worker holds the profiles of
the very visitors it sessionises: processors.runtime.agent analyses each batch right after
sessionising it. States are saved only after their outputs are acknowledged by Kafka, so
a crash replays the batch over the old states and republishes the same records.

One timer wakes the profiles whose segments can change with time alone (an abandoned
cart, a customer who churns), the other recomputes each site's RFM boundaries and
rewrites the rows of customers whose scores they change.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict

from infra.kafka.publisher import partition_for
from processors.analytics import rfm, site_config
from processors.runtime import metrics
from processors.analytics.analyse import CustomerState, CustomerOutputs, catch_up, refresh, write_customer
from processors.runtime.profile_codec import CODEC_NAME
from processors.runtime.publishing import customer_records, publish_until_stored
from processors.runtime.visitors import app, publisher, settings
from processors.runtime.table_codec import use_codec
from schemas.topics import EVENTS, PROFILES_TABLE


config = site_config.for_sites(settings.sites)
profiles = app.Table(PROFILES_TABLE, key_type=bytes, partitions=EVENTS.partitions)
use_codec(profiles, CODEC_NAME)
# Each site's RFM cut points over this worker's customers, recomputed by a timer.
bounds: dict[str, rfm.Boundaries | None] = {}
# The agent and the timers read and replace the same states across awaits.
lock = asyncio.Lock()
PARTITIONS = list(range(EVENTS.partitions))


def save(outputs: CustomerOutputs) -> None:
    """After the outputs were acknowledged: the states that produced them, and their counts."""
    metrics.record_analytics(outputs)
    for key, state in outputs.states.items():
        profiles.data[key] = state
        profiles.send_changelog(partition_for(key, PARTITIONS, []), key, state)


async def publish_then_save(outputs: CustomerOutputs) -> None:
    """A timer's outputs: acknowledged first, then the states that produced them."""
    await publish_until_stored(publisher, customer_records(outputs))
    save(outputs)


def active_states() -> list[tuple[bytes, CustomerState]]:
    """The states of the partitions this worker owns now."""
    changelog = profiles.changelog_topic.get_topic_name()
    actives = {tp.partition for tp in app.assignor.assigned_actives() if tp.topic == changelog}
    return [(key, state) for key, state in list(profiles.data.items()) if partition_for(key, PARTITIONS, []) in actives]


@app.timer(interval=settings.segment_check_s)
@metrics.timed("wake_due_profiles")
async def wake_due_profiles() -> None:
    """Segments of profiles whose next check has come, evaluated at the moments due."""
    now_ms = int(time.time() * 1000)
    async with lock:
        outputs = CustomerOutputs()
        for key, state in active_states():
            if state.next_check_ms is not None and state.next_check_ms <= now_ms:
                site_id = state.profile.site_id
                catch_up(key, state, config.for_site(site_id), now_ms, bounds.get(site_id), outputs)
        if outputs.states:
            await publish_then_save(outputs)


@app.timer(interval=settings.rfm_refresh_s)
@metrics.timed("refresh_rfm")
async def refresh_rfm() -> None:
    """New cut points over each site's purchasers; customers whose scores they change get
    a new row (and their RFM segments a new evaluation)."""
    async with lock:
        states = active_states()
        by_site: dict[str, list[tuple[bytes, CustomerState]]] = defaultdict(list)
        for key, state in states:
            by_site[state.profile.site_id].append((key, state))
        outputs = CustomerOutputs()
        for site_id, members in by_site.items():
            new = rfm.boundaries(state.profile for _, state in members)
            old, bounds[site_id] = bounds.get(site_id), new
            if new == old:
                continue
            site = config.for_site(site_id)
            for key, state in members:
                if rfm.scores(state.profile, old) != rfm.scores(state.profile, new):
                    state = refresh(key, state, site, state.clock_ms, new, outputs, customer_changed=True)
                    write_customer(key, state, site, new, outputs)
        if outputs.states:
            await publish_then_save(outputs)
