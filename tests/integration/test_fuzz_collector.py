"""The running collector under attack: a hundred thousand requests generated from its own
OpenAPI description and written by hand to be hostile, beside a steady legitimate sender,
through a real broker, worker and sink. Nothing may get a 5xx, the collector's memory stays
bounded, every hand-made category gets the refusal it deserves, and every legitimate event
lands in ClickHouse exactly once.

FOOTFALL_FUZZ_REQUESTS sets how many requests are sent (100,000 by default) for a longer
run, FOOTFALL_FUZZ_SECONDS the time bound that ends the attack early on a slow machine (the
figures say so), FOOTFALL_FUZZ_SEED replays a run.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import time
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from itertools import islice
from pathlib import Path

import httpx
import psutil
import pytest

from bench.common import PeakRss
from collector.openapi import describe
from footfall.local.kafka_broker import Broker
from infra.config import Settings
from tests.support.fuzz_tally import Tally
from tests.support.generated_requests import generate_cases, generated_attacks
from tests.support.nasty_requests import CATEGORIES, Attack, nasty_attacks
from tests.support.pipeline import Pipeline, start_pipeline
from tests.support.raw_http import send_all
from tests.support.steady_sender import SteadySender, stored_counts
from tests.support.waiting import wait_for

REQUESTS = int(os.environ.get("FOOTFALL_FUZZ_REQUESTS", "100000"))
TIME_BOUND_S = float(os.environ.get("FOOTFALL_FUZZ_SECONDS", "180"))
SEED = int(os.environ.get("FOOTFALL_FUZZ_SEED") or random.randrange(2**32))
NASTY_SHARE = 0.25
CONNECTIONS = 32
COLLECTOR_WORKERS = 2
PIPELINE_SETTINGS = {
    "FOOTFALL_COLLECTOR_WORKERS": str(COLLECTOR_WORKERS),
    # The broker shares two cores with the attack: a slow acknowledgement here says nothing
    # about the collector, which would answer it with a 503 (counted as a failure).
    "FOOTFALL_KAFKA_ACK_TIMEOUT_S": "30",
    # Every attack comes from one address with one write key: under the default rate limits
    # most of it would be answered 429 before reaching the code it is meant to try
    # (tests/integration/test_rate_limits.py tries the limits themselves).
    "FOOTFALL_RATE_LIMITS__ADDRESS_RATE": "10000000",
    "FOOTFALL_RATE_LIMITS__ADDRESS_BURST": "10000000",
    "FOOTFALL_RATE_LIMITS__WRITE_KEY_RATE": "10000000",
    "FOOTFALL_RATE_LIMITS__WRITE_KEY_BURST": "10000000",
}
# Each request in flight holds at most its body (512 KB, unzipped too) and the events it
# makes (4 MB of output at most), a few times over while parsed and built; with 32 in flight
# over two workers that is a few hundred MB above idle at the very worst. More than this
# means the collector keeps what it should let go.
PEAK_RSS_BOUND_MB = 500


def interleaved(first: Iterable[Attack], second: Iterable[Attack], first_share: float, rng: random.Random) -> Iterator[Attack]:
    """Both streams mixed at random, `first_share` of the time from the first, until both end."""
    streams = [iter(first), iter(second)]
    while streams:
        stream = streams[0] if len(streams) == 1 or rng.random() < first_share else streams[1]
        item = next(stream, None)
        if item is None:
            streams.remove(stream)
        else:
            yield item


def collector_processes(pipeline: Pipeline) -> set[tuple[int, float]]:
    """The collector's supervisor and workers, each by PID and start time."""
    root = psutil.Process(pipeline.collector.process.pid)
    return {(process.pid, process.create_time()) for process in [root, *root.children(recursive=True)]}


