"""What scrubbing personal data adds to each event, beside what normalising it costs.

The demo's traffic (pages, clicks, scrolls, orders, identifies) as the collector validates
it, scrubbed with the default rules; then identifies whose traits carry an email, a name
and a phone, each of which is hashed.

    .venv/bin/python -m bench.personal_data_cost [--rounds 20]
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import typer
from rich.console import Console

from collector.enrich import RequestMeta, normalise
from collector.geo import Geolocator
from collector.parsing import validate_message
from collector.personal_data import PersonalData
from footfall.demo import realistic_batch
from schemas.wire import Message

console = Console()
KEY = b"k" * 32


def per_message_us(step: Callable[[Message], Any], messages: list[Message], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for message in messages:
            step(message)
        best = min(best, time.perf_counter() - started)
    return best / len(messages) * 1e6


def identified(n: int) -> dict[str, Any]:
    traits = {"email": f"Person{n}@Example.com", "name": f"Person {n}", "phone": "+44 20 7946 0000", "plan": "pro"}
    return {"type": "identify", "userId": f"user-{n}", "anonymousId": f"anon-{n}", "traits": traits}


def main(rounds: int = 20) -> None:
    personal = PersonalData.for_site({}, lambda: KEY)
    meta = RequestMeta("demo", datetime.now(UTC), "203.0.113.9", None)
    locate = Geolocator().locate
    demo = [validate_message(m) for m in realistic_batch(datetime.now(UTC), 2000, seed=7)]
    hashed = [validate_message(identified(n)) for n in range(2000)]
    for title, messages in (("demo traffic", demo), ("identify with email, name, phone", hashed)):
        scrub = per_message_us(personal.applied, messages, rounds)
        whole = per_message_us(lambda m: normalise(m, meta, lambda: "x", locate), messages, rounds)
        console.print(f"{title}: scrubbing {scrub:.2f} µs a message, normalising {whole:.2f} µs ({scrub / whole:.1%})")


if __name__ == "__main__":
    typer.run(main)
