"""The worker's Prometheus metrics, served on loopback (Faust's web server is off), and the
timer that keeps its whole-worker gauges (open sessions, consumer lag) current."""

from __future__ import annotations

import functools
import logging
import time
from collections import Counter as Tally
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

import faust
from aiokafka.errors import KafkaError
from prometheus_client import Counter, Gauge, Histogram, start_http_server

from processors.analytics.analyse import CustomerOutputs
from processors.sessionisation.sessionise import BatchResult
from processors.runtime.lag_probe import LagProbe
from processors.sessionisation.changes import Before, ClosedSession, SessionChanges, session_changes

log = logging.getLogger("footfall.sessioniser")
# How often open sessions and consumer lag are recomputed.
REFRESH_S = 5.0

EVENTS_PROCESSED = Counter(
    "footfall_processor_events_processed_total", "Events the worker processed, by site", ["site"]
)
BATCH_SECONDS = Histogram(
    "footfall_processor_batch_duration_seconds",
    "Time to process one batch of events, from taking it to Kafka acknowledging its outputs",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
BOT_EVENTS = Counter(
    "footfall_processor_bot_events_total",
    "Events marked as bot traffic that the worker left out of sessions and analytics, by site",
    ["site"],
)
EVENTS_OVER_VISITOR_LIMIT = Counter(
    "footfall_processor_events_over_visitor_limit_total",
    "Events stored without a session because their visitor's state held as many events as it may, by site",
    ["site"],
)
# Not by site: a record that holds no event may name any site in its key.
MALFORMED_EVENTS = Counter(
    "footfall_processor_malformed_records_total",
    "Records of the events topic that held no event, set aside as dead letters",
)
EVENT_LAG_SECONDS = Histogram(
    "footfall_processor_event_lag_seconds",
    "Processing time minus the event's Kafka timestamp (when the collector stored it)",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600),
)
CONSUMER_LAG = Gauge(
    "footfall_processor_consumer_lag_messages",
    "Records in a partition this worker has not processed yet (end offset minus position)",
    ["topic", "partition"],
)
OPEN_SESSIONS = Gauge("footfall_processor_open_sessions", "Sessions a late event could still change, by site", ["site"])
SESSIONS_OPENED = Counter("footfall_processor_sessions_opened_total", "Sessions started, by site", ["site"])
SESSIONS_CLOSED = Counter(
    "footfall_processor_sessions_closed_total",
    "Sessions closed with their final figures, by site and whether they had a purchase",
    ["site", "converted"],
)
SESSION_REVENUE = Counter(
    "footfall_processor_closed_session_revenue_total", "Revenue of the sessions closed, by site", ["site"]
)
TIMER_RUNS = Counter("footfall_processor_timer_runs_total", "Runs of a worker's periodic timers", ["timer"])
TIMER_SECONDS = Histogram(
    "footfall_processor_timer_duration_seconds",
    "Time one timer run took",
    ["timer"],
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5),
)
SEGMENT_MOVES = Counter(
    "footfall_processor_segment_changes_total", "Customers entering or leaving a segment", ["site", "segment", "change"]
)
FUNNEL_STEPS = Counter(
    "footfall_processor_funnel_steps_completed_total", "Visitors reaching a funnel step", ["site", "funnel", "step"]
)
VISITORS_FORGOTTEN = Counter(
    "footfall_processor_visitors_forgotten_total", "Visitor states dropped once idle, by site", ["site"]
)
PROFILES_EXPIRED = Counter(
    "footfall_processor_profiles_expired_total",
    "Profiles of anonymous visitors dropped after the retention without activity, by site",
    ["site"],
)
TABLE_STATES = Gauge("footfall_processor_table_states", "States a worker holds in memory, by table", ["table"])
EVENTS_ERASED = Counter(
    "footfall_processor_events_erased_total",
    "Events of people forgotten (footfall.erasures) dropped before sessionisation, by site",
    ["site"],
)
STATES_ERASED = Counter(
    "footfall_processor_states_erased_total",
    "States of people forgotten deleted from the worker's tables, each tombstoned in its changelog, by table",
    ["table"],
)
ERASURES_MALFORMED = Counter(
    "footfall_processor_erasures_malformed_total", "Records of footfall.erasures skipped because they hold no erasure"
)
ERASURE_HASHES = Gauge("footfall_processor_erasure_hashes", "Id hashes of people forgotten that the worker holds")
PUBLISH_RETRIES = Counter(
    "footfall_processor_publish_retries_total", "Output publishes retried because Kafka did not acknowledge"
)


def site_of(key: bytes | None) -> str:
    """Event keys are `site:visitor` (schemas.event); a record keyed otherwise is counted
    under what its key holds, and set aside by sessionisation."""
    return (key or b"").partition(b":")[0].decode(errors="replace")


class PartitionPositions:
    """The next offset to process in each partition the worker took events from, and the
    partitions it reports lag for."""

    def __init__(self) -> None:
        self.next: dict[tuple[str, int], int] = {}
        self.reported: set[tuple[str, str]] = set()

    def advance(self, events: Sequence[faust.EventT]) -> None:
        for event in events:
            message = event.message
            self.next[(message.topic, message.partition)] = message.offset + 1



