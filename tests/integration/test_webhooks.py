"""Segment and funnel webhooks through the real pipeline: events posted to the collector,
sessionised and analysed by a real worker, their segment changes and funnel progress read
from Kafka by the webhook deliverer and POSTed to a real HTTP receiver on loopback.

The receiver fails with 500s, then leaves requests unanswered past the timeout, then
recovers; a second hook always fails and a third refuses with 410. Every change reaches the
recovering hook, signed, in each customer's order; the two others' land in the dead-letter
topic, after the retry time and at once respectively; the deliverer, killed between a
receiver's 2xx and the commit of its offset, sends that change again with the same id; and a
change of someone forgotten, still in the topic from before the erasure, is never sent.
"""

from __future__ import annotations

import hashlib
import hmac
import asyncio
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import pytest

from footfall.local.processes import Started, free_port, stop, wait_until
from footfall.local.stack import spawn_webhooks, webhooks_ready
from infra import faults
from infra.config import Settings
from infra.kafka.publisher import Publisher, Record
from infra.keys import keyed_hash, site_key
from infra.people.publish import publish_erasure
from schemas.erasures import Erasure
from schemas.topics import FUNNEL_PROGRESS, SEGMENT_CHANGES, WEBHOOKS_DEAD
from tests.support.crashes import assert_killed_at_its_fault, at_fault
from tests.support.kafka_reader import Landed, read_topic
from tests.support.pipeline import Pipeline, new_broker, start_pipeline
from tests.support.waiting import wait_for
from tests.support.webhook_receiver import HANG, Received, Receiver

SITE, KEY = "shop", "shop_key"
SECRETS = {"/flaky": "flaky-secret-0123456789", "/gone": "gone-secret-0123456789", "/refuse": "refuse-secret-0123456789"}
TIMEOUT_S, RETRY_S = 1.0, 15.0
FAILURES = 3  # the flaky receiver's first answers are 500s, then it hangs …
HANGS = 2  # … for this many requests, then it answers 204
CUSTOMERS = 6
CONFIG = f"""
[[sites]]
id = "{SITE}"
write_key = "{KEY}"

[[sites.funnels]]
name = "checkout"
window_s = 600
steps = [{{type = "page_view", field = "path", op = "eq", value = "/product"}}, {{event = "Product Added"}}, {{type = "purchase"}}]

[[sites.webhooks]]
url = "RECEIVER/flaky"
secret = "{SECRETS['/flaky']}"
on = ["segment_entered", "segment_left", "funnel_completed"]

[[sites.webhooks]]
url = "RECEIVER/gone"
secret = "{SECRETS['/gone']}"
on = ["funnel_completed"]
funnels = ["checkout"]

[[sites.webhooks]]
url = "RECEIVER/refuse"
secret = "{SECRETS['/refuse']}"
on = ["segment_entered"]
segments = ["purchasers"]
"""


def flaky(n: int) -> int:
    return 500 if n <= FAILURES else HANG if n <= FAILURES + HANGS else 204


PLANS = {"/flaky": flaky, "/gone": lambda n: 503, "/refuse": lambda n: 410}


@dataclass
class Run:
    pipeline: Pipeline
    receiver: Receiver
    suffix: str
    env: dict[str, str]
    deliverers: list[Started]

    def start_deliverer(self, **overrides: str) -> Started:
        log = self.pipeline.folder / f"webhooks-{len(self.deliverers)}.log"
        deliverer = spawn_webhooks(Settings(), log, {**self.env, **overrides})
        self.deliverers.append(deliverer)
        return deliverer

    def wait_ready(self, deliverer: Started) -> None:
        url = f"http://127.0.0.1:{self.env['FOOTFALL_WEBHOOK_METRICS_PORT']}/metrics"
        wait_until(lambda: webhooks_ready(url), 90, "the webhook deliverer's partitions", deliverer)

    def ours(self, topic) -> list[Landed]:
        return [r for r in read_topic(self.pipeline.kafka.bootstrap, topic) if r.value.get("anonymous_id", "").endswith(self.suffix)]


