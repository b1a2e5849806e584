"""The Kafka topics between the stages, each defined once with its partitions and retention.

Partition counts bound how far a stage scales out (one consumer per partition), so they
are chosen here rather than left to the broker's default. The retentions here are the
defaults; the configured ones replace them where topics are created (infra.kafka.admin).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

DAY_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    retention_ms: int
    description: str
    extra_config: dict[str, str] = field(default_factory=dict)

    @property
    def config(self) -> dict[str, str]:
        return {"retention.ms": str(self.retention_ms), **self.extra_config}

    def retained_for(self, retention_ms: int) -> "Topic":
        return replace(self, retention_ms=retention_ms)

    def configured(self, config: dict[str, str]) -> "Topic":
        """The topic with more configuration (what the cluster's replication asks for)."""
        return replace(self, extra_config={**self.extra_config, **config})


EVENTS = Topic(
    name="footfall.events",
    partitions=6,
    retention_ms=7 * DAY_MS,
    description="normalised events from the collector, keyed by site:visitor",
)
DEAD_LETTER = Topic(
    name="footfall.events.invalid",
    partitions=1,
    retention_ms=30 * DAY_MS,
    description="messages the collector refused, with the reason and the raw payload",
)

SESSIONISED = Topic(
    name="footfall.events.sessionised",
    partitions=6,
    retention_ms=7 * DAY_MS,
    description="events with their session_id, and moves of events between sessions, keyed by site:visitor",
)
SESSIONS = Topic(
    name="footfall.sessions",
    partitions=6,
    retention_ms=7 * DAY_MS,
    description="versioned session rows (tombstoned when merged away), keyed by site:visitor",
)

# The sessioniser's own topics. Faust would create them when a worker starts, but two
# workers starting together race to do so and one may find a topic without partitions;
# created up front with the others, they are simply there.
SESSIONISER_APP_ID = "footfall-sessioniser"
# Changelogs are compacted: they hold each visitor's live state, the last record per key,
# for as long as the worker keeps it, and go by tombstones (a visitor forgotten or erased),
# never by age; retention.ms does not apply to a compacted topic.
# Kafka compacts only closed segments: rolled hourly, a changelog holds about an hour of
# superseded states and forgotten visitors' tombstones beyond the live ones, not a gigabyte.
COMPACTED = {"cleanup.policy": "compact", "segment.ms": str(60 * 60 * 1000)}
VISITORS_TABLE = "visitors"
VISITORS_CHANGELOG = Topic(
    name=f"{SESSIONISER_APP_ID}-{VISITORS_TABLE}-changelog",
    partitions=EVENTS.partitions,  # one changelog partition per events partition, as Faust requires
    retention_ms=7 * DAY_MS,
    description="the sessioniser's visitor state, compacted: what a restarted worker recovers",
    extra_config=COMPACTED,
)
SESSIONISER_LEADER = Topic(
    name=f"{SESSIONISER_APP_ID}-__assignor-__leader",
    partitions=1,
    retention_ms=7 * DAY_MS,
    description="Faust's leader election among sessioniser workers",
)

# What the analytics agent derives from the sessionised events, keyed by site:visitor.
SEGMENT_CHANGES = Topic(
    name="footfall.segment_changes",
    partitions=6,
    retention_ms=7 * DAY_MS,
    description="customers entering and leaving segments, versioned per visitor",
)
CUSTOMERS = Topic(
    name="footfall.customers",
    partitions=6,
    retention_ms=7 * DAY_MS,
    description="versioned customer rows: purchases, RFM, lifetime value, latest survey answers",
)
FUNNEL_PROGRESS = Topic(
    name="footfall.funnel_progress",
    partitions=6,
    retention_ms=7 * DAY_MS,
    description="versioned progress of a visitor through a funnel: level and step reach times",
)
PROFILES_TABLE = "profiles"
PROFILES_CHANGELOG = Topic(
    name=f"{SESSIONISER_APP_ID}-{PROFILES_TABLE}-changelog",
    partitions=EVENTS.partitions,  # profiles are kept by the worker that sessionises their visitor
    retention_ms=7 * DAY_MS,
    description="the worker's customer profiles and funnel progress, compacted",
    extra_config=COMPACTED,
)

# People forgotten (schemas.erasures), read whole by every worker and sink. Kept well
# beyond the longest retention of the topics above (the configured retentions are held to
# it), so no record of an erased person can be replayed after their erasure has gone.
ERASURES = Topic(
    name="footfall.erasures",
    partitions=1,
    retention_ms=90 * DAY_MS,
    description="keyed hashes of the ids of people erased, so that no replay brings them back",
    extra_config={"cleanup.policy": "compact,delete", "segment.ms": str(DAY_MS)},
)

# Each site's customer lifetime value models, one record per fit keyed by the site, from
# `footfall clv fit` and the refit timer: compacted, so the latest fit of every site stays
# for the workers to read whole at start, and the sink stores every fit as a row of
# footfall.clv_models. Holds model parameters, never a person's data.
CLV_MODELS = Topic(
    name="footfall.clv_models",
    partitions=1,
    retention_ms=7 * DAY_MS,
    description="each site's fitted BG/NBD and Gamma-Gamma parameters, the latest per site kept",
    extra_config={"cleanup.policy": "compact", "segment.ms": str(DAY_MS)},
)

# Webhook deliveries the deliverer gave up on (a receiver refusing, or failing for longer
# than the retry time), each with its reason, attempts and the body it would have sent.
WEBHOOKS_DEAD = Topic(
    name="footfall.webhooks.dead",
    partitions=1,
    retention_ms=30 * DAY_MS,
    description="webhook deliveries given up on, with the reason, the attempts and the body",
)

# The events and what the workers derive from them: one retention for all, the window in
# which a stage can be replayed. The dead letters and the erasures each have their own;
# the changelogs are compacted and Faust's leader topic holds no data.
EVENT_TOPICS: tuple[Topic, ...] = (EVENTS, SESSIONISED, SESSIONS, SEGMENT_CHANGES, CUSTOMERS, FUNNEL_PROGRESS)

ALL_TOPICS: tuple[Topic, ...] = (
    EVENTS, DEAD_LETTER, SESSIONISED, SESSIONS, VISITORS_CHANGELOG, SESSIONISER_LEADER,
    SEGMENT_CHANGES, CUSTOMERS, FUNNEL_PROGRESS, PROFILES_CHANGELOG, ERASURES, WEBHOOKS_DEAD, CLV_MODELS,
)
