"""Why the collector produces with aiokafka: raw produce rate of kafka-python (the design
card's client) and aiokafka, beside Kafka's own producer perf tool, on one broker.

    .venv/bin/python -m bench.producer_clients [--runs 3] [--records 100000]
"""

from __future__ import annotations

import asyncio
import time

import typer
from aiokafka import AIOKafkaProducer
from kafka import KafkaProducer
from rich.console import Console
from rich.table import Table

from bench.collector_throughput import demo_batch, event_size
from bench.common import median, private_broker, producer_perf
from schemas.topics import EVENTS

console = Console()


def kafka_python_rate(bootstrap: str, records: int, record_size: int) -> float:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=2, batch_size=262144)
    value = b"x" * record_size
    started = time.perf_counter()
    for n in range(records):
        producer.send(EVENTS.name, key=b"demo:%d" % (n % 1000), value=value)
    producer.flush()
    rate = records / (time.perf_counter() - started)
    producer.close()
    return rate


async def aiokafka_rate(bootstrap: str, records: int, record_size: int) -> float:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=2, max_batch_size=262144)
    await producer.start()
    value = b"x" * record_size
    try:
        started = time.perf_counter()
        pending = [await producer.send(EVENTS.name, key=b"demo:%d" % (n % 1000), value=value) for n in range(records)]
        await asyncio.gather(*pending)
        return records / (time.perf_counter() - started)
    finally:
        await producer.stop()


def main(runs: int = 3, records: int = 100_000) -> None:
    record_size = event_size(demo_batch())  # records the size of the demo's events once normalised
    results: dict[str, list[float]] = {"kafka-python": [], "aiokafka": [], "ProducerPerformance (Java)": []}
    with private_broker() as broker:
        for run in range(1, runs + 1):
            console.print(f"run {run}/{runs}")
            results["ProducerPerformance (Java)"].append(producer_perf(broker.bootstrap, EVENTS.name, records, record_size))
            results["kafka-python"].append(kafka_python_rate(broker.bootstrap, records, record_size))
            results["aiokafka"].append(asyncio.run(aiokafka_rate(broker.bootstrap, records, record_size)))
    limit = median(results["ProducerPerformance (Java)"])
    table = Table(title=f"Produce rate, {record_size}-byte records, acks=all, idempotent (median of {runs})")
    for column in ("client", "records/s", "of the Java tool"):
        table.add_column(column)
    for client, rates in results.items():
        table.add_row(client, f"{median(rates):,.0f}", f"{median(rates) / limit:.0%}")
    console.print(table)


if __name__ == "__main__":
    typer.run(main)
