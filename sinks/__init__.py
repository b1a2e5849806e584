"""ClickHouse writers: the one place events and aggregates are stored."""
