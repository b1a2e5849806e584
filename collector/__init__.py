"""The HTTP ingest service: Segment-compatible tracking endpoints in front of Kafka."""
