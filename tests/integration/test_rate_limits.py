"""Rate limits against the real pipeline and a two-worker collector: a flood from one address
is answered 429 while another address and another site go on landing their events, the
workers together admit no more than the configured burst, and a server-side SDK sending
500-message batches under the default limits is never refused."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from segment.analytics.client import Client

from footfall.local.kafka_broker import Broker
from footfall.local.processes import stop
from schemas import topics
from tests.support.kafka_reader import read_topic
from tests.support.pipeline import Collector, Pipeline, start_collector, start_pipeline
from tests.support.waiting import wait_for

CONFIG = '[[sites]]\nid = "shop"\nwrite_key = "shop_key"\n\n[[sites]]\nid = "blog"\nwrite_key = "blog_key"\n'
BURST = 200  # events one address may send at once, over both workers; hardly any refill
FLOOD_REQUESTS, FLOOD_BATCH = 60, 10
WORKERS = 2


def post(url: str, source: str, key: str, messages: list[dict]) -> httpx.Response:
    """From a loopback address of its own, on a connection of its own (so that requests
    reach either worker, as different clients' would)."""
    with httpx.Client(transport=httpx.HTTPTransport(local_address=source), auth=(key, ""), timeout=30) as client:
        return client.post(f"{url}/v1/batch", json={"batch": messages})


def messages(run: str, sender: str, n: int, count: int) -> list[dict]:
    return [
        {"type": "track", "event": "Viewed", "anonymousId": f"{sender}-{run}", "messageId": f"{run}-{sender}-{n}-{i}"}
        for i in range(count)
    ]


def metric(url: str, name: str, **labels: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    )


@pytest.fixture(scope="module")
def limited(kafka: Broker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    folder: Path = tmp_path_factory.mktemp("rate-limits")
    config = folder / "footfall.toml"
    config.write_text(CONFIG)
    pipeline = start_pipeline(
        kafka, folder / "stack", FOOTFALL_CONFIG=str(config), FOOTFALL_COLLECTOR_WORKERS=str(WORKERS),
        FOOTFALL_RATE_LIMITS__ADDRESS_RATE="0.001", FOOTFALL_RATE_LIMITS__ADDRESS_BURST=str(BURST),
    )
    yield pipeline
    pipeline.stop()


def landed(pipeline: Pipeline, run: str) -> dict[str, int]:
    rows = pipeline.query(
        "SELECT site_id, splitByChar('-', anonymous_id)[1] AS sender, uniqExact(event_id) AS events "
        f"FROM footfall.events FINAL WHERE anonymous_id LIKE '%-{run}' GROUP BY site_id, sender"
    )
    return {f"{row['site_id']}/{row['sender']}": row["events"] for row in rows}


def test_a_flood_from_one_address_is_refused_while_other_senders_land(limited: Pipeline) -> None:
    url, run = limited.collector.url, uuid.uuid4().hex[:10]
    jobs = []
    for n in range(FLOOD_REQUESTS):
        jobs.append(("flood", "127.0.0.2", "shop_key", messages(run, "flood", n, FLOOD_BATCH)))
        if n % 6 == 0:  # beside the flood: a second address of the same site, and another site
            jobs.append(("neighbour", "127.0.0.3", "shop_key", messages(run, "neighbour", n, 5)))
            jobs.append(("blog", "127.0.0.4", "blog_key", messages(run, "blog", n, 5)))
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda job: (job[0], post(url, *job[1:])), jobs))

    statuses = {sender: Counter(answer.status_code for s, answer in answers if s == sender) for sender in ("flood", "neighbour", "blog")}
    assert statuses["neighbour"] == {200: 10} and statuses["blog"] == {200: 10}
    assert set(statuses["flood"]) == {200, 429}
    # Each worker admits its share of the burst and no more: together, the whole burst at most.
    admitted = statuses["flood"][200]
    assert BURST / WORKERS <= admitted * FLOOD_BATCH <= BURST
    for sender, answer in answers:
        if answer.status_code == 429:
            body = answer.json()
            assert (body["error"], body["limit"]) == ("rate_limited", "address")
            assert int(answer.headers["retry-after"]) >= 1 and body["retry_after_s"] == int(answer.headers["retry-after"])

    expected = {"shop/flood": admitted * FLOOD_BATCH, "shop/neighbour": 50, "blog/blog": 50}
    wait_for(lambda: landed(limited, run) == expected or landed(limited, run), 120, "the admitted events")
    assert metric(url, "footfall_collector_rate_limited_total", site="shop", limit="address") == statuses["flood"][429]
    assert metric(url, "footfall_collector_rate_limited_total", site="blog") == 0


@pytest.fixture(scope="module")
def defaults(kafka: Broker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Collector]:
    """A collector with the default limits and the default number of workers."""
    running = start_collector(kafka.bootstrap, tmp_path_factory.mktemp("default-limits"), FOOTFALL_COLLECTOR_WORKERS=str(WORKERS))
    yield running
    stop(running.process)


def test_a_server_side_sdk_sending_500_message_batches_is_never_limited_by_the_defaults(kafka: Broker, defaults: Collector) -> None:
    run = uuid.uuid4().hex[:10]
    errors: list[Exception] = []
    # Segment's SDK, unchanged, on one keep-alive connection (so one worker's share), with a
    # backlog of 40 full batches to flush back to back, for a backend's many users.
    client = Client(
        write_key="demo_key", host=defaults.url, upload_size=500, max_queue_size=100_000, max_retries=0,
        on_error=lambda error, batch: errors.append(error),
    )
    total = 40 * 500
    for n in range(total):
        assert client.track(f"user-{run}-{n % 1000}", "Report Exported", {"n": n}, message_id=f"{run}-{n}")[0]
    client.flush()
    client.join()
    assert errors == []
    assert metric(defaults.url, "footfall_collector_requests_total", status="429") == 0
    assert metric(defaults.url, "footfall_collector_rate_limited_total") == 0
    landed_ids = {
        r.value["event_id"] for r in read_topic(kafka.bootstrap, topics.EVENTS) if (r.value.get("user_id") or "").startswith(f"user-{run}-")
    }
    assert len(landed_ids) == total
    assert metric(defaults.url, "footfall_collector_events_accepted_total", site="demo", type="track") >= total
