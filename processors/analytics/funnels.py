"""Funnels in stream, with ClickHouse's windowFunnel semantics, for events in any order: the
state keeps a bounded set of step entries and recomputes each step's reach time from them,
so a late event lands where its time says and the results can be checked in SQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from processors.analytics import conditions
from processors.analytics.conditions import Node, RuleError
from schemas.event import Event, EventType

Entry = tuple[int, int, str]  # (ts_ms, step number from 1, event_id)
EVENT_FIELDS = frozenset(Event.model_fields) | {"session_id"}
MAX_STEPS = 32  # windowFunnel's limit


def known_event_field(name: str) -> bool:
    return name in EVENT_FIELDS or name.startswith(("properties.", "traits."))


@dataclass(frozen=True)
class Step:
    """One funnel step: an event type and/or name, and optionally a rule over the event's fields."""

    type: str | None = None
    event: str | None = None  # the event's name
    rule: Node | None = None

    def matches(self, event: Mapping[str, Any]) -> bool:
        return (
            (self.type is None or event.get("type") == self.type)
            and (self.event is None or event.get("name") == self.event)
            and (self.rule is None or self.test(lambda name: conditions.dotted(event, name)))
        )

    @cached_property
    def test(self) -> conditions.Predicate:
        return conditions.compile_rule(self.rule)


@dataclass(frozen=True)
class Funnel:
    """A funnel as configured: ordered steps, a conversion window and the lateness it tolerates exactly."""

    name: str
    steps: tuple[Step, ...]
    window_ms: int
    lateness_ms: int = 7 * 86_400_000

    def steps_matched(self, event: Mapping[str, Any]) -> tuple[int, ...]:
        return tuple(number for number, step in enumerate(self.steps, 1) if step.matches(event))


def parse_step(raw: Any, where: str) -> Step:
    """A step from its config table: `type` and/or `event`, and optionally a rule
    (field/op/value, all or any) over the event's fields."""
    if not isinstance(raw, Mapping):
        raise RuleError(f"{where}: expected a table with type, event and conditions, got {raw!r}")
    kind, name = raw.get("type"), raw.get("event")
    if kind is not None and kind not in set(EventType):
        raise RuleError(f"{where}: unknown type {kind!r} (types: {', '.join(EventType)})")
    if name is not None and (not isinstance(name, str) or not name):
        raise RuleError(f"{where}: event must be an event name, got {name!r}")
    rest = {key: value for key, value in raw.items() if key not in ("type", "event")}
    rule = conditions.parse(rest, known_event_field, where) if rest else None
    if kind is None and name is None and rule is None:
        raise RuleError(f"{where}: a step needs a type, an event name or conditions")
    return Step(kind, name, rule)


def parse_steps(raw: Any, where: str) -> tuple[Step, ...]:
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_STEPS:
        raise RuleError(f"{where}: expected a list of 1 to {MAX_STEPS} steps")
    return tuple(parse_step(step, f"{where}[{i}]") for i, step in enumerate(raw))


def reach_times(entries: Sequence[Entry], steps: int, window_ms: int) -> tuple[int, ...]:
    """Each level's earliest reach time over entries sorted by (time, step); its length is
    the level. One pass, as windowFunnel does it: for each level, the latest start of a
    chain that reaches it, which is the start that leaves the most room for later steps."""
    starts: list[int | None] = [None] * steps
    reached: list[int] = []
    for ts, step, _ in entries:
        level = step - 1
        if level == 0:
            starts[0] = ts
        elif starts[level - 1] is not None and ts <= starts[level - 1] + window_ms:
            starts[level] = starts[level - 1]
        else:
            continue
        if len(reached) == level:
            reached.append(ts)
    return tuple(reached)


def earliest(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """Reach times over two sets of chains: the longer reach, each level's earlier time."""
    longer, shorter = (a, b) if len(a) >= len(b) else (b, a)
    return tuple(min(x, y) for x, y in zip(longer, shorter)) + longer[len(shorter):]


@dataclass(frozen=True)
class FunnelProgress:
    """One visitor's progress through one funnel."""

    entries: tuple[Entry, ...] = ()  # retained, sorted
    reached_ms: tuple[int, ...] = ()  # reach time of each level so far; its length is the level
    watermark_ms: int | None = None
    version: int = 0

    @property
    def level(self) -> int:
        return len(self.reached_ms)


@dataclass(frozen=True)
class FunnelOutput:
    """A change of a visitor's progress, for funnel_progress (a row per visitor and funnel)."""

    funnel: str
    level: int
    reached_ms: tuple[int, ...]
    version: int
    late: bool


def advance(funnel: Funnel, state: FunnelProgress, event: Mapping[str, Any], ts_ms: int) -> tuple[FunnelProgress, FunnelOutput | None]:
    """Add one event; return the new state and the changed progress, if it changed."""
    matched = funnel.steps_matched(event)
    event_id = event["event_id"]
    if not matched or any(entry[2] == event_id for entry in state.entries):
        return state, None
    late = state.watermark_ms is not None and ts_ms < state.watermark_ms - funnel.lateness_ms
    watermark = ts_ms if state.watermark_ms is None else max(state.watermark_ms, ts_ms)
    entries = tuple(sorted((*state.entries, *((ts_ms, step, event_id) for step in matched))))
    reached = earliest(state.reached_ms, reach_times(entries, len(funnel.steps), funnel.window_ms))
    horizon = watermark - funnel.lateness_ms - funnel.window_ms
    kept = tuple(entry for entry in entries if entry[0] >= horizon)
    if reached == state.reached_ms:
        return replace(state, entries=kept, watermark_ms=watermark), None
    version = state.version + 1
    output = FunnelOutput(funnel.name, len(reached), reached, version, late)
    return FunnelProgress(kept, reached, watermark, version), output
