"""The deliverer's Prometheus metrics (and, from prometheus_client's defaults, its process metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from schemas.webhooks import WEBHOOK_EVENTS

OUTCOMES = ("delivered", "dead_lettered")
# What an attempt ended with: a 2xx, a status retried, one refused, or no answer.
ATTEMPT_RESULTS = ("success", "retried_status", "refused_status", "timeout", "connection_error")

DELIVERIES = Counter(
    "footfall_webhook_deliveries_total", "Changes done with, per hook: delivered, or dead-lettered", ["site", "event", "outcome"]
)
ATTEMPTS = Counter("footfall_webhook_attempts_total", "POSTs to receivers, by what each ended with", ["site", "result"])
DEAD_LETTERS = Counter(
    "footfall_webhook_dead_letters_total", "Deliveries given up on and written to footfall.webhooks.dead", ["site", "reason"]
)
LATENCY = Histogram(
    "footfall_webhook_delivery_seconds",
    "From a delivery's first attempt to the receiver's 2xx, retries included",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
)
MALFORMED = Counter("footfall_webhook_records_malformed_total", "Records of the change topics that hold no readable change", ["topic"])
ERASED = Counter("footfall_webhook_changes_erased_total", "Changes of people forgotten (footfall.erasures) not sent")
RETRYING = Gauge("footfall_webhook_deliveries_retrying", "Deliveries waiting to be tried again now")
ASSIGNED = Gauge("footfall_webhook_partitions_assigned", "Partitions of the change topics this deliverer reads")

REASONS = ("refused", "retry_time_spent")


def start_at_zero(site_ids: list[str]) -> None:
    """Every configured site's series from the start, at zero, so a rate sees the first one."""
    for site in site_ids:
        for event in WEBHOOK_EVENTS:
            for outcome in OUTCOMES:
                DELIVERIES.labels(site, event, outcome)
        for result in ATTEMPT_RESULTS:
            ATTEMPTS.labels(site, result)
        for reason in REASONS:
            DEAD_LETTERS.labels(site, reason)
