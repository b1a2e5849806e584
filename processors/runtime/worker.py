"""The state one processors worker runs on, as one value: its Faust app, the visitor and
profile tables, the publisher, the rules and analytics it was built with, and what its
agent and timers share. processors.runtime.wiring builds it; nothing here runs by itself."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field

import faust

from infra.config import Settings
from infra.erasures import Forgotten
from infra.kafka.erasure_reader import ErasureReader
from infra.kafka.publisher import Publisher, partition_for
from processors.analytics import rfm
from processors.analytics.analyse import CustomerOutputs, CustomerState
from processors.analytics.evolve import evolve
from processors.analytics.site_config import AnalyticsConfig
from processors.runtime import metrics
from processors.runtime.activity import ActivityIndex, ArrivalClocks
from processors.runtime.clv_reader import ClvModels
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
    # The people forgotten, read from footfall.erasures by `erasures` (set once built:
    # what it does on an erasure needs the worker).
    forgotten: Forgotten
    erasures: ErasureReader = field(init=False)
    positions: PartitionPositions = field(default_factory=PartitionPositions)
    # Each partition's arrival clock, and when each visitor and profile was last active on
    # it: what the timers that forget idle visitors and expire profiles go by.
    clocks: ArrivalClocks = field(default_factory=ArrivalClocks)
    visitor_activity: ActivityIndex = field(default_factory=ActivityIndex)
    profile_activity: ActivityIndex = field(default_factory=ActivityIndex)
    # The consumer generation those were started in: after a rebalance, a partition this
    # worker got (back) may be behind and its states are not the ones indexed, so the
    # clocks and the indexes start again (processors.runtime.inactive_states).
    tracked_generation: int | None = None
    # The consumer generation whose recovered states were last cleared of everyone forgotten.
    erased_generation: int | None = None
    # The keys of the batch taken and not yet saved: the timers leave them alone.
    in_flight: set[bytes] = field(default_factory=set)
    # Each site's RFM cut points over this worker's customers, recomputed by a timer.
    bounds: dict[str, rfm.Boundaries | None] = field(default_factory=dict)
    # Each site's latest lifetime value models, read from footfall.clv_models.
    clv_models: ClvModels = field(default_factory=ClvModels)
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

    def follow_rebalance(self) -> None:
        """Start the clocks and activity indexes again if the worker rebalanced since."""
        generation = self.app.consumer_generation_id
        if self.tracked_generation != generation:
            self.tracked_generation = generation
            self.clocks.reset()
            self.visitor_activity.reset()
            self.profile_activity.reset()

    def save_visitors(self, states: Mapping[bytes, VisitorState], partition_of: Mapping[bytes, int], seen: Mapping[bytes, int]) -> None:
        """After their outputs were acknowledged: the visitors' new states, stamped with when
        they were last active, in the table and its changelog."""
        for key, state in states.items():
            partition = partition_of[key]
            state.seen_ms = seen[key]
            self.visitors.data[key] = state
            self.visitors.send_changelog(partition, key, state)
            self.visitor_activity.touch(partition, key, state.seen_ms)

    def save_profiles(self, outputs: CustomerOutputs, seen: Mapping[bytes, int] | None = None) -> None:
        """After the outputs were acknowledged: the states that produced them, and their
        counts. `seen` stamps those of a batch's visitors with when they were last active;
        a timer's changes leave that as it was."""
        metrics.record_analytics(outputs)
        for key, state in outputs.states.items():
            partition = partition_for(key, EVENT_PARTITIONS, [])
            if seen is not None:
                state = evolve(state, seen_ms=seen[key])
                self.profile_activity.touch(partition, key, seen[key])
            self.profiles.data[key] = state
            self.profiles.send_changelog(partition, key, state)
