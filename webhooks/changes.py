"""What a receiver is told about: the records of the segment changes and funnel progress
topics read as changes, a funnel's progress counting only when it reaches the last step.

The records come from footfall's own processors, but a topic is read as hostile input all
the same: a record that is not what it should be is refused with a reason, never a crash.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from schemas.names import NAME_PATTERN
from schemas.topics import FUNNEL_PROGRESS, SEGMENT_CHANGES
from schemas.webhooks import FUNNEL_COMPLETED, SEGMENT_ENTERED, SEGMENT_LEFT

NAME = re.compile(NAME_PATTERN)
MAX_RECORD_BYTES = 64 * 1024
MAX_ID_CHARS = 1024
MAX_RULE_CHARS = 8192
# Epoch milliseconds between 1970 and 2200: an absurd time is a broken record.
MAX_TIME_MS = 7_258_118_400_000
SEGMENT_EVENTS = {"entered": SEGMENT_ENTERED, "left": SEGMENT_LEFT}


class Malformed(ValueError):
    """A record that cannot be read as a change; the reason says why."""


@dataclass(frozen=True)
class Change:
    """One change of one visitor, as every hook that wants it is told."""

    event: str  # segment_entered | segment_left | funnel_completed
    site_id: str
    anonymous_id: str
    customer_id: str
    subject: str  # the segment or the funnel
    at_ms: int
    rule: str
    # What makes this change itself: a replay of the same record gives the same identity,
    # hence the same delivery id.
    identity: str

    @property
    def kind(self) -> str:
        return "funnel" if self.event == FUNNEL_COMPLETED else "segment"


@dataclass(frozen=True)
class SiteFunnels:
    """What the deliverer knows of a site's funnels from its configuration: each one's
    number of steps (reaching the last completes it) and its rule as configured."""

    steps: Mapping[str, int]
    rules: Mapping[str, str]


def site_funnels(configured: list[Any]) -> SiteFunnels:
    """From a site's `[[sites.funnels]]` as written; the processors validate them, and an
    entry they would refuse is simply not known here."""
    steps, rules = {}, {}
    for funnel in configured:
        if isinstance(funnel, dict) and isinstance(funnel.get("name"), str) and isinstance(funnel.get("steps"), list):
            steps[funnel["name"]] = len(funnel["steps"])
            rules[funnel["name"]] = orjson.dumps({"window_s": funnel.get("window_s"), "steps": funnel["steps"]}).decode()[:MAX_RULE_CHARS]
    return SiteFunnels(steps, rules)


def _text(record: Mapping[str, Any], field: str, limit: int = MAX_ID_CHARS, pattern: re.Pattern[str] | None = None) -> str:
    value = record.get(field)
    if not isinstance(value, str) or len(value) > limit or (pattern is not None and not pattern.fullmatch(value)):
        raise Malformed(f"{field} is not a string of at most {limit} characters" + (" that is a name" if pattern else ""))
    return value


def _moment(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TIME_MS:
        raise Malformed(f"{field} is not a time in epoch milliseconds")
    return value


def _decode(value: bytes | None) -> Mapping[str, Any]:
    if value is None or len(value) > MAX_RECORD_BYTES:
        raise Malformed(f"the record is empty or larger than {MAX_RECORD_BYTES} bytes")
    try:
        record = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise Malformed(f"not JSON: {exc}") from None
    if not isinstance(record, dict):
        raise Malformed("not a JSON object")
    return record


def _who(record: Mapping[str, Any]) -> tuple[str, str, str]:
    site_id = _text(record, "site_id", pattern=NAME)
    anonymous_id = _text(record, "anonymous_id")
    customer_id = record.get("customer_id") or anonymous_id
    if not isinstance(customer_id, str) or len(customer_id) > MAX_ID_CHARS:
        raise Malformed("customer_id is not a string")
    return site_id, anonymous_id, customer_id


def segment_change(value: bytes | None) -> Change:
    """A record of footfall.segment_changes: a visitor entering or leaving a segment."""
    record = _decode(value)
    site_id, anonymous_id, customer_id = _who(record)
    segment = _text(record, "segment", pattern=NAME)
    event = SEGMENT_EVENTS.get(record.get("change"))  # type: ignore[arg-type]
    if event is None:
        raise Malformed("change is neither entered nor left")
    version = record.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise Malformed("version is not an integer")
    at_ms = _moment(record.get("at_ms"), "at_ms")
    rule = record.get("rule") or ""
    if not isinstance(rule, str):
        raise Malformed("rule is not a string")
    identity = "\x00".join((site_id, anonymous_id, segment, event, str(version), str(at_ms)))
    return Change(event, site_id, anonymous_id, customer_id, segment, at_ms, rule[:MAX_RULE_CHARS], identity)


def funnel_completion(value: bytes | None, funnels: Mapping[str, SiteFunnels]) -> Change | None:
    """A record of footfall.funnel_progress if it reaches the funnel's last step, else None.

    A funnel is completed once per visitor: a later record for it (a late event moving a
    step earlier) is the same completion and carries the same identity, so a receiver sees
    the same delivery id again and can drop it."""
    record = _decode(value)
    site_id, anonymous_id, customer_id = _who(record)
    funnel = _text(record, "funnel", pattern=NAME)
    reached = record.get("reached_ms")
    if not isinstance(reached, list) or len(reached) > 1000:
        raise Malformed("reached_ms is not a list of step times")
    known = funnels.get(site_id)
    steps = known.steps.get(funnel) if known else None
    if not steps or len(reached) < steps:
        return None
    at_ms = _moment(reached[steps - 1], "reached_ms")
    identity = "\x00".join((site_id, anonymous_id, funnel, FUNNEL_COMPLETED))
    return Change(FUNNEL_COMPLETED, site_id, anonymous_id, customer_id, funnel, at_ms, known.rules[funnel], identity)  # type: ignore[union-attr]


def read(topic: str, value: bytes | None, funnels: Mapping[str, SiteFunnels]) -> Change | None:
    """The change a record of one of the two topics holds, None if it is none a hook can want."""
    if topic == SEGMENT_CHANGES.name:
        return segment_change(value)
    if topic == FUNNEL_PROGRESS.name:
        return funnel_completion(value, funnels)
    raise Malformed(f"the deliverer does not read {topic}")
