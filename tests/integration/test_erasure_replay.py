"""An erased person stays erased through a replay, on the real pipeline.

Two people shop: one with two anonymous ids and a user id (with purchases, a funnel, a
segment and a dead letter), the other with one of each. Once both are stored, the first is
forgotten: an erasure record (with malformed records around it, which every part skips)
goes to footfall.erasures. The worker's visitor and profile changelogs must then end in a
tombstone for each of the person's states. The worker and the sink are stopped, the
person's rows deleted from ClickHouse, both consumer groups sent back to the beginning of
their topics, and both parts started again: they read every record still in Kafka, yet no
row of the first person comes back in any table, and the second person's rows are as they
were.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson

from footfall.local.processes import stop
from infra.config import Settings
from schemas.topics import (
    CUSTOMERS, DEAD_LETTER, EVENTS, FUNNEL_PROGRESS, PROFILES_CHANGELOG, SEGMENT_CHANGES, SESSIONISED,
    SESSIONISER_APP_ID, SESSIONS, VISITORS_CHANGELOG,
)
from sinks.sink import GROUP_ID as SINK_GROUP
from tests.support.erasures import (
    group_caught_up, latest_by_key, publish_erasure, publish_records, replay_from_the_start, run_in_engine,
)
from tests.support.pipeline import Pipeline, new_broker, start_pipeline
from tests.support.waiting import wait_for
from tests.support.worker_metrics import samples

SITE, KEY = "shop", "shop_key"
HASH_KEY = "erasure-test-hash-key-0123456789"
CONFIG = f"""
[[sites]]
id = "{SITE}"
write_key = "{KEY}"

[sites.analytics]
builtin_segments = false

[[sites.segments]]
name = "buyers"
all = [{{field = "purchases", op = "gte", value = 1}}]

[[sites.funnels]]
name = "checkout"
window_s = 600
steps = [{{type = "page_view", field = "path", op = "eq", value = "/product"}}, {{type = "purchase"}}]
"""
SINK_TOPICS = (SESSIONISED, SESSIONS, DEAD_LETTER, SEGMENT_CHANGES, CUSTOMERS, FUNNEL_PROGRESS)
# The tables that hold a person's rows, with the columns that name them.
PERSON_COLUMNS = {
    "events": ("anonymous_id", "user_id"),
    "sessions": ("anonymous_id", "user_id"),
    "customers": ("anonymous_id", "user_id", "customer_id"),
    "segment_changes": ("anonymous_id", "customer_id"),
    "segment_membership": ("anonymous_id", "customer_id"),
    "funnel_progress": ("anonymous_id", "customer_id"),
}
# What a customer row holds of the person's own doing; RFM scores and predictions are
# figures over every customer of the site, which an erasure rightly changes.
CUSTOMER_FIGURES = "customer_id, anonymous_id, user_id, purchases, revenue, aov, first_purchase_at, last_purchase_at, is_deleted"


class Shoppers:
    """The two people, their ids unique to the run."""

    def __init__(self) -> None:
        run = uuid.uuid4().hex[:10]
        self.run = run
        self.first_ids = (f"a1-{run}", f"a2-{run}", f"u1-{run}")
        self.second_ids = (f"b1-{run}", f"u2-{run}")
        self.start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)

    def message(self, number: int, anonymous_id: str, seconds: int, kind: str, **extra: object) -> dict:
        base = {"messageId": f"{self.run}-{number}", "anonymousId": anonymous_id,
                "timestamp": (self.start + timedelta(seconds=seconds)).isoformat()}
        if kind == "page":
            return {**base, "type": "page", "properties": {"path": "/product"}, **extra}
        if kind == "order":
            return {**base, "type": "track", "event": "Order Completed",
                    "properties": {"order_id": f"o-{self.run}-{number}", "revenue": 20.0 + number, "currency": "EUR"}, **extra}
        return {**base, "type": kind, **extra}

    def messages(self) -> list[dict]:
        a1, a2, u1 = self.first_ids
        b1, u2 = self.second_ids
        return [
            self.message(1, a1, 0, "page"),
            self.message(2, a1, 10, "order"),
            self.message(3, a2, 100, "page"),
            self.message(4, a2, 110, "identify", userId=u1, traits={"plan": "pro"}),
            self.message(5, a2, 120, "order", userId=u1),
            self.message(6, b1, 5, "page"),
            self.message(7, b1, 15, "identify", userId=u2),
            self.message(8, b1, 25, "order", userId=u2),
        ]

    def refused(self) -> dict:
        """A message the collector refuses: a dead letter that keeps the first person's id."""
        return {"type": "no such type", "anonymousId": self.first_ids[0], "messageId": f"{self.run}-9"}


def naming(table: str, ids: tuple[str, ...]) -> str:
    """The condition that finds the rows of a table naming any of `ids`."""
    listed = ", ".join(f"'{id_}'" for id_ in ids)
    if table == "invalid_events":
        return " OR ".join(f"position(raw, '{id_}') > 0" for id_ in ids)
    return " OR ".join(f"{column} IN ({listed})" for column in PERSON_COLUMNS[table])


def rows_naming(pipeline: Pipeline, ids: tuple[str, ...]) -> dict[str, int]:
    return {
        table: pipeline.query(f"SELECT count() AS n FROM footfall.{table} WHERE {naming(table, ids)}")[0]["n"]
        for table in [*PERSON_COLUMNS, "invalid_events"]
    }


