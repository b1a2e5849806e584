"""Crashes on the real pipeline, at the worst moments: ClickHouse stays exact.

Each test sends a generated population whose sessions are known in advance and ends a part
mid-stream: a worker killed by its fault point right after Kafka acknowledged a batch's
outputs and before the states behind them were saved, the sink killed by its fault point
right after writing a batch and before committing its offsets, or a worker stopped with
SIGTERM. ClickHouse must then hold every event once, exactly the planned sessions grouped as
the SQL reference groups them, and customers and segments equal to their SQL reference.
"""

from __future__ import annotations

from pathlib import Path

from infra import faults
from tests.support.crashes import ChunkedStream, assert_killed_at_its_fault, at_fault, republished
from tests.support.pipeline import new_broker, start_pipeline
from tests.support.planned_traffic import assert_landed_exactly, population, send_in_chunks
from tests.support.processes import assert_stops_by_itself

FAST_FAILOVER = {"FOOTFALL_PROCESSOR_SESSION_TIMEOUT_S": "8"}
# Chunks of the population, each sent once the ones before it landed, so a part told to die
# at its third batch dies after two were saved, with chunks still to come.
CHUNKS, FAULT_AT = 8, 3


def test_worker_killed_after_publishing_a_batch_and_before_saving_its_states(tmp_path: Path) -> None:
    broker = new_broker(tmp_path / "broker")
    pipeline = start_pipeline(broker, tmp_path / "stack", workers=0, **FAST_FAILOVER)
    try:
        messages, plan, suffix = population(101)
        stream = ChunkedStream(pipeline, messages, suffix, CHUNKS)
        faulty = pipeline.start_worker(**at_fault(faults.WORKER_AFTER_PUBLISH, FAULT_AT))
        stream.send_until_dead(lambda: faulty)
        assert_killed_at_its_fault(faulty)
        pipeline.start_worker()
        stream.send_rest()
        assert_landed_exactly(pipeline, plan, suffix, "a worker crash between publishing and saving")
        # The successor processed again what had been published but not committed.
        assert republished(broker.bootstrap, suffix)
    finally:
        pipeline.stop()
        broker.stop()


def test_worker_stopped_mid_stream_ends_cleanly_and_its_successor_finishes(tmp_path: Path) -> None:
    broker = new_broker(tmp_path / "broker")
    pipeline = start_pipeline(broker, tmp_path / "stack")
    try:
        messages, plan, suffix = population(103)

        def replace_worker() -> None:
            assert_stops_by_itself(pipeline.workers[0])
            pipeline.start_worker()

        send_in_chunks(pipeline, messages, 6, {2: replace_worker})
        assert_landed_exactly(pipeline, plan, suffix, "a worker was stopped")
    finally:
        pipeline.stop()
        broker.stop()


def test_sink_killed_after_writing_a_batch_and_before_committing_it(tmp_path: Path) -> None:
    broker = new_broker(tmp_path / "broker")
    pipeline = start_pipeline(broker, tmp_path / "stack", sink=False, FOOTFALL_SINK_BATCH_ROWS="200")
    try:
        messages, plan, suffix = population(202)
        stream = ChunkedStream(pipeline, messages, suffix, CHUNKS)
        # Twice: the second sink first rewrites what the first left uncommitted, then dies
        # the same way itself.
        for _ in range(2):
            pipeline.start_sink(ready=False, **at_fault(faults.SINK_AFTER_WRITE, FAULT_AT))
            stream.send_until_dead(lambda: pipeline.sink)
            assert_killed_at_its_fault(pipeline.sink)
        pipeline.start_sink()
        stream.send_rest()
        assert_landed_exactly(pipeline, plan, suffix, "sink crashes between writing and committing")
    finally:
        pipeline.stop()
        broker.stop()
