"""A process stopped while it still reads footfall.erasures to its end: the wait ends with
False, for the caller to end quietly (a worker's agent raising instead is a crash in Faust's
eyes), and without giving up while the reading goes on."""

from __future__ import annotations

import asyncio
import logging

from footfall.local.processes import free_port
from infra.erasures import Forgotten
from infra.kafka.connection import KafkaConnection
from infra.kafka.erasure_reader import ErasureReader

LOG = logging.getLogger("test")


def reader() -> ErasureReader:
    """A reader of brokers that never answer: a free port nothing listens on."""
    connection = KafkaConnection(bootstrap=f"127.0.0.1:{free_port()}")
    return ErasureReader(connection, Forgotten(lambda site_id: b"key"), "test-erasures", LOG, on_malformed=lambda exc: None)


def test_a_reading_stopped_before_its_end_makes_the_wait_return_false() -> None:
    async def scenario() -> tuple[bool, bool]:
        erasures = reader()
        waiting = asyncio.create_task(erasures.wait_caught_up("testing"))
        await asyncio.sleep(0.5)
        still_waiting = not waiting.done()
        await erasures.stop()
        return still_waiting, await asyncio.wait_for(waiting, 10)

    assert asyncio.run(scenario()) == (True, False)
