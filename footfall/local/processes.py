"""Starting and stopping the stack's processes, each known by its PID and start time.

`footfall down` must stop what `footfall up` started and nothing else, so a process is
remembered with its start time: a PID the system has since given to another program
is recognised as such and left alone.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import orjson
import psutil


@dataclass(frozen=True)
class Started:
    """A process this project started: enough to find it again, and only it."""

    name: str
    pid: int
    create_time: float
    address: str
    log: str

    def alive(self) -> bool:
        try:
            process = psutil.Process(self.pid)
            return abs(process.create_time() - self.create_time) < 0.01 and process.status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False


def spawn(name: str, command: Sequence[str], log: Path, address: str, env: dict[str, str] | None = None) -> Started:
    """Start a command in its own session (so Ctrl-C in a terminal does not reach it
    before we stop it in order), its output going to a log file."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(
            list(command),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )
    return Started(name, process.pid, psutil.Process(process.pid).create_time(), address, str(log))


def stop(started: Started, grace_s: float = 20.0) -> bool:
    """SIGTERM, then SIGKILL after the grace period. False if it was no longer running."""
    if not started.alive():
        return False
    process = psutil.Process(started.pid)
    children = process.children(recursive=True)
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(grace_s)
    except psutil.TimeoutExpired:
        process.kill()
        process.wait(5)
    kill_left_behind(children)
    return True


def kill_left_behind(children: list[psutil.Process]) -> None:
    """A part killed, or slow to stop, leaves the processes it started (the collector's
    workers) running on their own; they were ours, so they go too. psutil.Process knows
    each one's start time, so a recycled PID is never hit."""
    for child in children:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()
    psutil.wait_procs(children, timeout=5)


def wait_until(check: Callable[[], bool], timeout_s: float, what: str, started: Started | None = None) -> None:
    """Poll until `check` holds; fail early, pointing at the log, if the process died."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        if started is not None and not started.alive():
            raise RuntimeError(f"{started.name} exited while starting; see {started.log}")
        time.sleep(0.2)
    raise TimeoutError(f"{what} not ready after {timeout_s:.0f}s" + (f"; see {started.log}" if started else ""))


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class Registry:
    """The processes of a running stack, kept in a file in the state folder."""

    def __init__(self, path: Path):
        self.path = path

    def load(self) -> list[Started]:
        if not self.path.exists():
            return []
        return [Started(**item) for item in orjson.loads(self.path.read_bytes())]

    def save(self, processes: Sequence[Started]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_bytes(orjson.dumps([asdict(p) for p in processes], option=orjson.OPT_INDENT_2))

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
