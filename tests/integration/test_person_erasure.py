"""One person through the real pipeline (collector → Kafka → worker → sink → embedded
ClickHouse), exported and then forgotten with the `footfall` commands through the running
sink: the export holds every table's rows of theirs, and afterwards no table holds any of
their ids or traits, the erasure record is in Kafka (among malformed records, which every
part skips and counts), the audit names nobody, the worker's visitor and profile
changelogs end in tombstones for their states, and everyone else's rows and rollup figures
are as they were. Then the worker and the sink replay every record still in Kafka from the
beginning: they read the person's records again and leave every one of them out, so that
all of this still holds."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import pytest

from collector.personal_data import personal_hash
from infra.config import Settings
from infra.keys import site_key
from schemas.erasures import Erasure
from schemas.topics import CUSTOMERS, ERASURES, SESSIONS
from tests.support.erasures import publish_records, replay_worker_and_sink, tombstoned
from tests.support.kafka_reader import read_records
from tests.support.person_traces import holdings, rows_naming
from tests.support.pipeline import Pipeline, new_broker, start_pipeline
from tests.support.waiting import wait_for
from tests.support.worker_metrics import total

SITE, KEY = "shop", "shop_key"
HASH_KEY = "erasure-test-hash-key-0123456789"
CONFIG = f"""
[[sites]]
id = "{SITE}"
write_key = "{KEY}"

[[sites.segments]]
name = "big_spenders"
all = [{{field = "revenue", op = "gte", value = 50}}]

