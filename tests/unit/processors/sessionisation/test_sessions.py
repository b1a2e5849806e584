"""Sessionisation logic, without Kafka: crafted cases and a property against a reference."""

from __future__ import annotations

import random
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from processors.sessionisation.sessions import (
    Rules,
    SessionRow,
    VisitorState,
    apply,
    hit_from_event,
    split_into_sessions,
)

MIN = 60_000
RULES = Rules()
T0 = 1_800_000_000_000


def event(n: int, minute: float, type_: str = "page_view", **fields) -> tuple[dict, int]:
    return {"event_id": f"e{n}", "type": type_, "anonymous_id": "a", "path": f"/p{n}", **fields}, T0 + int(minute * MIN)


class Replay:
    """Feeds events through `apply` and keeps what a sink would hold: the latest row per
    session and each event's latest session."""

    def __init__(self, rules: Rules = RULES):
        self.rules = rules
        self.state = VisitorState("demo", "a")
        self.rows: dict[str, SessionRow] = {}
        self.session_of: dict[str, str] = {}

    def feed(self, item: tuple[dict, int]) -> None:
        payload, ts = item
        self.state, out = apply(self.state, payload, ts, self.rules)
        self.session_of[payload["event_id"]] = out.session_id
        for row in (draft.row() for draft in out.drafts):
            if row.session_id not in self.rows or self.rows[row.session_id].version < row.version:
                self.rows[row.session_id] = row
        for moved in out.moved:
            for event_id in moved.event_ids:
                self.session_of[event_id] = moved.session_id

    def live(self) -> list[SessionRow]:
        return sorted((r for r in self.rows.values() if not r.is_deleted), key=lambda r: r.started_at_ms)

    def groups(self) -> list[set[str]]:
        by_session: dict[str, set[str]] = {}
        for event_id, session_id in self.session_of.items():
            by_session.setdefault(session_id, set()).add(event_id)
        return sorted(by_session.values(), key=sorted)


def test_gap_just_under_the_limit_stays_just_over_splits() -> None:
    replay = Replay()
    for item in (event(1, 0), event(2, 29.99), event(3, 29.99 + 30.01)):
        replay.feed(item)
    live = replay.live()
    assert [r.events for r in live] == [2, 1]
    assert replay.session_of["e1"] == replay.session_of["e2"] != replay.session_of["e3"]


def test_campaign_change_starts_a_session_and_figures_are_right() -> None:
    replay = Replay()
    replay.feed(event(1, 0, utm_source="news", utm_medium="email", utm_campaign="fall", referrer="https://mail.example/x"))
    replay.feed(event(2, 1, "click"))
    replay.feed(event(3, 2, "scroll", scroll_pct=75.0))
    replay.feed(event(4, 3, "purchase", revenue=20.5))
    replay.feed(event(5, 4, utm_source="ads", utm_medium="cpc", utm_campaign="spring"))
    first, second = replay.live()
    assert (first.events, first.pageviews, first.clicks, first.purchases, first.revenue) == (4, 1, 1, 1, 20.5)
    assert (first.max_scroll_pct, first.utm_source, first.referrer_host, first.duration_s) == (75.0, "news", "mail.example", 180.0)
    assert (first.entry_path, first.exit_path, first.is_bounce) == ("/p1", "/p1", False)
    assert (second.utm_campaign, second.is_bounce, second.entry_path) == ("spring", True, "/p5")


def test_a_late_event_bridging_two_sessions_merges_them() -> None:
    replay = Replay()
    replay.feed(event(1, 0))
    replay.feed(event(2, 33))
    assert len(replay.live()) == 2
    replay.feed(event(3, 29))  # four minutes late: 29 min after e1, 4 before e2
    (merged,) = replay.live()
    assert merged.events == 3 and merged.started_at_ms == T0 and merged.exit_path == "/p2"
    assert len({replay.session_of[e] for e in ("e1", "e2", "e3")}) == 1


def test_a_late_campaign_event_splits_a_session() -> None:
    replay = Replay()
    for item in (event(1, 0), event(2, 10), event(3, 20)):
        replay.feed(item)
    replay.feed(event(4, 5, utm_source="ads", utm_campaign="x"))
    first, second = replay.live()
    assert (first.events, second.events) == (1, 3)
    assert replay.session_of["e1"] != replay.session_of["e2"] == replay.session_of["e3"] == replay.session_of["e4"]


def test_a_split_never_reuses_a_session_id_still_in_use() -> None:
    """e4 arrives first and opens a session whose id derives from it; a late campaign event
    then splits e4 off again: its new session must not take that id, kept by e2's part."""
    replay = Replay()
    for item in (event(4, 0.4, utm_source="a"), event(2, 0.2, utm_source="a"), event(3, 0.3, utm_source="b")):
        replay.feed(item)
    assert len({replay.session_of[e] for e in ("e2", "e3", "e4")}) == 3
    assert len(replay.live()) == 3


