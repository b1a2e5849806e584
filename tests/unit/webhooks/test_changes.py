"""Records of the change topics read as changes: a segment change as it is, a funnel's
progress only once it reaches the last step, and a broken record refused with a reason."""

from __future__ import annotations

import orjson
import pytest

from schemas.topics import FUNNEL_PROGRESS, SEGMENT_CHANGES
from webhooks.changes import Malformed, read, site_funnels

FUNNELS = {"shop": site_funnels([{"name": "checkout", "window_s": 600, "steps": [{"type": "page_view"}, {"type": "purchase"}]}, "junk"])}
SEGMENT = {"site_id": "shop", "anonymous_id": "a1", "customer_id": "U-1", "segment": "buyers", "change": "entered",
           "rule": "purchases >= 1", "at_ms": 1_000, "version": 3}
PROGRESS = {"site_id": "shop", "anonymous_id": "a1", "customer_id": "a1", "funnel": "checkout", "reached_ms": [10, 20], "version": 2, "late": False}


def encoded(record: dict) -> bytes:
    return orjson.dumps(record)


def test_a_segment_change_is_read_as_it_is() -> None:
    change = read(SEGMENT_CHANGES.name, encoded(SEGMENT), FUNNELS)
    assert change is not None
    assert (change.event, change.subject, change.customer_id, change.at_ms, change.rule) == ("segment_entered", "buyers", "U-1", 1_000, "purchases >= 1")
    left = read(SEGMENT_CHANGES.name, encoded({**SEGMENT, "change": "left", "version": 4}), FUNNELS)
    assert left is not None and left.event == "segment_left" and left.identity != change.identity


def test_a_funnel_counts_once_its_last_step_is_reached() -> None:
    assert read(FUNNEL_PROGRESS.name, encoded({**PROGRESS, "reached_ms": [10]}), FUNNELS) is None
    completed = read(FUNNEL_PROGRESS.name, encoded(PROGRESS), FUNNELS)
    assert completed is not None and completed.event == "funnel_completed" and completed.at_ms == 20
    assert orjson.loads(completed.rule)["steps"] == [{"type": "page_view"}, {"type": "purchase"}]
    # A late event moving a step earlier is the same completion, with the same identity.
    revised = read(FUNNEL_PROGRESS.name, encoded({**PROGRESS, "reached_ms": [5, 15], "version": 3}), FUNNELS)
    assert revised is not None and revised.identity == completed.identity


def test_a_funnel_or_site_without_hooks_is_no_change() -> None:
    assert read(FUNNEL_PROGRESS.name, encoded({**PROGRESS, "funnel": "signup"}), FUNNELS) is None
    assert read(FUNNEL_PROGRESS.name, encoded({**PROGRESS, "site_id": "blog"}), FUNNELS) is None


@pytest.mark.parametrize("value, reason", [
    (None, "empty"),
    (b"x" * 70_000, "larger than"),
    (b"{not json", "not JSON"),
    (b"[1, 2]", "not a JSON object"),
    (encoded({**SEGMENT, "site_id": "a shop; DROP"}), "site_id"),
    (encoded({**SEGMENT, "segment": 7}), "segment"),
    (encoded({**SEGMENT, "change": "moved"}), "neither entered nor left"),
    (encoded({**SEGMENT, "at_ms": 10**15}), "at_ms"),
    (encoded({**SEGMENT, "at_ms": True}), "at_ms"),
    (encoded({**SEGMENT, "version": "3"}), "version"),
    (encoded({**SEGMENT, "anonymous_id": "a" * 5000}), "anonymous_id"),
    (encoded({**SEGMENT, "customer_id": {"deep": 1}}), "customer_id"),
])
def test_a_broken_segment_record_is_refused_with_its_reason(value: bytes | None, reason: str) -> None:
    with pytest.raises(Malformed, match=reason):
        read(SEGMENT_CHANGES.name, value, FUNNELS)


def test_a_broken_progress_record_is_refused_with_its_reason() -> None:
    with pytest.raises(Malformed, match="reached_ms"):
        read(FUNNEL_PROGRESS.name, encoded({**PROGRESS, "reached_ms": "soon"}), FUNNELS)
    with pytest.raises(Malformed, match="reached_ms"):
        read(FUNNEL_PROGRESS.name, encoded({**PROGRESS, "reached_ms": [1, -5]}), FUNNELS)
