"""The state one processors worker runs on, as one value: its Faust app, the visitor and
profile tables, the publisher, the rules and analytics it was built with, and what its
agent and timers share. processors.runtime.wiring builds it; nothing here runs by itself."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field

import faust

from infra.config import Settings
from infra.kafka.publisher import Publisher, partition_for
from processors.analytics import rfm
from processors.analytics.analyse import CustomerOutputs, CustomerState
from processors.analytics.site_config import AnalyticsConfig
from processors.runtime import metrics
from processors.runtime.metrics import PartitionPositions
from processors.sessionisation.sessions import SiteRules, VisitorState
from schemas.topics import EVENTS

EVENT_PARTITIONS = list(range(EVENTS.partitions))


@dataclass
class Worker:
    """One processors worker's runtime state, shared by its agent and its timers."""

    app: faust.App
    settings: Settings
    events: faust.TopicT
    # VisitorState and CustomerState objects by event key (`site:visitor`).
    visitors: faust.Table
    profiles: faust.Table
    # Started by the agent; the timers' publishes retry until it is.
    publisher: Publisher
    rules: SiteRules
    analytics: AnalyticsConfig
    positions: PartitionPositions = field(default_factory=PartitionPositions)
    # When each visitor was last seen, by this worker's clock, for the idle timer.
    last_seen: dict[bytes, float] = field(default_factory=dict)
    # Each site's RFM cut points over this worker's customers, recomputed by a timer.
    bounds: dict[str, rfm.Boundaries | None] = field(default_factory=dict)
    # The agent and the timers read and replace the same states across awaits.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def owned_partitions(self, table: faust.Table) -> set[int]:
        """The partitions of `table` this worker is the active owner of now."""
        changelog = table.changelog_topic.get_topic_name()
        return {tp.partition for tp in self.app.assignor.assigned_actives() if tp.topic == changelog}

    def owned_profiles(self) -> list[tuple[bytes, CustomerState]]:
        """The customer states of the partitions this worker owns now."""
        owned = self.owned_partitions(self.profiles)
        return [(key, state) for key, state in list(self.profiles.data.items()) if partition_for(key, EVENT_PARTITIONS, []) in owned]

    def save_visitors(self, states: Mapping[bytes, VisitorState], partition_of: Mapping[bytes, int]) -> None:
        """After their outputs were acknowledged: the visitors' new states, in the table and its changelog."""
        for key, state in states.items():
            self.visitors.data[key] = state
            self.visitors.send_changelog(partition_of[key], key, state)

    def save_profiles(self, outputs: CustomerOutputs) -> None:
        """After the outputs were acknowledged: the states that produced them, and their counts."""
        metrics.record_analytics(outputs)
        for key, state in outputs.states.items():
            self.profiles.data[key] = state
            self.profiles.send_changelog(partition_for(key, EVENT_PARTITIONS, []), key, state)