def record_batch(
    events: Sequence[faust.EventT], result: BatchResult, found: Mapping[bytes, Before | None], started: float,
    positions: PartitionPositions,
) -> None:
    """After a batch's outputs were acknowledged: what it processed, how long it took, each
    event's lag and the sessions it opened and closed."""
    now = time.time()
    BATCH_SECONDS.observe(time.perf_counter() - started)
    for site, count in Tally(site_of(event.key) for event in events).items():
        EVENTS_PROCESSED.labels(site).inc(count)
    for site, count in result.bots.items():
        BOT_EVENTS.labels(site).inc(count)
    for site, count in result.over_limit.items():
        EVENTS_OVER_VISITOR_LIMIT.labels(site).inc(count)
    for event in events:
        if event.message.timestamp:
            EVENT_LAG_SECONDS.observe(max(0.0, now - event.message.timestamp))
    positions.advance(events)
    record_sessions(session_changes(found, result))


def record_sessions(changes: SessionChanges) -> None:
    for site, count in changes.opened.items():
        SESSIONS_OPENED.labels(site).inc(count)
    record_closed(changes.closed)


def record_closed(closed: Sequence[ClosedSession]) -> None:
    for session in closed:
        SESSIONS_CLOSED.labels(session.site_id, str(session.purchases > 0).lower()).inc()
        if session.revenue:
            SESSION_REVENUE.labels(session.site_id).inc(session.revenue)


def timed(timer: str) -> Callable[[Callable[..., Awaitable[None]]], Callable[..., Awaitable[None]]]:
    """Count and time each run of a Faust timer (put under @app.timer)."""

    def decorate(run: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        @functools.wraps(run)
        async def counted(*args: Any) -> None:
            started = time.perf_counter()
            try:
                await run(*args)
            finally:
                TIMER_RUNS.labels(timer).inc()
                TIMER_SECONDS.labels(timer).observe(time.perf_counter() - started)

        return counted

    return decorate


def refresh_open_sessions(states: Any, sites: Sequence[str]) -> None:
    counts = Tally({site: 0 for site in sites})
    for state in states:
        counts[state.site_id] += len(state.sessions)
    for site, count in counts.items():
        OPEN_SESSIONS.labels(site).set(count)


async def refresh_consumer_lag(
    assigned: Iterable[faust.types.TP], probe: LagProbe, topics: Sequence[str], positions: PartitionPositions
) -> None:
    """Lag per partition of the agent's topics this worker owns now; partitions it gave up
    lose their series."""
    owned = sorted((tp.topic, tp.partition) for tp in assigned if tp.topic in topics)
    for given_up in set(positions.next) - set(owned):
        del positions.next[given_up]
    try:
        ends = await probe.end_offsets(owned)
        for topic, partition in owned:
            # Before its first batch from a partition, the worker resumes where the group committed.
            position = positions.next.get((topic, partition)) or await probe.committed(topic, partition)
            if position is not None and ends.get((topic, partition)) is not None:
                CONSUMER_LAG.labels(topic, str(partition)).set(max(0, ends[(topic, partition)] - position))
                positions.reported.add((topic, str(partition)))
    except KafkaError as exc:
        # An exception would end the worker; the gauges keep their last values instead.
        log.warning("consumer lag not refreshed: %s", exc)
    for labels in positions.reported - {(t, str(p)) for t, p in owned}:
        CONSUMER_LAG.remove(*labels)
        positions.reported.discard(labels)


def serve(port: int, host: str = "127.0.0.1") -> int:
    """Serve /metrics; returns the port, which differs from `port` if that was taken."""
    try:
        server, _ = start_http_server(port, host)
    except OSError as exc:
        log.warning("metrics port %d unavailable (%s); a free one is taken instead", port, exc)
        server, _ = start_http_server(0, host)
    if server.server_port != port:
        log.warning("metrics on http://%s:%d/metrics", host, server.server_port)
    return server.server_port


def record_erased(dropped: Mapping[str, int]) -> None:
    """Events of people forgotten that a batch dropped, by site."""
    for site, count in dropped.items():
        EVENTS_ERASED.labels(site).inc(count)


def start_series(sites: Sequence[str]) -> None:
    """Each site's series exist from the start, at zero, so rates and ratios over them are
    defined before the first session closes."""
    for site in sites:
        EVENTS_PROCESSED.labels(site)
        BOT_EVENTS.labels(site)
        EVENTS_OVER_VISITOR_LIMIT.labels(site)
        VISITORS_FORGOTTEN.labels(site)
        EVENTS_ERASED.labels(site)
        PROFILES_EXPIRED.labels(site)
        SESSIONS_OPENED.labels(site)
        SESSION_REVENUE.labels(site)
        for converted in ("true", "false"):
            SESSIONS_CLOSED.labels(site, converted)


def install(
    app: faust.App, table: faust.types.TableT, positions: PartitionPositions, topics: Sequence[str], bootstrap: str,
    port: int, sites: Sequence[str],
) -> None:
    """Serve the worker's metrics once it starts, and keep its gauges current."""
    start_series(sites)
    probe = LagProbe(bootstrap, app.conf.id)

    async def serve_metrics() -> None:
        serve(port)

    async def refresh_metrics() -> None:
        refresh_open_sessions(table.data.values(), sites)
        await refresh_consumer_lag(app.consumer.assignment(), probe, topics, positions)

    async def stop_probe(app: faust.App, **kwargs: Any) -> None:
        await probe.stop()

    app.task(serve_metrics)
    app.timer(interval=REFRESH_S)(timed("refresh_metrics")(refresh_metrics))
    app.on_before_shutdown.connect(stop_probe)


def record_analytics(outputs: CustomerOutputs) -> None:
    """After a batch's or a timer's analytics outputs were acknowledged."""
    for (site, segment, change), count in outputs.segment_moves.items():
        SEGMENT_MOVES.labels(site, segment, change).inc(count)
    for (site, funnel, step), count in outputs.funnel_steps.items():
        FUNNEL_STEPS.labels(site, funnel, str(step)).inc(count)
