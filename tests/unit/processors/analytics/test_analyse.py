"""The worker's analytics without Kafka: a batch of sessionised events to segment
changes, customer rows and funnel progress; replays give the same records; the timer
records a change at the moment it was due; the changelog codec loses nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from processors.runtime import profile_codec
from processors.analytics.analyse import CustomerState, CustomerOutputs, analyse_batch, catch_up
from infra.config import Site
from processors.analytics.site_config import for_sites
from processors.sessionisation.sessionise import Placed
from schemas.topics import CUSTOMERS, FUNNEL_PROGRESS, SEGMENT_CHANGES

T0 = 1_800_000_000_000
HOUR = 3_600_000
KEY = b"shop:anon-1"
CONFIG = for_sites([
    Site(
        id="shop",
        write_key="shop_key",
        analytics={"cart_abandonment_hours": 1},
        funnels=[{"name": "checkout", "window_s": 7200, "steps": [{"event": "Product Added"}, {"type": "purchase"}]}],
    )
])


def sessionised(event_id: str, ts_ms: int, type_: str = "track", name: str = "x", **fields) -> Placed:
    event = {
        "event_id": event_id, "site_id": "shop", "type": type_, "name": name, "anonymous_id": "anon-1",
        "session_id": "s1", "ts": datetime.fromtimestamp(ts_ms / 1000, UTC).isoformat(), **fields,
    }
    return KEY, event, ts_ms


BATCH = [
    sessionised("e1", T0, "page_view", "Page Viewed"),
    sessionised("e2", T0 + 1000, name="Product Added", properties={"product_id": "p1"}),
    sessionised("e3", T0 + 2000, name="Survey Responded", properties={"survey": "nps", "score": 9}),
]


def run(records, stored: dict[bytes, CustomerState] | None = None) -> CustomerOutputs:
    return analyse_batch(records, (stored or {}).get, CONFIG.for_site, lambda site: None)


def decoded(outputs: CustomerOutputs, topic: str) -> list[dict]:
    return [orjson.loads(value) for name, _, value in outputs.records() if name == topic]


def test_a_batch_gives_changes_the_latest_customer_row_and_funnel_progress() -> None:
    outputs = run(BATCH)
    entered = {(c["segment"], c["change"], c["at_ms"], c["rule"]) for c in decoded(outputs, SEGMENT_CHANGES.name)}
    assert ("new", "entered", T0, "sessions <= 1") in entered
    [customer] = decoded(outputs, CUSTOMERS.name)
    assert (customer["customer_id"], customer["nps"], customer["updated_ms"], customer["is_deleted"]) == ("anon-1", 9, T0 + 2000, 0)
    [progress] = decoded(outputs, FUNNEL_PROGRESS.name)
    assert (progress["funnel"], progress["reached_ms"]) == ("checkout", [T0 + 1000])
    assert outputs.states[KEY].next_check_ms == T0 + 1000 + HOUR


def test_a_replay_over_the_old_state_republishes_the_same_records_and_a_duplicate_nothing() -> None:
    first = run(BATCH[:2])
    stored = dict(first.states)
    replayed = run(BATCH[2:], stored).records()
    assert replayed and replayed == run(BATCH[2:], stored).records()
    assert run(BATCH[:2], stored).records() == []


def test_identifying_deletes_the_anonymous_customer_row() -> None:
    stored = dict(run(BATCH[:1]).states)
    identified = [
        sessionised("e9", T0 + 5000, "identify", "identify", user_id="U-1"),
        sessionised("e10", T0 + 6000, "page_view", "Page Viewed", user_id="U-1"),  # the same batch: the deletion stays
    ]
    rows = [(c["customer_id"], c["is_deleted"], c["version"]) for c in decoded(run(identified, stored), CUSTOMERS.name)]
    # One row per customer id and batch, at the batch's last version: the id the visitor
    # went by is deleted, the user id written.
    assert rows == [("anon-1", 1, 3), ("U-1", 0, 3)]


def test_the_timer_records_an_abandoned_cart_when_it_was_due_and_a_purchase_ends_it() -> None:
    state = run(BATCH).states[KEY]
    outputs = CustomerOutputs()
    catch_up(KEY, state, CONFIG.for_site("shop"), T0 + 10 * HOUR, None, outputs)
    changes = [(c["segment"], c["change"], c["at_ms"]) for c in decoded(outputs, SEGMENT_CHANGES.name)]
    assert changes == [("cart_abandoners", "entered", T0 + 1000 + HOUR)]
    later = run([sessionised("e4", T0 + 11 * HOUR, "purchase", "Order Completed", order_id="o1", revenue=20.0)], dict(outputs.states))
    assert ("cart_abandoners", "left") in {(c["segment"], c["change"]) for c in decoded(later, SEGMENT_CHANGES.name)}
    # The purchase came after the funnel's window: still one step, so no new progress.
    assert decoded(later, FUNNEL_PROGRESS.name) == []
    assert later.states[KEY].funnels["checkout"].reached_ms == (T0 + 1000,)


def test_the_changelog_codec_round_trips_a_full_state() -> None:
    outputs = run([*BATCH, sessionised("e4", T0 + 3000, "purchase", "Order Completed", order_id="o1", revenue=20.0,
                                       properties={"products": [{"product_id": "p1", "price": 20.0}]}),
                   sessionised("e5", T0 + 4000, "identify", "identify", traits={"plan": "pro", "tags": ["a"]}, user_id="U-1")])
    state = outputs.states[KEY]
    assert state.funnels["checkout"].level == 2
    assert state.profile.purchase_days == {(T0 + 3000) // (24 * HOUR): 20.0}
    codec = profile_codec.CODEC
    assert codec.loads(codec.dumps(state)) == state
    # A state saved before purchase days were kept loads with none.
    saved = orjson.loads(codec.dumps(state))
    del saved["profile"]["days"]
    assert codec.loads(orjson.dumps(saved)).profile.purchase_days == {}