def journey(suffix: str, index: int, start: datetime) -> list[dict]:
    """Product page, cart, order: the funnel completed, segments entered on the way."""
    visitor = f"c{index}-{suffix}"

    def message(number: int, seconds: float, **fields) -> dict:
        moment = (start + timedelta(seconds=seconds + index)).isoformat()
        return {"messageId": f"{visitor}-{number}", "anonymousId": visitor, "timestamp": moment, **fields}

    order = {"order_id": f"o-{visitor}", "revenue": 20.0 + index, "currency": "EUR"}
    return [
        message(1, 0, type="page", properties={"path": "/product"}),
        message(2, 5, type="track", event="Product Added", properties={"product_id": "p1"}),
        message(3, 10, type="track", event="Order Completed", properties=order),
    ]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    folder: Path = tmp_path_factory.mktemp("webhooks")
    receiver = Receiver(PLANS, hang_s=TIMEOUT_S * 3).start()
    broker = pipeline = None
    deliverers: list[Started] = []
    try:
        config = folder / "footfall.toml"
        config.write_text(CONFIG.replace("RECEIVER", receiver.url))
        broker = new_broker(folder / "broker")
        pipeline = start_pipeline(broker, folder / "stack", sink=False, FOOTFALL_CONFIG=str(config))
        env = {
            **pipeline.env,
            "FOOTFALL_WEBHOOK_METRICS_PORT": str(free_port()),
            "FOOTFALL_WEBHOOK_TIMEOUT_S": str(TIMEOUT_S),
            "FOOTFALL_WEBHOOK_RETRY_S": str(RETRY_S),
            "FOOTFALL_WEBHOOK_BACKOFF_INITIAL_S": "0.2",
            "FOOTFALL_WEBHOOK_BACKOFF_MAX_S": "1",
        }
        yield Run(pipeline, receiver, uuid.uuid4().hex[:8], env, deliverers)
    finally:
        for deliverer in deliverers:
            stop(deliverer)
        if pipeline is not None:
            pipeline.stop()
        if broker is not None:
            broker.stop()
        receiver.stop()


def answered(received: list[Received], path: str) -> list[Received]:
    return [r for r in received if r.path == path and 200 <= r.status < 300]


def body(request: Received) -> dict:
    return orjson.loads(request.body)


def segment_key(value: dict) -> tuple:
    return value["anonymous_id"], value["segment"], value["change"], value["at"]


