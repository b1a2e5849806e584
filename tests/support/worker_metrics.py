"""What a running worker says about itself on /metrics: the events it processed and the
partitions of the events topic it owns now, the evidence that a worker took part; and any
metric's total, a worker's or the sink's."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from schemas.topics import EVENTS


def samples(url: str, name: str) -> list[tuple[dict[str, str], float]]:
    """The labels and value of every sample of one metric."""
    text = httpx.get(url, timeout=10).text
    return [
        (sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    ]


def events_processed(url: str) -> float:
    return sum(value for _, value in samples(url, "footfall_processor_events_processed_total"))


def owned_partitions(url: str) -> frozenset[int]:
    """The worker reports consumer lag for exactly the events partitions it owns (it drops
    a partition's series when it gives the partition up); one still starting owns none."""
    try:
        lag = samples(url, "footfall_processor_consumer_lag_messages")
    except httpx.TransportError:
        return frozenset()
    return frozenset(int(labels["partition"]) for labels, _ in lag if labels["topic"] == EVENTS.name)


def total(url: str, name: str, **labels: str) -> float:
    """The sum of a metric's samples whose labels include `labels`."""
    return sum(value for found, value in samples(url, name) if labels.items() <= found.items())
