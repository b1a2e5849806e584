"""Several sinks in one consumer group on the real pipeline, and the embedded engine's one sink.

Three sinks share the sink's group while planned traffic flows through the collector: one
is killed by its fault point between writing a batch and committing it, another takes over
its partitions, and a third joins mid-stream, taking partitions from a live sink. Every
event must then be written, by the sink that owned its partition, and only the killed
sink's uncommitted batch written twice (by its successor, which read it again); merged as
one server merges them, the sessions are exactly the planned ones. Each sink keeps its rows
in an engine of its own (tests.support.sink_group says why).
"""

from __future__ import annotations

from pathlib import Path

import httpx

from footfall.demo import send
from footfall.local.kafka_broker import Broker
from footfall.local.processes import free_port
from footfall.local.stack import spawn_sink
from infra import faults
from infra.config import Settings
from tests.support.crashes import assert_killed_at_its_fault, at_fault
from tests.support.pipeline import new_broker, start_pipeline
from tests.support.planned_traffic import chunked, population
from tests.support.processes import exit_status
from tests.support.sink_group import GroupSink, event_ids, merged_sessions, start_group_sink
from tests.support.waiting import wait_for

CHUNKS, FAULT_AT = 8, 3
SINK_ENV = {"FOOTFALL_SINK_BATCH_ROWS": "200", "FOOTFALL_SINK_BATCH_S": "0.2"}


def written(sinks: list[GroupSink], suffix: str) -> set[str]:
    return set().union(*(event_ids(sink, suffix) for sink in sinks))


def written_at_least(sinks: list[GroupSink], suffix: str, expected: int) -> object:
    """For `wait_for`: True once the sinks hold `expected` of the run's events, else what they hold."""
    try:
        held = len(written(sinks, suffix))
    except httpx.TransportError as exc:  # a sink still starting
        return repr(exc)
    return True if held >= expected else f"{held} of {expected} events"


def test_sinks_of_one_group_hand_partitions_over_and_only_a_killed_sinks_uncommitted_batch_is_written_twice(tmp_path: Path) -> None:
    broker = new_broker(tmp_path / "broker")
    pipeline = start_pipeline(broker, tmp_path / "stack", sink=False)
    env = {key: value for key, value in pipeline.env.items() if key != "FOOTFALL_SINK_PORT"} | SINK_ENV
    sinks: list[GroupSink] = []
    try:
        messages, plan, suffix = population(307)
        chunks = chunked(messages, CHUNKS)
        doomed = start_group_sink("sink-a", tmp_path / "sink-a", env, ready=False, **at_fault(faults.SINK_AFTER_WRITE, FAULT_AT))
        successor = start_group_sink("sink-b", tmp_path / "sink-b", env)
        sinks += [doomed, successor]
        sent = 0
        while doomed.process.alive():
            assert sent < len(chunks) - 1, f"sink-a wrote every chunk but the last without reaching its fault point; see {doomed.process.log}"
            send(chunks[sent], pipeline.collector.url, batch_size=len(chunks[sent]))
            sent += 1
            expected = sum(len(chunk) for chunk in chunks[:sent])
            wait_for(lambda: True if not doomed.process.alive() else written_at_least(sinks, suffix, expected), 120, f"chunk {sent} written")
        assert_killed_at_its_fault(doomed.process)
        send(chunks[sent], pipeline.collector.url, batch_size=len(chunks[sent]))
        newcomer = start_group_sink("sink-c", tmp_path / "sink-c", env)  # takes partitions from sink-b, which is writing
        sinks.append(newcomer)
        for chunk in chunks[sent + 1:]:
            send(chunk, pipeline.collector.url, batch_size=len(chunk))

        wait_for(lambda: written_at_least(sinks, suffix, plan.events), 180, "every event written")
        assert len(written(sinks, suffix)) == plan.events
        assert successor.process.alive() and newcomer.process.alive(), "a live sink died when the group moved partitions"
        by_sink = {sink.name: event_ids(sink, suffix) for sink in sinks}
        twice = {event_id for event_id in written(sinks, suffix) if sum(event_id in ids for ids in by_sink.values()) > 1}
        assert twice, "no event was written again: the killed sink's uncommitted batch was not read again by its successor"
        assert twice <= by_sink["sink-a"], "events written by two live sinks: a partition had two writers at once"
        assert not by_sink["sink-b"] & by_sink["sink-c"], "sink-c wrote what sink-b had written: it took partitions before sink-b committed them"
        wait_for(lambda: (lambda kept: (len(kept), sum(row["events"] for row in kept.values())))(merged_sessions(sinks, suffix))
                 == (plan.sessions, plan.events) or "not yet", 60, "the planned sessions, merged over the sinks")
    finally:
        for sink in sinks:
            sink.stop()
        pipeline.stop()
        broker.stop()


def test_a_second_sink_on_the_embedded_engine_is_refused_plainly_and_the_first_keeps_writing(kafka: Broker, tmp_path: Path) -> None:
    pipeline = start_pipeline(kafka, tmp_path / "stack")
    try:
        second = spawn_sink(Settings(), tmp_path / "stack" / "second-sink.log", {**pipeline.env, "FOOTFALL_SINK_PORT": str(free_port())})
        assert exit_status(second, timeout_s=60) == 1
        told = Path(second.log).read_text()
        assert "the embedded engine has exactly one sink" in told and "FOOTFALL_CLICKHOUSE_URL" in told, told[-2000:]
        assert "Traceback" not in told, told[-2000:]

        messages, plan, suffix = population(308, visitors=3)
        send(messages, pipeline.collector.url)
        where = f"anonymous_id LIKE '%{suffix}'"
        wait_for(lambda: pipeline.query(f"SELECT uniqExact(event_id) AS n FROM footfall.events WHERE {where}")[0]["n"] == plan.events,
                 90, "the first sink's events")
        assert pipeline.sink.alive()
    finally:
        pipeline.stop()