@pytest.mark.timeout(1200)
def test_hostile_requests_get_no_5xx_and_every_legitimate_event_lands_once(kafka: Broker, tmp_path: Path) -> None:
    document = describe(Settings())
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as generator:
        # Written while the pipeline starts: the generator has a core of its own meanwhile.
        pool = generator.submit(generate_cases, document, SEED)
        pipeline = start_pipeline(kafka, tmp_path / "pipeline", **PIPELINE_SETTINGS)
        cases = pool.result()
    try:
        served = httpx.get(f"{pipeline.collector.url}/openapi.json", timeout=30)
        assert served.status_code == 200 and served.json() == document  # what was fuzzed is what is served

        nasty_total = int(REQUESTS * NASTY_SHARE)
        nasty = islice(nasty_attacks(SEED, rounds=REQUESTS), nasty_total)
        generated = generated_attacks(cases, SEED, REQUESTS - nasty_total)
        attacks = interleaved(nasty, generated, NASTY_SHARE, random.Random(SEED))

        run = uuid.uuid4().hex[:12]
        legit = SteadySender(pipeline.collector.url, run)
        before = collector_processes(pipeline)
        memory = PeakRss({"collector": pipeline.collector.process.pid}, interval_s=0.2)
        tally = Tally()
        memory.start()
        legit.start()
        started = time.monotonic()
        send_all(pipeline.collector.url, attacks, tally.seen, CONNECTIONS, TIME_BOUND_S)
        attack_s = time.monotonic() - started
        legit.stop()
        peak_mb = memory.stop()["collector"]
        after = collector_processes(pipeline)

        def all_landed() -> bool | dict[str, int]:
            counts = stored_counts(pipeline, run)
            return counts["final"] == len(legit.sent_ids) or counts

        wait_for(all_landed, 300, "legitimate events landed")
        landed = stored_counts(pipeline, run)
        print_figures(tally, attack_s, peak_mb, legit, landed, len(cases))

        assert not tally.server_errors, f"{len(tally.server_errors)} answers were 5xx; the first:\n" + "\n".join(tally.server_errors[:10])
        assert not tally.unexpected, "answers no sound collector gives:\n" + "\n".join(
            f"{category} ({tally.unexpected_count[category]}): " + "\n    ".join(examples) for category, examples in tally.unexpected.items()
        )
        assert all(tally.expected_seen[category] for category in CATEGORIES), f"categories never refused as expected: {tally.expected_seen}"
        assert after == before, "a collector process died or was replaced during the attack"
        assert all(part.alive() for part in [pipeline.sink, *pipeline.workers]), pipeline.log_tails()
        assert peak_mb < PEAK_RSS_BOUND_MB
        assert not legit.refused, legit.refused[:5]
        assert landed == {"final": len(legit.sent_ids), "rows": len(legit.sent_ids), "ids": len(legit.sent_ids)}
    finally:
        pipeline.stop()


def print_figures(tally: Tally, attack_s: float, peak_mb: float, legit: SteadySender, landed: dict[str, int], cases: int) -> None:
    refusals = tally.refusals()
    generated = tally.sent_in("generated")
    stopped = f" (stopped by the time bound of {TIME_BOUND_S:g} s)" if tally.sent < REQUESTS else ""
    print(f"\nfuzzing the running collector (seed {SEED}; FOOTFALL_FUZZ_SEED={SEED} replays it)")
    print(f"  requests sent            {tally.sent}{stopped}: {tally.sent - generated} hand-made, {generated} generated "
          f"({cases} schema cases as written, then recombined); {tally.sent_bytes / 2**20:.0f} MB of bodies")
    print(f"  requests per second      {tally.sent / attack_s:.0f} over {attack_s:.0f} s, {CONNECTIONS} connections")
    print(f"  distinct refusals        {len(refusals)} (status and error code): {', '.join(refusals)}")
    print(f"  5xx answers              {len(tally.server_errors)}")
    print(f"  peak collector RSS       {peak_mb:.0f} MB (supervisor and {COLLECTOR_WORKERS} workers; bound {PEAK_RSS_BOUND_MB} MB)")
    print(f"  legitimate events        sent {len(legit.sent_ids)}; in ClickHouse {landed['final']} (FINAL), "
          f"{landed['rows']} rows, {landed['ids']} distinct ids; answers {dict(legit.answers)}")
    print("every answer, by how often it came, then by category:")
    print(tally.table())