def test_replayed_events_do_not_count_twice() -> None:
    replay = Replay()
    items = [event(n, n) for n in range(1, 6)]
    for item in items + items[2:]:
        replay.feed(item)
    (only,) = replay.live()
    assert only.events == 5


def test_identify_later_fills_the_user_id_of_the_current_session() -> None:
    replay = Replay()
    replay.feed(event(1, 0))
    replay.feed(event(2, 1, "identify", user_id="u1"))
    replay.feed(event(3, 2, user_id="u1"))
    (only,) = replay.live()
    assert (only.user_id, only.anonymous_id, only.events) == ("u1", "a", 3)


def test_old_sessions_leave_the_state() -> None:
    replay = Replay()
    replay.feed(event(1, 0))
    replay.feed(event(2, 120))
    assert len(replay.state.sessions) == 1 and len(replay.live()) == 2
    _, out = apply(replay.state, *event(1, 0), RULES)  # replayed after its session left
    assert out.duplicate and out.session_id == replay.session_of["e1"]


def reference_groups(items: list[tuple[dict, int]]) -> list[set[str]]:
    hits = [hit_from_event(payload, ts) for payload, ts in items]
    return sorted(({h.event_id for h in group} for group in split_into_sessions(hits, RULES)), key=sorted)


campaigns = st.sampled_from([{}, {}, {}, {"utm_source": "a"}, {"utm_source": "b", "utm_campaign": "c"}])
kinds = st.sampled_from(["page_view", "click", "scroll", "purchase", "track"])


@settings(max_examples=300, deadline=None)
@given(
    gaps=st.lists(st.floats(min_value=0, max_value=45), min_size=1, max_size=25),
    kinds_=st.lists(kinds, min_size=25, max_size=25),
    campaigns_=st.lists(campaigns, min_size=25, max_size=25),
    seed=st.integers(0, 2**32),
)
def test_any_order_within_the_allowed_lateness_equals_the_reference(gaps, kinds_, campaigns_, seed) -> None:
    minute = 0.0
    items = []
    for n, gap in enumerate(gaps):
        minute += gap
        items.append(event(n, minute, kinds_[n], **campaigns_[n]))
    # Shuffle, then keep only orders where each event arrives within the lateness allowance
    # of the latest event time seen so far.
    arrival = items[:]
    random.Random(seed).shuffle(arrival)
    arrival.sort(key=lambda item: (item[1] + RULES.lateness_ms * random.Random(seed + item[1]).random()))
    watermark = 0
    for _, ts in arrival:
        if ts < watermark - RULES.lateness_ms:
            return
        watermark = max(watermark, ts)

    replay = Replay()
    for item in arrival:
        replay.feed(item)
    assert replay.groups() == reference_groups(items)
    live = replay.live()
    assert sum(r.events for r in live) == len(items)
    for row in live:
        members = {e for e, s in replay.session_of.items() if s == row.session_id}
        times = [ts for payload, ts in items if payload["event_id"] in members]
        assert (row.started_at_ms, row.ended_at_ms, row.events) == (min(times), max(times), len(members))


def test_state_survives_the_changelog_round_trip() -> None:
    import orjson

    from processors.runtime import visitor_codec

    replay = Replay()
    for item in (event(1, 0, utm_source="s"), event(2, 3, "purchase", revenue=3.5), event(3, 50, referrer="https://r.test/")):
        replay.feed(item)
    restored = visitor_codec.load(orjson.loads(orjson.dumps(visitor_codec.dump(replay.state))))
    assert restored == replay.state


@settings(max_examples=200, deadline=None)
@given(
    gaps=st.lists(st.floats(min_value=0, max_value=45), min_size=1, max_size=30),
    kinds_=st.lists(kinds, min_size=30, max_size=30),
    campaigns_=st.lists(campaigns, min_size=30, max_size=30),
)
def test_the_in_order_shortcut_places_as_re_splitting_would(gaps, kinds_, campaigns_) -> None:
    """apply() places an in-order event without re-cutting the retained hits; at every step
    of an in-order stream that must give exactly what re-cutting them gives."""
    from processors.sessionisation import sessions

    replay, minute = Replay(), 0.0
    for n, gap in enumerate(gaps):
        minute += gap
        payload, ts = event(n, minute, kinds_[n], **campaigns_[n])
        hit = hit_from_event(payload, ts)
        state = replace(replay.state, watermark_ms=max(replay.state.watermark_ms, ts))
        if not state.sessions or hit > state.sessions[-1].hits[-1]:  # the shortcut's precondition
            assert sessions._extends_or_opens(state, hit, RULES) == sessions._resplit(state, hit, RULES)
        replay.feed((payload, ts))
