"""The lifetime value timers of a worker: the rows of a site's customers rewritten when its
fit changes, and, on the group's leader alone, the refit of every site at the configured
interval (published, for every worker to apply and the sink to store)."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any

import faust
import httpx

from infra.clickhouse.backend import ClickHouseError
from infra.clickhouse.warehouse import through_sink
from processors.analytics.analyse import CustomerOutputs, catch_up, refresh, write_customer
from processors.analytics.clv.calibration import fit_site
from processors.analytics.clv.fitting import FitError
from processors.runtime.clv_reader import fit_record
from processors.runtime.profile_timers import publish_then_save
from processors.runtime.publishing import publish_until_stored
from processors.runtime.worker import Worker
from schemas.clv import ClvFit

log = logging.getLogger("footfall.sessioniser")


async def apply_clv_fits(worker: Worker) -> None:
    """The rows of every buyer of each site whose fit changed, with the new fit, as of now:
    P(alive) falls as time passes without a purchase, which the customer's own clock (the
    time of their latest event) would not show."""
    models = worker.clv_models
    if not models.changed:
        return
    now_ms = int(time.time() * 1000)
    async with worker.lock:
        sites, models.changed = models.changed, set()
        outputs = CustomerOutputs()
        for key, state in worker.owned_profiles():
            site_id = state.profile.site_id
            if site_id not in sites or state.profile.purchases == 0 or key in worker.in_flight:
                continue
            site, bounds = worker.analytics.for_site(site_id), worker.bounds.get(site_id)
            catch_up(key, state, site, now_ms, bounds, outputs)
            state = refresh(key, outputs.states.get(key, state), site, now_ms, bounds, outputs, customer_changed=True)
            write_customer(key, state, site, bounds, outputs, models.fitted.get(site_id))
        if outputs.states:
            await publish_then_save(worker, outputs)


def fit_sites(worker: Worker) -> list[ClvFit]:
    """Every site fitted on its purchases up to today, through the sink (which owns the
    engine while the stack runs); a site that cannot be fitted is logged and left out."""
    settings = worker.settings
    fits = []
    now = datetime.now(UTC)
    with through_sink(settings) as warehouse:
        if warehouse is None:
            log.warning("lifetime value models not refitted: the sink does not answer at %s", settings.sink_url)
            return []
        for site in settings.sites:
            try:
                fits.append(fit_site(warehouse.query, site.id, now.date(), int(now.timestamp() * 1000)))
            except (FitError, ClickHouseError, httpx.HTTPError) as exc:
                log.warning("lifetime value models of site %s not refitted: %s", site.id, exc)
    return fits


async def refit_clv(worker: Worker) -> None:
    """On the leader: every site refitted and the fits published, for every worker (this
    one included) to apply and the sink to store."""
    fits = await asyncio.to_thread(fit_sites, worker)
    if fits:
        await publish_until_stored(worker.publisher, [fit_record(fit) for fit in fits])


def install(worker: Worker) -> None:
    """Read the fits from the worker's start to its end."""
    reading: list[asyncio.Task[Any]] = []

    async def start_reading() -> None:
        reading.append(asyncio.create_task(worker.clv_models.read(worker.settings.kafka), name="read-clv-models"))

    async def stop_reading(app: faust.App, **kwargs: Any) -> None:
        for task in reading:
            task.cancel()
        await asyncio.gather(*reading, return_exceptions=True)

    worker.app.task(start_reading)
    worker.app.on_before_shutdown.connect(stop_reading)
