"""Simulated shop traffic for a running collector, the engine behind `footfall demo`. The
shop's data, its simulated visitors and the HTTP sender are apart, so the benchmarks and
tests replay the same traffic without a network, and the sender knows nothing of terminals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from footfall.demo.sender import SendError, SendSummary, SentNote, send
from footfall.demo.simulation import DemoPlan, first_messages, generate, realistic_batch

__all__ = [
    "DemoPlan",
    "DemoResult",
    "SendError",
    "SendSummary",
    "SentNote",
    "first_messages",
    "generate",
    "realistic_batch",
    "run_demo",
    "send",
]


@dataclass(frozen=True)
class DemoResult:
    """What a demo run intended, and what the collector made of it."""

    plan: DemoPlan
    sent: SendSummary


def run_demo(
    url: str,
    write_key: str = "demo_key",
    visitors: int = 200,
    days: int = 7,
    seed: int = 1,
    on_sent: SentNote | None = None,
) -> DemoResult:
    """Generates the demo traffic ending now and sends it to the collector at `url`,
    telling `on_sent` how far it has got."""
    messages, plan = generate(datetime.now(UTC), visitors=visitors, days=days, seed=seed)
    sent = send(messages, url, write_key=write_key, on_sent=on_sent)
    return DemoResult(plan, sent)