def expected_segment_changes(run: Run) -> dict[str, list[tuple]]:
    """Each customer's segment changes in the order the worker published them."""
    changes: dict[str, list[tuple]] = defaultdict(list)
    for record in run.ours(SEGMENT_CHANGES):
        value = record.value
        if value["anonymous_id"].startswith("forgotten-"):
            continue
        moment = datetime.fromtimestamp(value["at_ms"] / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        changes[value["anonymous_id"]].append((value["anonymous_id"], value["segment"], value["change"], moment))
    return changes


async def publish(settings: Settings, record: Record) -> None:
    publisher = Publisher(settings.kafka_bootstrap, settings.kafka_ack_timeout_s, client_id="test")
    await publisher.start()
    try:
        await publisher.publish([record])
    finally:
        await publisher.stop()


@pytest.fixture(scope="module")
def delivered(run: Run) -> Run:
    """Traffic sent once the first deliverer reads its partitions; that deliverer dies at its
    third change done, between the receiver's 2xx and the commit; a second one takes over."""
    settings = Settings(state_dir=run.pipeline.folder, kafka_bootstrap=run.pipeline.kafka.bootstrap)
    forgotten = f"forgotten-{run.suffix}"
    publish_erasure(settings, Erasure(site_id=SITE, id_hashes=[keyed_hash(site_key(settings, SITE), forgotten)],
                                      requested_at=datetime.now(UTC)))
    first = run.start_deliverer(**at_fault(faults.WEBHOOKS_AFTER_DELIVERY, 3))
    run.wait_ready(first)
    # What the worker published of them before the erasure, read again by the deliverer.
    before_the_erasure = {"site_id": SITE, "anonymous_id": forgotten, "customer_id": forgotten, "segment": "purchasers",
                          "change": "entered", "rule": "", "at_ms": 1_000, "version": 1}
    asyncio.run(publish(settings, Record(SEGMENT_CHANGES.name, f"{SITE}:{forgotten}".encode(), orjson.dumps(before_the_erasure))))
    start = datetime.now(UTC).replace(microsecond=0)
    messages = [m for index in range(CUSTOMERS) for m in journey(run.suffix, index, start)]
    # A visitor who only looks: a funnel progress record at its first step, no completion.
    messages.append({"messageId": f"browser-{run.suffix}", "anonymousId": f"browser-{run.suffix}", "type": "page", "properties": {"path": "/product"}})
    response = httpx.post(f"{run.pipeline.collector.url}/v1/batch", json={"batch": messages}, auth=(KEY, ""), timeout=30)
    assert response.status_code == 200, response.text
    wait_until(lambda: not first.alive(), 120, "the first deliverer reaching its fault point")
    assert_killed_at_its_fault(first)
    run.before_the_kill = run.receiver.snapshot()  # type: ignore[attr-defined]
    second = run.start_deliverer()
    run.wait_ready(second)

    def all_there() -> object:
        expected = {change for changes in expected_segment_changes(run).values() for change in changes}
        got = {segment_key(body(r)) for r in answered(run.receiver.snapshot(), "/flaky") if body(r)["event"] != "funnel_completed"}
        completions = {body(r)["anonymous_id"] for r in answered(run.receiver.snapshot(), "/flaky") if body(r)["event"] == "funnel_completed"}
        if expected and got == expected and len(completions) == CUSTOMERS:
            return True
        return f"{len(got)} of {len(expected)} segment changes, {len(completions)} of {CUSTOMERS} completions"

    wait_for(all_there, 180, "every change at the recovering receiver")
    return run


def test_every_change_reaches_the_recovering_receiver_in_each_customers_order(delivered: Run) -> None:
    received = delivered.receiver.snapshot()
    flaky_requests = [r for r in received if r.path == "/flaky"]
    # It failed, then hung, then recovered: the deliveries went through all three.
    assert [r.status for r in flaky_requests[:FAILURES + HANGS]] == [500] * FAILURES + [HANG] * HANGS
    expected = expected_segment_changes(delivered)
    assert len(expected) == CUSTOMERS + 1  # the browser enters a segment too
    seen: dict[str, list[tuple]] = defaultdict(list)
    for request in answered(received, "/flaky"):
        if body(request)["event"] != "funnel_completed":
            key = segment_key(body(request))
            if key not in seen[key[0]]:  # a redelivery after the kill repeats a change
                seen[key[0]].append(key)
    assert seen == expected
    completions = [body(r) for r in answered(received, "/flaky") if body(r)["event"] == "funnel_completed"]
    assert {c["anonymous_id"] for c in completions} == {f"c{i}-{delivered.suffix}" for i in range(CUSTOMERS)}
    assert all(c["funnel"] == "checkout" and c["change"] == "completed" and c["site_id"] == SITE for c in completions)
    assert all(orjson.loads(c["rule"])["window_s"] == 600 for c in completions)
    # Funnel progress below the last step sends nothing.
    [looked] = [r.value for r in delivered.ours(FUNNEL_PROGRESS) if r.value["anonymous_id"].startswith("browser-")]
    assert len(looked["reached_ms"]) == 1
    assert not any(body(r)["anonymous_id"].startswith("browser-") for r in received if body(r)["event"] == "funnel_completed")


def test_every_request_is_signed_with_its_hooks_secret_and_names_its_delivery(delivered: Run) -> None:
    received = delivered.receiver.snapshot()
    assert {r.path for r in received} == set(SECRETS)
    for request in received:
        expected = "sha256=" + hmac.new(SECRETS[request.path].encode(), request.body, hashlib.sha256).hexdigest()
        assert request.headers["X-Footfall-Signature"] == expected
        assert request.headers["X-Footfall-Delivery"] == body(request)["id"]
        assert request.headers["X-Footfall-Event"] == body(request)["event"]
    # Retries of one change carry one id; different changes, different ids.
    by_change = defaultdict(set)
    for request in received:
        by_change[(request.path, request.body)].add(request.headers["X-Footfall-Delivery"])
    assert all(len(ids) == 1 for ids in by_change.values())
    assert len({ids.pop() for ids in by_change.values()}) == len(by_change)


def test_a_change_done_but_not_committed_is_delivered_again_with_the_same_id(delivered: Run) -> None:
    before = delivered.before_the_kill  # type: ignore[attr-defined]
    after = delivered.receiver.snapshot()[len(before):]
    done_before = {r.headers["X-Footfall-Delivery"] for r in before if 200 <= r.status < 300 or r.path == "/refuse"}
    again = done_before & {r.headers["X-Footfall-Delivery"] for r in after}
    assert again, "nothing done before the kill was sent again after it"
    # Sent again as it was: the same body, hence the same signature.
    first = {r.headers["X-Footfall-Delivery"]: r.body for r in before}
    assert all(first[r.headers["X-Footfall-Delivery"]] == r.body for r in after if r.headers["X-Footfall-Delivery"] in again)


def test_refused_and_failing_deliveries_are_dead_lettered(delivered: Run) -> None:
    def dead() -> list[dict]:
        return [r.value for r in read_topic(delivered.pipeline.kafka.bootstrap, WEBHOOKS_DEAD) if delivered.suffix in r.value["body"]]

    wait_for(lambda: True if len({d["delivery_id"] for d in dead() if d["reason"] == "retry_time_spent"}) == CUSTOMERS else len(dead()),
             RETRY_S * 6, "a dead letter for every completion the failing hook never took")
    letters = dead()
    refused = [d for d in letters if d["reason"] == "refused"]
    spent = [d for d in letters if d["reason"] == "retry_time_spent"]
    assert {orjson.loads(d["body"])["anonymous_id"] for d in refused} == {f"c{i}-{delivered.suffix}" for i in range(CUSTOMERS)}
    assert all(d["url"].endswith("/refuse") and d["last_error"] == "HTTP 410" for d in refused)
    # A refusal is not retried: one 410 per dead letter (a delivery sent again after the kill
    # has two of each), and at most one more where the kill came between a 410 and its dead
    # letter. Retrying would have asked again and again for the retry time.
    answers = Counter(r.headers["X-Footfall-Delivery"] for r in delivered.receiver.snapshot() if r.path == "/refuse")
    per_id = Counter(d["delivery_id"] for d in refused)
    assert answers.keys() == per_id.keys() and all(answers[i] - per_id[i] in (0, 1) for i in answers), (answers, per_id)
    assert all(orjson.loads(d["body"])["segment"] == "purchasers" for d in refused)
    assert {orjson.loads(d["body"])["funnel"] for d in spent} == {"checkout"}
    for letter in spent:
        assert letter["url"].endswith("/gone") and letter["attempts"] > 2 and letter["last_error"] == "HTTP 503"
        # Given up only once the next wait (at most the 1 s cap) would pass the retry time.
        assert letter["dead_at_ms"] - letter["first_attempt_ms"] >= (RETRY_S - 1.5) * 1000
    # What the dead letters hold is exactly what was sent and refused.
    sent = {r.headers["X-Footfall-Delivery"]: r.body.decode() for r in delivered.receiver.snapshot() if r.path in ("/gone", "/refuse")}
    assert all(sent[d["delivery_id"]] == d["body"] for d in letters)
    assert not any(SECRETS["/gone"] in d["body"] or SECRETS["/refuse"] in str(d) for d in letters)


def test_a_change_of_someone_forgotten_is_never_sent(delivered: Run) -> None:
    [record] = [r for r in delivered.ours(SEGMENT_CHANGES) if r.value["anonymous_id"].startswith("forgotten-")]
    assert record.value["segment"] == "purchasers"  # the refusing hook would have wanted it too
    assert not [r for r in delivered.receiver.snapshot() if body(r)["anonymous_id"].startswith("forgotten-")]
    assert not [r for r in read_topic(delivered.pipeline.kafka.bootstrap, WEBHOOKS_DEAD) if "forgotten-" in r.value["body"]]
