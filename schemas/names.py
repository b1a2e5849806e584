"""The one pattern for names people choose (site ids, segment and funnel names): safe in a
Kafka key, a ClickHouse string and a metric label alike."""

NAME_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
