"""One person through the real pipeline (collector → Kafka → worker → sink → embedded
ClickHouse), exported and then forgotten with the `footfall` commands through the running
sink: the export holds every table's rows of theirs, and afterwards no table holds any of
their ids or traits, the erasure record is in Kafka, the audit names nobody, and everyone
else's rows and rollup figures are as they were."""

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

from schemas.erasures import Erasure
from schemas.topics import ERASURES
from tests.support.kafka_reader import read_records
from tests.support.person_traces import holding as holding_in
from tests.support.person_traces import rows_naming
from tests.support.pipeline import Pipeline, new_broker, start_pipeline
from tests.support.waiting import wait_for

SITE, KEY = "shop", "shop_key"
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
TABLES = ("events", "sessions", "segment_membership", "segment_changes", "funnel_progress", "customers", "invalid_events")


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


def footfall(pipeline: Pipeline, config: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **pipeline.env, "FOOTFALL_CONFIG": str(config), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "footfall.cli", *args], env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Pipeline, dict[str, str], Path]]:
    folder: Path = tmp_path_factory.mktemp("erasure")
    config = folder / "footfall.toml"
    config.write_text(CONFIG)
    broker = new_broker(folder / "broker")
    pipeline = start_pipeline(broker, folder / "stack", FOOTFALL_CONFIG=str(config), FOOTFALL_PROCESSOR_SESSION_TIMEOUT_S="8")
    try:
        sent, ids = messages(uuid.uuid4().hex[:8], datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5))
        answer = httpx.post(f"{pipeline.collector.url}/v1/batch", json={"batch": sent}, auth=(KEY, ""), timeout=30)
        assert answer.status_code in (200, 207, 400), answer.text

        def complete():
            seen = {table: pipeline.query(
                f"SELECT count() AS n FROM footfall.{table} FINAL WHERE position(toString(tuple(*)), '{ids['second']}') > 0"
                f" OR position(toString(tuple(*)), '{ids['first']}') > 0")[0]["n"] for table in TABLES}
            buyer = pipeline.query(f"SELECT nps FROM footfall.customers FINAL WHERE user_id = 'U\\'\\\\{ids['first'][6:]}'")
            return True if all(seen.values()) and buyer == [{"nps": 9}] else (seen, buyer)

        wait_for(complete, 180, "every table holding the person")
        yield pipeline, ids, config
    finally:
        pipeline.stop()
        broker.stop()


def holding(pipeline: Pipeline, value: str) -> list[str]:
    return holding_in(pipeline.query, value)


def others(pipeline: Pipeline, other: str) -> dict[str, list[bytes]]:
    return rows_naming(pipeline.query, TABLES, other)


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


def test_a_person_is_exported_whole_then_forgotten_everywhere(landed, tmp_path: Path) -> None:
    pipeline, ids, config = landed
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

    before = others(pipeline, ids["other"])
    assert holding(pipeline, ids["email"]) and holding(pipeline, ids["user"])
    forgotten = footfall(pipeline, config, "forget", "--site", SITE, "--user-id", ids["user"], "--yes")
    assert forgotten.returncode == 0, forgotten.stdout + forgotten.stderr
    assert "rows removed" in forgotten.stdout
    for value in (ids["user"], ids["first"], ids["second"], ids["email"]):
        assert holding(pipeline, value) == [], value
    assert others(pipeline, ids["other"]) == before
    assert rollup_figures(pipeline) == recomputed(pipeline)

    erasures = [Erasure.model_validate_json(record.value) for record in asyncio.run(read_records(pipeline.kafka.bootstrap, ERASURES))]
    assert [len(erasure.id_hashes) for erasure in erasures] == [3]
    audit = pipeline.query("SELECT * FROM footfall.erasure_audit")
    assert len(audit) == 1 and audit[0]["found"] == 1 and audit[0]["id_hashes"] == sorted(erasures[0].id_hashes)

    again = footfall(pipeline, config, "forget", "--site", SITE, "--user-id", ids["user"], "--yes")
    assert again.returncode == 0 and "held nothing" in again.stdout, again.stdout + again.stderr
