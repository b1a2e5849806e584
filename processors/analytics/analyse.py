"""A visitor's analytics state through events and time, without I/O: the profile, segments,
funnel progress and an evaluation clock that never goes back, so that outputs depend on
the stored state and the input alone and a replay gives the very same records."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from processors.analytics import funnels, rfm
from processors.analytics.clv.value import Fitted
from processors.analytics.site_config import SiteAnalytics
from processors.sessionisation.sessionise import KeyValue, Placed, visitor_of
from processors.analytics.customer_rows import customer_row
from processors.analytics.evolve import evolve
from processors.analytics.profiles import CustomerProfile, update
from processors.analytics.segments import Change, reevaluate
from schemas.topics import CUSTOMERS, FUNNEL_PROGRESS, SEGMENT_CHANGES


@dataclass(frozen=True)
class CustomerState:
    """A visitor's analytics state: profile, segment memberships, funnel progress and evaluation clock."""

    profile: CustomerProfile
    members: frozenset[str] = frozenset()
    clock_ms: int = 0
    # When time alone can next change a membership (processors.analytics.segments).
    next_check_ms: int | None = None
    funnels: Mapping[str, funnels.FunnelProgress] = field(default_factory=dict)
    # The version of the latest segment changes and customer row published.
    seq: int = 0
    # The customer id the latest customer row was published under, to retire it when the
    # visitor identifies and becomes their user id.
    customer_id: str | None = None
    # When the visitor was last active, on the arrival clock (as VisitorState.seen_ms):
    # set by the worker as it saves the state after an event, not by timers.
    seen_ms: int | None = None


@dataclass
class CustomerOutputs:
    """One batch's (or one timer run's) records, keyed by topic name."""

    changes: list[KeyValue] = field(default_factory=list)
    # Rows deleting a customer id a visitor no longer goes by, and each visitor's latest row.
    retired: list[KeyValue] = field(default_factory=list)
    customers: dict[bytes, bytes] = field(default_factory=dict)
    progress: dict[tuple[bytes, str], bytes] = field(default_factory=dict)
    states: dict[bytes, CustomerState] = field(default_factory=dict)
    # For the worker's metrics: (site, segment, "entered" | "left") and (site, funnel, step
    # reached) counted over the batch.
    segment_moves: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    funnel_steps: Counter[tuple[str, str, int]] = field(default_factory=Counter)

    def records(self) -> list[tuple[str, bytes, bytes]]:
        """(topic, key, value) of every record, in the order they should be published."""
        out = [(SEGMENT_CHANGES.name, key, value) for key, value in self.changes]
        out += [(CUSTOMERS.name, key, value) for key, value in [*self.retired, *self.customers.items()]]
        out += [(FUNNEL_PROGRESS.name, key, value) for (key, _), value in self.progress.items()]
        return out


def _change_record(state: CustomerState, change: Change, version: int, rule: str) -> bytes:
    profile = state.profile
    return orjson.dumps({
        "site_id": profile.site_id,
        "anonymous_id": profile.visitor,
        "customer_id": profile.customer_id,
        "segment": change.segment,
        "change": change.change,
        "rule": rule,
        "at_ms": change.at_ms,
        "version": version,
    })


def _customer_records(
    key: bytes, state: CustomerState, site: SiteAnalytics, bounds: rfm.Boundaries | None, fitted: Fitted | None, outputs: CustomerOutputs
) -> None:
    """The current row, and a deleting row for the id it was published under before."""
    # The row's fields are all plain values: its __dict__ is the record (asdict copies deeply, slowly).
    row = {**vars(customer_row(state.profile, bounds, state.clock_ms, fitted, site.analytics.clv_horizon)), "version": state.seq}
    if state.customer_id is not None and state.customer_id != row["customer_id"]:
        outputs.retired.append((key, orjson.dumps({**row, "customer_id": state.customer_id, "is_deleted": 1})))
    outputs.customers[key] = orjson.dumps({**row, "is_deleted": 0})


