"""The collector's Prometheus metrics, named by Prometheus conventions (base units, _total)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "footfall_collector_requests_total", "HTTP requests answered, by endpoint and status", ["endpoint", "status"]
)
REQUEST_SECONDS = Histogram(
    "footfall_collector_request_duration_seconds", "Time to answer a request", ["endpoint"], buckets=LATENCY_BUCKETS
)
IN_FLIGHT = Gauge("footfall_collector_requests_in_flight", "Requests being handled now")
PAYLOAD_BYTES = Counter("footfall_collector_payload_bytes_total", "Request body bytes received, as sent", ["site"])
EVENTS_ACCEPTED = Counter("footfall_collector_events_accepted_total", "Events acknowledged by Kafka", ["site", "type"])
EVENTS_REJECTED = Counter(
    "footfall_collector_events_rejected_total", "Messages refused, by reason", ["site", "reason"]
)
PRODUCE_SECONDS = Histogram(
    "footfall_collector_kafka_produce_duration_seconds",
    "Time from handing a request's records to Kafka until all are acknowledged",
    buckets=LATENCY_BUCKETS,
)
PRODUCE_ERRORS = Counter("footfall_collector_kafka_produce_errors_total", "Requests Kafka did not acknowledge in time")
