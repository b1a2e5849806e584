"""The Faust app, the sessioniser's visitor table and the timer that forgets idle visitors.

Each visitor's state lives in a Faust table backed by a changelog topic, so a restarted
worker resumes where it was; the agent that fills it is processors.runtime.agent. Outputs go
through one producer of the worker's own, awaited per batch: Faust's send costs more per
record than the sessionisation itself. The sink, not this process, writes to ClickHouse.
"""

from __future__ import annotations

import time
from dataclasses import replace

from infra.kafka.publisher import Publisher, partition_for
from infra.config import load
from processors.runtime import metrics
from processors.runtime.visitor_codec import CODEC_NAME
from processors.runtime.app_factory import new_app
from processors.sessionisation.changes import closed_when_forgotten
from processors.sessionisation.sessions import Rules
from processors.runtime.table_codec import use_codec
from schemas.topics import EVENTS, SESSIONISER_APP_ID, VISITORS_TABLE

settings = load()
DEFAULT_RULES = Rules(gap_ms=int(settings.session_gap_s * 1000), lateness_ms=int(settings.allowed_lateness_s * 1000))
RULES_BY_SITE = {
    site.id: replace(DEFAULT_RULES, gap_ms=int(site.session_gap_s * 1000))
    for site in settings.sites
    if site.session_gap_s is not None
}
app = new_app(SESSIONISER_APP_ID, settings)
# Started by the agent; the timers' publishes retry until it is.
publisher = Publisher(settings.kafka_bootstrap, settings.kafka_ack_timeout_s, client_id="footfall-processors")

events = app.topic(EVENTS.name, key_serializer="raw", value_serializer="raw", partitions=EVENTS.partitions)
# Keys are the events' own Kafka keys (bytes, so raw in the changelog); values are
# VisitorState objects, which only the changelog sees encoded (processors.runtime.visitor_codec).
visitors = app.Table(VISITORS_TABLE, key_type=bytes, partitions=EVENTS.partitions)
use_codec(visitors, CODEC_NAME)
EVENT_PARTITIONS = list(range(EVENTS.partitions))
# When each visitor was last seen, by this worker's clock, for the idle timer.
last_seen: dict[bytes, float] = {}
metrics.install(
    app,
    visitors,
    (EVENTS.name,),
    settings.kafka_bootstrap,
    settings.processor_metrics_port,
    [site.id for site in settings.sites],
)


def rules_for(site_id: str) -> Rules:
    return RULES_BY_SITE.get(site_id, DEFAULT_RULES)


@app.timer(interval=settings.idle_check_s)
@metrics.timed("forget_idle_visitors")
async def forget_idle_visitors() -> None:
    """Drop the state of visitors idle longer than a gap plus the allowed lateness: their
    sessions can no longer change, and every row was published when it last did."""
    longest_gap_ms = max([DEFAULT_RULES.gap_ms, *(rules.gap_ms for rules in RULES_BY_SITE.values())])
    horizon = (longest_gap_ms + DEFAULT_RULES.lateness_ms) / 1000
    now = time.monotonic()
    actives = {tp.partition for tp in app.assignor.assigned_actives() if tp.topic == visitors.changelog_topic.get_topic_name()}
    for key in [k for k, seen in last_seen.items() if now - seen > horizon]:
        del last_seen[key]
        partition = partition_for(key, EVENT_PARTITIONS, [])
        if partition in actives and key in visitors.data:
            metrics.record_closed(closed_when_forgotten(visitors.data[key]))
            del visitors.data[key]
            visitors.send_changelog(partition, key, None, value_serializer="raw")