def rows_of(pipeline: Pipeline, ids: tuple[str, ...]) -> dict[str, list[dict]]:
    """Every row of the person's, table by table, as FINAL shows them, in a fixed order."""
    found = {}
    for table in PERSON_COLUMNS:
        columns = CUSTOMER_FIGURES if table == "customers" else "*"
        rows = pipeline.query(f"SELECT {columns} FROM footfall.{table} FINAL WHERE {naming(table, ids)}")
        found[table] = sorted(rows, key=lambda row: orjson.dumps(row, option=orjson.OPT_SORT_KEYS))
    return found


def stored(pipeline: Pipeline, shoppers: Shoppers) -> object:
    counts = (rows_naming(pipeline, shoppers.first_ids), rows_naming(pipeline, shoppers.second_ids))
    first, second = counts
    complete = (
        first["events"] == 5 and second["events"] == 3 and first["invalid_events"] == 1
        and first["customers"] >= 2 and second["customers"] >= 1
        and all(first[table] and second[table] for table in ("sessions", "segment_membership", "funnel_progress"))
    )
    return True if complete else counts


def metric(url: str, name: str, **labels: str) -> float:
    return sum(value for found, value in samples(url, name) if labels.items() <= found.items())


def tombstoned(bootstrap: str, keys: list[bytes], kept: bytes) -> object:
    """True once both changelogs end in a tombstone for each of `keys`, and still hold `kept`."""
    latest = {topic.name: latest_by_key(bootstrap, topic) for topic in (VISITORS_CHANGELOG, PROFILES_CHANGELOG)}
    state = {name: {key: (key in values, values.get(key) is None) for key in [*keys, kept]} for name, values in latest.items()}
    done = all(state[name][key] == (True, True) for name in state for key in keys)
    return True if done and all(values.get(kept) is not None for values in latest.values()) else state


def test_a_forgotten_person_does_not_come_back_when_worker_and_sink_replay(tmp_path: Path) -> None:
    config = tmp_path / "footfall.toml"
    config.write_text(CONFIG)
    broker = new_broker(tmp_path / "broker")
    pipeline = start_pipeline(broker, tmp_path / "stack", FOOTFALL_CONFIG=str(config), FOOTFALL_HASH_KEY=HASH_KEY)
    try:
        shoppers = Shoppers()
        answer = httpx.post(f"{pipeline.collector.url}/v1/batch", json={"batch": [*shoppers.messages(), shoppers.refused()]},
                            auth=(KEY, ""), timeout=30)
        assert answer.status_code == 200 and answer.json()["accepted"] == 8, answer.text
        wait_for(lambda: stored(pipeline, shoppers), 180, "both people's rows in every table")
        before = rows_of(pipeline, shoppers.second_ids)

        # Records that are no erasure, around the one that is: skipped and counted by each part
        # (the broker itself refuses a record without a key on a compacted topic).
        publish_records(broker.bootstrap, [(b"", b"{}"), (b"shop:x", b"not json"), (b"shop:y", orjson.dumps({"site_id": SITE}))])
        publish_erasure(broker.bootstrap, Settings(hash_key=HASH_KEY), SITE, shoppers.first_ids)
        first_keys = [f"{SITE}:{id_}".encode() for id_ in shoppers.first_ids[:2]]
        second_key = f"{SITE}:{shoppers.second_ids[0]}".encode()
        wait_for(lambda: tombstoned(broker.bootstrap, first_keys, second_key), 120, "tombstones of the forgotten person's states")
        worker_metrics = pipeline.metrics_urls[pipeline.workers[0].pid]
        assert metric(worker_metrics, "footfall_processor_states_erased_total") == 4  # two visitors, two profiles
        assert metric(worker_metrics, "footfall_processor_erasures_malformed_total") == 3
        assert metric(f"{pipeline.sink_url}/metrics", "footfall_sink_erasures_malformed_total") == 3

        # What `footfall forget` does in ClickHouse, done here while no sink holds the engine.
        stop(pipeline.workers[0])
        stop(pipeline.sink)
        run_in_engine(Settings(state_dir=pipeline.folder).clickhouse_path, [
            f"ALTER TABLE footfall.{table} DELETE WHERE {naming(table, shoppers.first_ids)} SETTINGS mutations_sync = 2"
            for table in [*PERSON_COLUMNS, "invalid_events"]
        ], cwd=Path.cwd())

        # The replay: both groups from the first records their topics hold.
        replay_from_the_start(broker.bootstrap, SESSIONISER_APP_ID, (EVENTS,))
        replay_from_the_start(broker.bootstrap, SINK_GROUP, SINK_TOPICS)
        worker = pipeline.start_worker()
        pipeline.start_sink()
        wait_for(lambda: group_caught_up(broker.bootstrap, SESSIONISER_APP_ID, (EVENTS,)), 180, "the worker's replay")
        wait_for(lambda: group_caught_up(broker.bootstrap, SINK_GROUP, SINK_TOPICS), 180, "the sink's replay")

        # The replay did go through the person's records, and left every one of them out.
        assert metric(pipeline.metrics_urls[worker.pid], "footfall_processor_events_erased_total", site=SITE) == 5
        sink_metrics = f"{pipeline.sink_url}/metrics"
        assert metric(sink_metrics, "footfall_sink_rows_erased_total", table="events") >= 5
        assert metric(sink_metrics, "footfall_sink_rows_erased_total", table="invalid_events") == 1
        assert rows_naming(pipeline, shoppers.first_ids) == dict.fromkeys([*PERSON_COLUMNS, "invalid_events"], 0)
        assert rows_of(pipeline, shoppers.second_ids) == before
        # Nothing of theirs was recovered by the new worker either.
        assert metric(pipeline.metrics_urls[worker.pid], "footfall_processor_states_erased_total") == 0
        assert tombstoned(broker.bootstrap, first_keys, second_key) is True
    finally:
        pipeline.stop()
        broker.stop()
