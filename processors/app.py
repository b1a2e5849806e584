"""The Faust app: the sessioniser agent and the timer that forgets idle visitors.

The agent is thin: it decodes, calls processors.sessions.apply, stores the visitor's new
state in a Faust table (backed by a changelog topic, so a restarted worker resumes where
it was) and publishes the results. The sink, not this process, writes to ClickHouse.

Run a worker with `python -m processors`; start more to spread the partitions.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import replace
from datetime import datetime

import faust
import orjson

from collector.publisher import partition_for
from footfall.settings import load
from processors import codec
from processors.sessions import Rules, SessionRow, VisitorState, apply
from schemas.topics import EVENTS, SESSIONISED, SESSIONISER_APP_ID, SESSIONS, VISITORS_TABLE

settings = load()
DEFAULT_RULES = Rules(gap_ms=int(settings.session_gap_s * 1000), lateness_ms=int(settings.allowed_lateness_s * 1000))
RULES_BY_SITE = {
    site.id: replace(DEFAULT_RULES, gap_ms=int(site.session_gap_s * 1000))
    for site in settings.sites
    if site.session_gap_s is not None
}
DATA_DIR = settings.state_dir / "processors" / str(os.getpid())
DATA_DIR.mkdir(parents=True, exist_ok=True)

app = faust.App(
    SESSIONISER_APP_ID,
    broker=f"kafka://{settings.kafka_bootstrap}",
    store="memory://",
    datadir=str(DATA_DIR),
    topic_partitions=EVENTS.partitions,
    # Each visitor's state lives with the partition that owns it; a standby copy on another
    # worker would be touched by that worker's timer too.
    table_standby_replicas=0,
    consumer_auto_offset_reset="earliest",
    broker_session_timeout=settings.processor_session_timeout_s,
    # Faust's 16 KB default makes the producer wait on the previous batch at every few
    # records; one larger batch per partition, lingering a few ms, carries a burst at once.
    producer_max_batch_size=1_000_000,
    producer_linger_ms=5,
    web_enabled=False,
    web_host="127.0.0.1",
)

events = app.topic(EVENTS.name, key_serializer="raw", value_serializer="raw", partitions=EVENTS.partitions)
sessionised = app.topic(SESSIONISED.name, key_serializer="raw", value_serializer="raw", partitions=SESSIONISED.partitions)
sessions = app.topic(SESSIONS.name, key_serializer="raw", value_serializer="raw", partitions=SESSIONS.partitions)
# Keys are the events' own Kafka keys (bytes, so raw in the changelog); values are plain
# JSON (processors.codec).
visitors = app.Table(VISITORS_TABLE, key_type=bytes, partitions=EVENTS.partitions)
# When each visitor was last seen, by this worker's clock, for the idle timer.
last_seen: dict[bytes, float] = {}


def event_ms(event: dict) -> int:
    return int(datetime.fromisoformat(event["ts"]).timestamp() * 1000)


def session_record(row: SessionRow) -> bytes:
    return orjson.dumps(row.__dict__)


@app.agent(events)
async def sessionise(stream: faust.StreamT) -> None:
    async for key, value in stream.items():
        event = orjson.loads(value)
        stored = visitors.get(key)
        state = codec.load(stored) if stored else VisitorState(event["site_id"], key.decode().partition(":")[2])
        state, out = apply(state, event, event_ms(event), RULES_BY_SITE.get(event["site_id"], DEFAULT_RULES))
        if not out.duplicate:
            visitors[key] = codec.dump(state)
        last_seen[key] = time.monotonic()
        await sessionised.send(key=key, value=orjson.dumps({"kind": "event", "event": {**event, "session_id": out.session_id}}))
        for moved in out.moved:
            record = {"kind": "moved", "site_id": event["site_id"], "event_ids": moved.event_ids, "session_id": moved.session_id}
            await sessionised.send(key=key, value=orjson.dumps(record))
        for row in out.sessions:
            await sessions.send(key=key, value=session_record(row))


@app.task
async def quiet_client_logs() -> None:
    """The worker leaves its clients' loggers at DEBUG: every record they build and drop
    costs about a tenth of a worker's time per event."""
    for name in ("aiokafka", "faust", "mode"):
        logging.getLogger(name).setLevel(logging.WARNING)


@app.timer(interval=settings.idle_check_s)
async def forget_idle_visitors() -> None:
    """Drop the state of visitors idle longer than a gap plus the allowed lateness: their
    sessions can no longer change, and every row was published when it last did."""
    longest_gap_ms = max([DEFAULT_RULES.gap_ms, *(rules.gap_ms for rules in RULES_BY_SITE.values())])
    horizon = (longest_gap_ms + DEFAULT_RULES.lateness_ms) / 1000
    now = time.monotonic()
    actives = {tp.partition for tp in app.assignor.assigned_actives() if tp.topic == visitors.changelog_topic.get_topic_name()}
    for key in [k for k, seen in last_seen.items() if now - seen > horizon]:
        del last_seen[key]
        partition = partition_for(key, list(range(EVENTS.partitions)), [])
        if partition in actives and key in visitors.data:
            del visitors.data[key]
            visitors.send_changelog(partition, key, None, value_serializer="raw")
