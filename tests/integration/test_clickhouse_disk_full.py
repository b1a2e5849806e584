"""The real engine on a full disk: its refusal is the server's condition, not the rows'
fault, so the writer sets nothing aside and leaves the batch to be written again, which
then stores every row once.

The engine's folder is a small filesystem of its own, filled up: a real fault of the real
engine (a full disk), as in the sink's outage test."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from infra.clickhouse.backend import ClickHouseError
from infra.clickhouse.embedded import EmbeddedClickHouse
from infra.clickhouse.migrations import migrate
from schemas.topics import SESSIONISED
from sinks.rows import RowBatch
from sinks.service import Writer


def fill(folder: Path) -> Path:
    """A file taking every free byte of the filesystem `folder` is on: written until the
    filesystem refuses, since the engine's own background writes may take some of the
    space between measuring it and reserving it."""
    filler = folder / "filler"
    chunk = bytes(1 << 20)
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        while True:
            os.write(descriptor, chunk)
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
    finally:
        os.close(descriptor)
    return filler


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "clickhouse"
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(folder)], check=True)
    yield folder
    subprocess.run(["umount", str(folder)], check=False)


def batch_of(count: int) -> RowBatch:
    batch = RowBatch()
    for n in range(count):
        event = {"event_id": f"e{n}", "site_id": "shop", "type": "page_view", "name": "Page Viewed",
                 "ts": "2026-11-25T10:00:00Z", "received_at": "2026-11-25T10:00:01Z", "x": "abc" if n == 3 else 1.0}
        batch.take(SESSIONISED.name, 0, n, orjson.dumps({"kind": "event", "event": event}))
    return batch


def test_a_full_disk_is_waited_out_and_sets_nothing_aside(small_disk: Path) -> None:
    engine = EmbeddedClickHouse(small_disk / "engine")
    try:
        migrate(engine)
        writer = Writer(engine)
        filler = fill(small_disk)
        with pytest.raises(ClickHouseError) as refused:
            writer.write(batch_of(50))
        assert (refused.value.code, refused.value.permanent) == (243, False), str(refused.value)

        filler.unlink()
        written = writer.write(batch_of(50))
        assert written.stored["events"] == 49 and [r.content for r in written.rejected if "e3" in r.content]
        assert engine.query("SELECT count() AS n FROM footfall.events") == [{"n": 49}]
        assert engine.query("SELECT count() AS n FROM footfall.rejected_rows") == [{"n": 1}]
    finally:
        engine.close()