def refresh(
    key: bytes, state: CustomerState, site: SiteAnalytics, now_ms: int, bounds: rfm.Boundaries | None,
    outputs: CustomerOutputs, customer_changed: bool,
) -> CustomerState:
    """Segments at `now_ms`, their changes to outputs; a new version if they or the
    customer changed. The customer's row is `write_customer`'s: once per batch, however
    many of the customer's events the batch held."""
    evaluation = reevaluate(site.segment_rules, state.profile, state.members, now_ms, bounds)
    seq = state.seq + 1 if evaluation.changes or customer_changed else state.seq
    state = evolve(state, members=evaluation.members, clock_ms=now_ms, next_check_ms=evaluation.next_check_ms, seq=seq)
    if evaluation.changes:
        outputs.changes += [
            (key, _change_record(state, change, seq, site.segment_texts.get(change.segment, "")))
            for change in evaluation.changes
        ]
        outputs.segment_moves.update((state.profile.site_id, change.segment, change.change) for change in evaluation.changes)
    outputs.states[key] = state
    return state


def write_customer(
    key: bytes, state: CustomerState, site: SiteAnalytics, bounds: rfm.Boundaries | None, outputs: CustomerOutputs,
    fitted: Fitted | None,
) -> None:
    """The customer's row as of the state's clock and version, with the lifetime value of
    the site's latest `fitted` models, and a deleting row for the id it was published under
    before, if the customer goes by another now."""
    _customer_records(key, state, site, bounds, fitted, outputs)
    outputs.states[key] = evolve(state, customer_id=state.profile.customer_id)


def _advance_funnels(key: bytes, state: CustomerState, site: SiteAnalytics, event: Mapping[str, Any], ts_ms: int, outputs: CustomerOutputs) -> CustomerState:
    if not site.funnel_definitions:
        return state
    progress = dict(state.funnels)
    for funnel in site.funnel_definitions:
        before = progress.get(funnel.name, funnels.FunnelProgress())
        progress[funnel.name], changed = funnels.advance(funnel, before, event, ts_ms)
        if changed is not None:
            site_id = state.profile.site_id
            outputs.funnel_steps.update((site_id, funnel.name, step) for step in range(before.level + 1, changed.level + 1))
            outputs.progress[(key, funnel.name)] = orjson.dumps({
                "site_id": state.profile.site_id,
                "anonymous_id": state.profile.visitor,
                "customer_id": state.profile.customer_id,
                "funnel": changed.funnel,
                "reached_ms": list(changed.reached_ms),
                "version": changed.version,
                "late": changed.late,
            })
    return evolve(state, funnels=progress)


def analyse_batch(
    placed: Iterable[Placed],
    stored: Callable[[bytes], CustomerState | None],
    site_of: Callable[[str], SiteAnalytics],
    bounds_of: Callable[[str], rfm.Boundaries | None],
    fitted_of: Callable[[str], Fitted | None] = lambda site_id: None,
) -> CustomerOutputs:
    """Every event of a sessionised batch, in order, over the visitors' stored states."""
    outputs = CustomerOutputs()
    rows_due: dict[bytes, tuple[SiteAnalytics, rfm.Boundaries | None]] = {}
    for key, event, ts_ms in placed:
        site_id = event["site_id"]
        state = outputs.states.get(key) or stored(key) or CustomerState(CustomerProfile(site_id, visitor_of(key)))
        profile = update(state.profile, event, ts_ms)
        if profile is state.profile:
            continue  # seen already
        site = site_of(site_id)
        state = _advance_funnels(key, evolve(state, profile=profile), site, event, ts_ms, outputs)
        bounds = bounds_of(site_id)
        refresh(key, state, site, max(state.clock_ms, ts_ms), bounds, outputs, customer_changed=True)
        rows_due[key] = (site, bounds)
    for key, (site, bounds) in rows_due.items():
        write_customer(key, outputs.states[key], site, bounds, outputs, fitted_of(outputs.states[key].profile.site_id))
    return outputs


def catch_up(
    key: bytes, state: CustomerState, site: SiteAnalytics, now_ms: int, bounds: rfm.Boundaries | None, outputs: CustomerOutputs
) -> None:
    """Evaluate at every due moment up to `now_ms`, so each change is recorded when it
    happened even if the timer comes late."""
    while state.next_check_ms is not None and state.next_check_ms <= now_ms:
        state = refresh(key, state, site, state.next_check_ms, bounds, outputs, customer_changed=False)