[[sites.funnels]]
name = "checkout"
window_s = 600
steps = [{{type = "page_view", field = "path", op = "eq", value = "/product"}}, {{event = "Product Added"}}, {{type = "purchase"}}]
"""
TABLES = ("events", "sessions", "segment_membership", "segment_changes", "funnel_progress", "customers", "invalid_events",
          "rejected_rows")
# Records of footfall.erasures that hold no erasure, around the one that does (the broker
# itself refuses a record without a key on a compacted topic).
MALFORMED_ERASURES = [(b"", b"{}"), (b"shop:x", b"not json"), (b"shop:y", orjson.dumps({"site_id": SITE}))]
# What a replay rightly changes in the rows of everyone else: when the sink set a record
# aside, and the RFM scores and predictions, figures over every customer of the site.
REPLAYED_COLUMNS = {
    "customers": "customer_id, anonymous_id, user_id, purchases, revenue, aov, first_purchase_at, last_purchase_at, nps, is_deleted",
    "rejected_rows": "site_id, target_table, reason_class, reason, source, content, key",
}


def messages(run: str, start: datetime) -> tuple[list[dict], dict[str, str]]:
    ids = {"first": f"first-{run}", "second": f"second-{run}", "user": f"U'\\{run}", "email": f"jane-{run}@example.com",
           "other": f"other-{run}"}

    def msg(n: int, visitor: str, seconds: float, kind: str = "page", **extra: object) -> dict:
        base = {"messageId": f"{run}-{visitor}-{n}", "anonymousId": ids[visitor], "timestamp": (start + timedelta(seconds=seconds)).isoformat()}
        if kind == "page":
            return {**base, "type": "page", "properties": {"path": extra.pop("path", "/product")}, **extra}
        if kind == "identify":
            return {**base, "type": "identify", "userId": ids["user"], "traits": {"email": ids["email"]}}
        return {**base, "type": "track", "event": kind, **extra}

    def order(n: int, visitor: str, seconds: float, revenue: float) -> dict:
        return msg(n, visitor, seconds, "Order Completed", properties={"order_id": f"o-{run}-{visitor}-{n}", "revenue": revenue})

    sent = [
        msg(1, "first", 0), msg(2, "first", 2, "Product Added"), order(3, "first", 4, 60.0), msg(4, "first", 5, "identify"),
        msg(1, "second", 30, path="/"), msg(2, "second", 31, "identify"), order(3, "second", 32, 20.0),
        msg(4, "second", 33, "Survey Responded", properties={"survey": "nps", "score": 9}),
        # A dead letter holding their id and their email (traits stored nowhere else).
        {**msg(5, "second", 34), "timestamp": "not a time", "context": {"traits": {"email": ids["email"]}}},
        msg(1, "other", 1), msg(2, "other", 3, "Product Added"), order(3, "other", 5, 80.0),
    ]
    return sent, ids


def unreadable(visitor: str) -> tuple[bytes, bytes]:
    """A sessions record cut short, naming the visitor: the sink sets it aside, as text."""
    return f"{SITE}:{visitor}".encode(), f'{{"site_id":"{SITE}","anonymous_id":"{visitor}","session_id":'.encode()


def footfall(pipeline: Pipeline, config: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **pipeline.env, "FOOTFALL_CONFIG": str(config), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "footfall.cli", *args], env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Pipeline, dict[str, str], Path]]:
    folder: Path = tmp_path_factory.mktemp("erasure")
    config = folder / "footfall.toml"
    config.write_text(CONFIG)
    broker = new_broker(folder / "broker")
    # No time-driven segment change or RFM refresh rewrites a row while the test compares them.
    pipeline = start_pipeline(broker, folder / "stack", FOOTFALL_CONFIG=str(config), FOOTFALL_PROCESSOR_SESSION_TIMEOUT_S="8",
                              FOOTFALL_HASH_KEY=HASH_KEY, FOOTFALL_SEGMENT_CHECK_S="3600", FOOTFALL_RFM_REFRESH_S="3600")
    try:
        sent, ids = messages(uuid.uuid4().hex[:8], datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5))
        answer = httpx.post(f"{pipeline.collector.url}/v1/batch", json={"batch": sent}, auth=(KEY, ""), timeout=30)
        assert answer.status_code == 200 and answer.json()["accepted"] == len(sent) - 1, answer.text
        publish_records(broker.bootstrap, SESSIONS, [unreadable(ids["second"]), unreadable(ids["other"])])

        def complete():
            seen = {table: pipeline.query(
                f"SELECT count() AS n FROM footfall.{table} FINAL WHERE position(toString(tuple(*)), '{ids['second']}') > 0"
                f" OR position(toString(tuple(*)), '{ids['first']}') > 0")[0]["n"] for table in TABLES}
            other_aside = pipeline.query(f"SELECT count() AS n FROM footfall.rejected_rows WHERE position(content, '{ids['other']}') > 0")
            answered = surveyed()
            return True if all(seen.values()) and answered and other_aside == [{"n": 1}] else (seen, answered, other_aside)

        def surveyed() -> bool:
            # The answer in the customer record of the device it was given on. Both devices'
            # profiles write the one row of the customer id, the later one winning, so the
            # table's current row may be the other device's.
            second = f"{SITE}:{ids['second']}".encode()
            return any(orjson.loads(record.value)["nps"] == 9 for record in asyncio.run(read_records(broker.bootstrap, CUSTOMERS))
                       if record.key == second)

        wait_for(complete, 180, "every table holding the person")
        yield pipeline, ids, config
    finally:
        pipeline.stop()
        broker.stop()


def others(pipeline: Pipeline, other: str, columns: dict[str, str] | None = None) -> dict[str, list[bytes]]:
    return rows_naming(pipeline.query, TABLES, other, columns)


def rollup_figures(pipeline: Pipeline) -> list[dict]:
    return pipeline.query(
        f"SELECT path, hour, bot, uniqExactMerge(views) AS views, uniqMerge(visitors) AS visitors FROM footfall.page_hourly "
        f"WHERE site_id = '{SITE}' GROUP BY path, hour, bot ORDER BY path, hour, bot"
    )


def recomputed(pipeline: Pipeline) -> list[dict]:
    return pipeline.query(
        f"SELECT path, toDateTime(toStartOfHour(ts), 'UTC') AS hour, bot, uniqExactIf(event_id, type = 'page_view') AS views, "
        f"uniqIf(anonymous_id, type = 'page_view') AS visitors FROM footfall.events WHERE site_id = '{SITE}' "
        f"AND (type = 'page_view' OR name = 'Page Engaged') GROUP BY path, hour, bot ORDER BY path, hour, bot"
    )


def test_a_person_is_exported_whole_then_forgotten_everywhere_and_a_replay_brings_nothing_back(landed, tmp_path: Path) -> None:
    pipeline, ids, config = landed
    bootstrap = pipeline.kafka.bootstrap
    email = personal_hash(site_key(Settings(hash_key=HASH_KEY), SITE), ids["email"])  # as the collector stores it
    values = (ids["user"], ids["first"], ids["second"], ids["email"], email)
    out = tmp_path / "person.json"
    exported = footfall(pipeline, config, "export", "--site", SITE, "--anonymous-id", ids["second"], "--out", str(out))
    assert exported.returncode == 0, exported.stdout + exported.stderr
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    document = orjson.loads(out.read_bytes())
    assert (document["user_ids"], sorted(document["anonymous_ids"])) == ([ids["user"]], sorted([ids["first"], ids["second"]]))
    assert all(document["tables"][table] for table in TABLES), {table: len(rows) for table, rows in document["tables"].items()}
    assert document["summary"]["survey_answers"] == 1
    assert ids["other"] not in out.read_text()
    assert "survey_answers" in exported.stdout

    before, before_replay = others(pipeline, ids["other"]), others(pipeline, ids["other"], REPLAYED_COLUMNS)
    held = holdings(pipeline.query, values)
    assert held[email] and held[ids["user"]] and not held[ids["email"]], held
    publish_records(bootstrap, ERASURES, MALFORMED_ERASURES)
    forgotten = footfall(pipeline, config, "forget", "--site", SITE, "--user-id", ids["user"], "--yes")
    assert forgotten.returncode == 0, forgotten.stdout + forgotten.stderr
    assert "rows removed" in forgotten.stdout
    assert holdings(pipeline.query, values) == dict.fromkeys(values, [])
    assert others(pipeline, ids["other"]) == before
    assert rollup_figures(pipeline) == recomputed(pipeline)

    records = asyncio.run(read_records(bootstrap, ERASURES))
    erasures = [Erasure.model_validate_json(record.value) for record in records if record.key not in dict(MALFORMED_ERASURES)]
    assert [len(erasure.id_hashes) for erasure in erasures] == [3]
    audit = pipeline.query("SELECT * FROM footfall.erasure_audit")
    assert len(audit) == 1 and audit[0]["found"] == 1 and audit[0]["id_hashes"] == sorted(erasures[0].id_hashes)

    # The worker deleted their visitor and profile states, each with a tombstone.
    person_keys = [f"{SITE}:{ids[visitor]}".encode() for visitor in ("first", "second")]
    other_key = f"{SITE}:{ids['other']}".encode()
    wait_for(lambda: tombstoned(bootstrap, person_keys, other_key), 120, "tombstones of the forgotten person's states")
    worker_metrics = pipeline.metrics_urls[pipeline.workers[0].pid]
    assert total(worker_metrics, "footfall_processor_states_erased_total") == 4  # two visitors, two profiles
    assert total(worker_metrics, "footfall_processor_erasures_malformed_total") == 3

    again = footfall(pipeline, config, "forget", "--site", SITE, "--user-id", ids["user"], "--yes")
    assert again.returncode == 0 and "held nothing" in again.stdout, again.stdout + again.stderr

    # The replay went through every record of theirs still in Kafka, and left each one out.
    worker = replay_worker_and_sink(pipeline)
    worker_metrics, sink_metrics = pipeline.metrics_urls[worker.pid], f"{pipeline.sink_url}/metrics"
    their_events = len(document["tables"]["events"])
    assert total(worker_metrics, "footfall_processor_events_erased_total", site=SITE) == their_events
    assert total(sink_metrics, "footfall_sink_rows_erased_total", table="events") >= their_events
    assert total(sink_metrics, "footfall_sink_rows_erased_total", table="invalid_events") == 1
    assert total(sink_metrics, "footfall_sink_rows_erased_total", table="rejected_rows") == 1
    for url, name in ((worker_metrics, "footfall_processor_erasures_malformed_total"), (sink_metrics, "footfall_sink_erasures_malformed_total")):
        assert total(url, name) == 3, url
    assert holdings(pipeline.query, values) == dict.fromkeys(values, [])
    assert others(pipeline, ids["other"], REPLAYED_COLUMNS) == before_replay
    assert rollup_figures(pipeline) == recomputed(pipeline)
    # Nothing of theirs was recovered by the new worker either.
    assert total(worker_metrics, "footfall_processor_states_erased_total") == 0
    assert tombstoned(bootstrap, person_keys, other_key) is True
