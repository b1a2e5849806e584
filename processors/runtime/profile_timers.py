"""The timers that change profiles without an event: one wakes the profiles whose segments
time alone can change (an abandoned cart, a customer who churns), one recomputes each
site's RFM boundaries and rewrites the rows of customers whose scores they change, and one
expires the profiles of anonymous visitors inactive for longer than the retention."""

from __future__ import annotations

import time
from collections import defaultdict
from functools import partial

from processors.analytics import rfm
from processors.analytics.analyse import CustomerOutputs, CustomerState, catch_up, refresh, write_customer
from processors.runtime import metrics
from processors.runtime.inactive_states import remove_inactive
from processors.runtime.publishing import customer_records, publish_until_stored
from processors.runtime.worker import Worker

DAY_MS = 24 * 60 * 60 * 1000


async def publish_then_save(worker: Worker, outputs: CustomerOutputs) -> None:
    """A timer's outputs: acknowledged first, then the states that produced them."""
    await publish_until_stored(worker.publisher, customer_records(outputs))
    worker.save_profiles(outputs)


async def wake_due_profiles(worker: Worker) -> None:
    """Segments of profiles whose next check has come, evaluated at the moments due."""
    now_ms = int(time.time() * 1000)
    async with worker.lock:
        outputs = CustomerOutputs()
        for key, state in worker.owned_profiles():
            if state.next_check_ms is not None and state.next_check_ms <= now_ms:
                site_id = state.profile.site_id
                catch_up(key, state, worker.analytics.for_site(site_id), now_ms, worker.bounds.get(site_id), outputs)
        if outputs.states:
            await publish_then_save(worker, outputs)


async def refresh_rfm(worker: Worker) -> None:
    """New cut points over each site's purchasers; customers whose scores they change get
    a new row (and their RFM segments a new evaluation)."""
    async with worker.lock:
        by_site: dict[str, list[tuple[bytes, CustomerState]]] = defaultdict(list)
        for key, state in worker.owned_profiles():
            by_site[state.profile.site_id].append((key, state))
        outputs = CustomerOutputs()
        for site_id, members in by_site.items():
            new = rfm.boundaries(state.profile for _, state in members)
            old, worker.bounds[site_id] = worker.bounds.get(site_id), new
            if new == old:
                continue
            site = worker.analytics.for_site(site_id)
            for key, state in members:
                if rfm.scores(state.profile, old) != rfm.scores(state.profile, new):
                    state = refresh(key, state, site, state.clock_ms, new, outputs, customer_changed=True)
                    write_customer(key, state, site, new, outputs, worker.clv_models.fitted.get(site_id))
        if outputs.states:
            await publish_then_save(worker, outputs)


def _expire(worker: Worker, partition: int, key: bytes, state: CustomerState, clock_ms: int) -> None:
    """An anonymous visitor's profile, with its segments and funnel progress, leaves the
    table and its changelog (its rows in ClickHouse stay, and no change is published); a
    customer's goes to the back of the line, to be looked at again a retention later."""
    if not state.profile.is_anonymous:
        worker.profile_activity.touch(partition, key, clock_ms)
        return
    metrics.PROFILES_EXPIRED.labels(state.profile.site_id).inc()
    del worker.profiles.data[key]
    worker.profiles.send_changelog(partition, key, None, value_serializer="raw")


async def expire_profiles(worker: Worker) -> None:
    """Profiles of visitors who never identified nor bought, inactive for the retention."""
    retention_ms = int(worker.settings.profile_retention_days * DAY_MS)
    await remove_inactive(worker, worker.profiles, worker.profile_activity, retention_ms, partial(_expire, worker))
