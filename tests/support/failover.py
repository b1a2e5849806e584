"""A broker of a 3-node cluster taken out under steady load through the collector, and
brought back: the run and the checks the broker failure tests share."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from footfall.local.kafka_broker import Broker, all_registered
from schemas.topics import EVENTS
from tests.support.pipeline import CLUSTER_NODES, Pipeline, start_pipeline
from tests.support.sessions_reference import assert_matches_reference
from tests.support.steady_sender import SteadySender, stored_counts
from tests.support.waiting import wait_for

RETRY_AFTER_S = 1
ACK_TIMEOUT_S = 5.0
# The pipeline's parts as a test starts them, with the 503's Retry-After short enough that
# the refusals a client sees measure the outage, not the wait it was told.
PIPELINE = {"FOOTFALL_RETRY_AFTER_S": str(RETRY_AFTER_S), "FOOTFALL_KAFKA_ACK_TIMEOUT_S": str(ACK_TIMEOUT_S)}
BATCHES = 30  # batches of the steady sender stored before, during and after the outage
# Slack for what is neither election nor timeout: the client's retry, a metadata refresh.
SLACK_S = 5.0


async def leaders_of(bootstrap: str) -> list[int]:
    """The leader of each partition of the events topic, as the cluster reports it (-1:
    none); [-1] when the cluster does not answer (mid-outage, it may send the request to
    the broker that went)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await admin.start()
        (topic,) = await admin.describe_topics([EVENTS.name])
        return [partition["leader"] for partition in topic["partitions"]]
    except KafkaError:
        return [-1]
    finally:
        await admin.close()


def surviving_bootstrap(cluster: Broker, down: int) -> str:
    return ",".join(node.bootstrap for node in cluster.nodes if node.node_id != down)


def sent_batches(sender: SteadySender) -> int:
    return len(sender.sent_ids) // sender.batch_size


def stored_once(pipeline: Pipeline, run: str, sent: int) -> object:
    """A check for `wait_for`: True once every event sent is in ClickHouse once, else the counts."""
    counts = stored_counts(pipeline, run)
    return True if (counts["final"], counts["ids"]) == (sent, sent) else counts


@dataclass(frozen=True)
class Outage:
    """How a broker is taken out of the cluster and brought back, by its node id."""

    how: str
    take_down: Callable[[int], None]
    bring_back: Callable[[int], None]


def through_an_outage(cluster: Broker, folder: Path, outage: Outage) -> None:
    """The pipeline on `cluster` under steady load while the broker leading most of the
    events topic's partitions is out, then back: every acknowledged event once, sessions
    exact, refusals no longer than the election and the acknowledgement timeout, and no
    part of the pipeline restarted."""
    pipeline = start_pipeline(cluster, folder, **PIPELINE)
    run = uuid.uuid4().hex[:12]
    sender = SteadySender(pipeline.collector.url, run, interval_s=0.1)
    parts = [pipeline.collector.process, pipeline.sink, *pipeline.workers]
    down: list[int] = []
    try:
        sender.start()
        wait_for(lambda: sent_batches(sender) >= BATCHES, 120, "batches stored before the outage")
        leader = Counter(asyncio.run(leaders_of(cluster.bootstrap))).most_common(1)[0][0]
        before = sent_batches(sender)
        down_at = time.monotonic()
        outage.take_down(leader)
        down.append(leader)
        survivors = surviving_bootstrap(cluster, leader)
        wait_for(lambda: all(node not in (-1, leader) for node in asyncio.run(leaders_of(survivors))), 120,
                 "every partition of the events topic led by a surviving broker")
        election_s = time.monotonic() - down_at
        wait_for(lambda: sent_batches(sender) >= before + BATCHES, 180, f"batches stored with broker {leader} down")
        outage.bring_back(down.pop())
        wait_for(lambda: all_registered(cluster.connection, CLUSTER_NODES), 120, f"broker {leader} back in the cluster")
        back = sent_batches(sender)
        wait_for(lambda: sent_batches(sender) >= back + BATCHES, 120, "batches stored with every broker back")
        sender.stop()

        wait_for(lambda: stored_once(pipeline, run, len(sender.sent_ids)), 300, "every acknowledged event in ClickHouse once")
        assert_matches_reference(pipeline, run)
        refusal_s = sender.longest_refusal_s()
        print(f"\n{outage.how} broker {leader}: partitions re-led in {election_s:.1f} s, the collector refused for "
              f"{refusal_s:.1f} s at most; answers {dict(sender.answers)}; {len(sender.sent_ids):,} events stored once")
        assert not sender.refused, sender.refused[:5]
        assert set(sender.answers) <= {200, 503}, sender.answers
        assert refusal_s <= election_s + ACK_TIMEOUT_S + SLACK_S, (refusal_s, election_s)
        assert all(part.alive() for part in parts), pipeline.log_tails()
    finally:
        if sender.is_alive():
            sender.stop()
        pipeline.stop()
        for node_id in down:  # whole again for the next test, whatever failed
            outage.bring_back(node_id)
