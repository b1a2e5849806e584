"""A processors worker built from its settings, in one call: the Faust app and its events
topic, the visitor and profile tables with their changelog codecs, the publisher, the
session rules and analytics, the agent, the timers and the metrics. `python -m processors`
builds one with the settings it loaded; importing this registers nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import partial

from infra.config import Settings
from infra.kafka.publisher import Publisher
from processors.analytics import site_config
from processors.runtime import clv_timers, erasures, metrics, profile_codec, visitor_codec
from processors.runtime.app_factory import new_app
from processors.runtime.batch_agent import process_batches
from processors.runtime.idle_visitors import forget_idle_visitors
from processors.runtime.profile_timers import expire_profiles, refresh_rfm, wake_due_profiles
from processors.runtime.table_codec import json_table
from processors.runtime.worker import Worker
from processors.sessionisation.sessions import Rules, SiteRules
from schemas.topics import EVENTS, PROFILES_TABLE, SESSIONISER_APP_ID, VISITORS_TABLE

Timer = Callable[[Worker], Awaitable[None]]


def session_rules(settings: Settings) -> SiteRules:
    """The default rules from the settings, and each site's own gap and bot counting where
    it sets them."""
    default = Rules(
        gap_ms=int(settings.session_gap_s * 1000),
        lateness_ms=int(settings.allowed_lateness_s * 1000),
        max_visitor_events=settings.max_visitor_events,
    )
    return SiteRules(default, {
        site.id: replace(default, gap_ms=int((site.session_gap_s or settings.session_gap_s) * 1000), count_bots=site.count_bots)
        for site in settings.sites
        if site.session_gap_s is not None or site.count_bots
    })


def _every(worker: Worker, interval_s: float, timer: Timer, on_leader: bool = False) -> None:
    """Run `timer` on the worker every `interval_s` seconds (on the group's leader only if
    `on_leader`), counted and timed by name."""
    name = timer.__name__
    worker.app.timer(interval=interval_s, name=name, on_leader=on_leader)(metrics.timed(name)(partial(timer, worker)))


def build_worker(settings: Settings) -> Worker:
    """Everything one worker runs, registered with its Faust app; start it with `worker.app.main()`."""
    app = new_app(SESSIONISER_APP_ID, settings)
    worker = Worker(
        app=app,
        settings=settings,
        events=app.topic(EVENTS.name, key_serializer="raw", value_serializer="raw", partitions=EVENTS.partitions),
        visitors=json_table(app, VISITORS_TABLE, visitor_codec.CODEC),
        profiles=json_table(app, PROFILES_TABLE, profile_codec.CODEC),
        publisher=Publisher(settings.kafka, settings.kafka_ack_timeout_s, client_id="footfall-processors"),
        rules=session_rules(settings),
        analytics=site_config.for_sites(settings.sites),
        forgotten=erasures.forgotten_of(settings),
    )
    worker.erasures = erasures.erasure_reader(worker)
    erasures.install(worker)
    app.agent(worker.events, name="process_batches")(partial(process_batches, worker))
    _every(worker, settings.idle_check_s, forget_idle_visitors)
    _every(worker, settings.idle_check_s, erasures.erase_recovered_states)
    _every(worker, settings.idle_check_s, expire_profiles)
    _every(worker, settings.segment_check_s, wake_due_profiles)
    _every(worker, settings.rfm_refresh_s, refresh_rfm)
    clv_timers.install(worker)
    _every(worker, settings.segment_check_s, clv_timers.apply_clv_fits)
    if settings.clv_refit_hours > 0:
        _every(worker, settings.clv_refit_hours * 3600, clv_timers.refit_clv, on_leader=True)
    metrics.install(
        app, worker.visitors, worker.positions, (EVENTS.name,), settings.kafka,
        settings.processor_metrics_port, [site.id for site in settings.sites],
    )
    return worker
