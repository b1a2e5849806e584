"""Personal data through the real collector, broker and sink: each site's traits land kept,
hashed or dropped as it says, and a refused message's dead letter, in Kafka and in
footfall.invalid_events, holds no IP address, email address or write key."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from collector.personal_data import personal_hash
from footfall.local.kafka_broker import Broker
from infra.config import Settings, Site
from infra.keys import site_key
from schemas import topics
from tests.support.kafka_reader import read_records
from tests.support.pipeline import Pipeline, start_pipeline
from tests.support.waiting import wait_for

HASH_KEY = "installation-key-for-the-personal-data-test"
SHOP = Site(id="shop", write_key="shop_key_4f1c9a", personal_data={"email": "keep", "phone": "drop", "national_id": "drop"})
BLOG = Site(id="blog", write_key="blog_key_77b2e0")
CONFIG = f"""
[[sites]]
id = "{SHOP.id}"
write_key = "{SHOP.write_key}"
[sites.personal_data]
email = "keep"
phone = "drop"
national_id = "drop"

[[sites]]
id = "{BLOG.id}"
write_key = "{BLOG.write_key}"
"""
IP = "86.128.12.77"
EMAIL = "jane.doe@example.com"


@pytest.fixture(scope="module")
def pipeline(kafka: Broker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    folder = tmp_path_factory.mktemp("personal")
    config = folder / "footfall.toml"
    config.write_text(CONFIG)
    # No worker: events are read from their topic, dead letters reach the sink directly.
    running = start_pipeline(kafka, folder / "stack", workers=0, FOOTFALL_CONFIG=str(config), FOOTFALL_HASH_KEY=HASH_KEY)
    yield running
    running.stop()


def landed(bootstrap: str, topic: topics.Topic, run: str) -> list[bytes]:
    return [record.value for record in asyncio.run(read_records(bootstrap, topic)) if run.encode() in record.value]


def identify(run: str) -> dict:
    traits = {"email": EMAIL, "Phone": "+44 20 7946 0000", "national_id": "AB123456C", "firstName": "Jane", "plan": "pro"}
    return {"type": "identify", "messageId": f"{run}-identify", "userId": f"user-{run}", "traits": traits, "context": {"ip": IP}}


def expected_hash(site: Site, value: str) -> str:
    return personal_hash(site_key(Settings(hash_key=HASH_KEY, sites=[SHOP, BLOG]), site.id), value)


def test_each_site_keeps_hashes_or_drops_as_configured(kafka: Broker, pipeline: Pipeline) -> None:
    run = uuid.uuid4().hex[:12]
    signed_up = {"type": "track", "event": "Signed Up", "messageId": f"{run}-track", "anonymousId": f"a-{run}",
                 "properties": {"E-Mail": EMAIL, "list": "weekly"}}
    for site in (SHOP, BLOG):
        answer = httpx.post(f"{pipeline.collector.url}/v1/batch", json={"batch": [identify(run), signed_up]},
                            auth=(site.write_key, ""), timeout=30)
        assert answer.status_code == 200 and answer.json() == {"success": True}, answer.text

    events = [orjson.loads(value) for value in landed(kafka.bootstrap, topics.EVENTS, run)]
    by_site = {(e["site_id"], e["type"]): e for e in events}
    assert len(events) == len(by_site) == 4
    shop, blog = by_site["shop", "identify"]["traits"], by_site["blog", "identify"]["traits"]
    assert shop == {"email": EMAIL, "firstName": expected_hash(SHOP, "Jane"), "plan": "pro"}
    assert blog == {"email": expected_hash(BLOG, EMAIL), "Phone": expected_hash(BLOG, "+44 20 7946 0000"),
                    "national_id": "AB123456C", "firstName": expected_hash(BLOG, "Jane"), "plan": "pro"}
    assert by_site["shop", "track"]["properties"] == {"E-Mail": EMAIL, "list": "weekly"}
    assert by_site["blog", "track"]["properties"] == {"E-Mail": expected_hash(BLOG, EMAIL), "list": "weekly"}
    # Keyed per site: one address hashes differently for two sites.
    assert expected_hash(SHOP, EMAIL) != expected_hash(BLOG, EMAIL)
    assert all(IP.encode() not in value for value in landed(kafka.bootstrap, topics.EVENTS, run))


def test_a_refused_message_is_dead_lettered_without_ip_email_or_write_key(kafka: Broker, pipeline: Pipeline) -> None:
    run = uuid.uuid4().hex[:12]
    group = {"type": "group", "messageId": f"{run}-group", "groupId": "g", "userId": EMAIL,
             "traits": {"email": EMAIL, "name": "Jane Doe"}, "context": {"ip": IP, "traits": {"email": EMAIL}},
             "integrations": {"Intercom": {"email": EMAIL}}}
    answer = httpx.post(f"{pipeline.collector.url}/v1/batch", timeout=30, headers={"X-Forwarded-For": "198.51.100.23"},
                        json={"writeKey": SHOP.write_key, "context": {"page": {"url": f"https://shop.example/?ip={IP}"}},
                              "batch": [group]})
    assert answer.status_code == 400, answer.text
    secrets = (IP.encode(), EMAIL.encode(), b"jane.doe", SHOP.write_key.encode(), b"198.51.100.23")

    [letter] = landed(kafka.bootstrap, topics.DEAD_LETTER, run)
    assert not [secret for secret in secrets if secret in letter], letter
    assert b"86.128.12.0" in letter and expected_hash(SHOP, EMAIL).encode() in letter

    def stored() -> bool | list:
        rows = pipeline.query(f"SELECT reason, raw FROM footfall.invalid_events WHERE raw LIKE '%{run}%'")
        return len(rows) == 1 or rows

    wait_for(stored, 60, "the dead letter in footfall.invalid_events")
    [row] = pipeline.query(f"SELECT * FROM footfall.invalid_events WHERE raw LIKE '%{run}%'")
    text = str(row).encode()
    assert not [secret for secret in secrets if secret in text], row
    assert row["site_id"] == "shop" and row["reason"].startswith("type:")


def test_the_collector_log_names_no_client(pipeline: Pipeline) -> None:
    logs = "".join(path.read_text(errors="replace") for path in Path(pipeline.folder).rglob("*.log"))
    assert IP not in logs and EMAIL not in logs
