"""Sessionisation as a pure function: (visitor state, event) → (visitor state, outputs).

Events arrive out of order and may be replayed, so a late event is placed where its time
says (which can merge or split sessions) and every id and version is derived, never drawn:
the same events over the same state give the same outputs, which keeps a replay exact.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, NamedTuple
from urllib.parse import urlsplit

Campaign = tuple[str, str, str]

SESSION_NAMESPACE = uuid.UUID("6f0c3c55-2a3e-4b8e-9a59-5f1f6f7d1c2e")


@dataclass(frozen=True)
class Rules:
    """Per-site sessionisation settings: the gap and lateness in milliseconds, whether
    events marked as bot traffic are sessionised (and so analysed) at all, and how many
    events one visitor's state may hold."""

    gap_ms: int = 30 * 60 * 1000
    lateness_ms: int = 5 * 60 * 1000
    count_bots: bool = False
    # A state is one changelog record: past this many retained events it would outgrow
    # what Kafka takes in one record, and the worker would fail on it again at every replay.
    max_visitor_events: int = 5000


@dataclass(frozen=True)
class SiteRules:
    """Every site's rules: the defaults, and those of the sites that set their own."""

    default: Rules = Rules()
    by_site: Mapping[str, Rules] = field(default_factory=dict)

    def for_site(self, site_id: str) -> Rules:
        return self.by_site.get(site_id, self.default)

    @property
    def idle_horizon_ms(self) -> int:
        """How long a visitor may be idle before no session of theirs can change: the
        longest gap of any site plus the allowed lateness."""
        return max([self.default.gap_ms, *(rules.gap_ms for rules in self.by_site.values())]) + self.default.lateness_ms


class Hit(NamedTuple):
    """What sessionisation needs to remember of one event; ordered by time, then event id.

    A named tuple: one is made per event, and it is much cheaper to make than a frozen dataclass."""

    ts_ms: int
    event_id: str
    type: str
    path: str | None = None
    scroll_pct: float | None = None
    revenue: float | None = None
    campaign: Campaign | None = None
    referrer_host: str | None = None


@dataclass
class Session:
    """One session of a visitor: its hits in time order and the version of its latest row."""

    session_id: str
    hits: list[Hit]
    version: int

    @property
    def start_ms(self) -> int:
        return self.hits[0].ts_ms

    @property
    def end_ms(self) -> int:
        return self.hits[-1].ts_ms


@dataclass
class VisitorState:
    """One visitor's sessionisation state: recent sessions, ids of placed events, version counter."""

    site_id: str
    visitor: str
    anonymous_id: str | None = None
    user_id: str | None = None
    sessions: list[Session] = field(default_factory=list)
    # Versions of every session row this visitor ever emitted come from one counter, so a
    # row written later always has a higher version, whatever happened in between.
    seq: int = 0
    watermark_ms: int = 0
    # event_id -> session_id of every hit in `sessions`: a retried or replayed event is
    # known by its id alone (an SDK's retry may carry a slightly different time).
    placed: dict[str, str] = field(default_factory=dict)
    # The same for events of sessions already forgotten, newest last and bounded: a replay
    # after a crash re-delivers recent events, which must not count twice even once their
    # session has left the state.
    forgotten: dict[str, str] = field(default_factory=dict)
    # When the visitor was last active, in ms on the arrival clock of their events' Kafka
    # timestamps: set by the worker as it saves the state, so that whichever worker
    # recovers it knows when it goes idle. None until saved (and in states saved before).
    seen_ms: int | None = None
    # About what the state weighs encoded (state_bytes): kept as hits come and sessions
    # go, so bounding a state costs nothing per event; weighed whole once when recovered.
    weight: int = 0


FORGOTTEN_LIMIT = 512


@dataclass(frozen=True)
class SessionRow:
    """A session's current figures, as the `sessions` table stores them."""

    site_id: str
    session_id: str
    anonymous_id: str
    user_id: str
    started_at_ms: int
    ended_at_ms: int
    duration_s: float
    events: int
    pageviews: int
    clicks: int
    max_scroll_pct: float
    purchases: int
    revenue: float
    entry_path: str
    exit_path: str
    is_bounce: bool
    utm_source: str
    utm_medium: str
    utm_campaign: str
    referrer_host: str
    version: int
    is_deleted: bool = False


@dataclass(frozen=True)
class Moved:
    """Events already written under another session that now belong to `session_id`."""

    event_ids: tuple[str, ...]
    session_id: str


@dataclass(frozen=True)
class RowDraft:
    """What a session's row is computed from, as of one event: computed only when asked
    for, since a batch publishes only each session's latest row."""

    state: VisitorState
    session: Session
    version: int
    is_deleted: bool = False

    def row(self) -> SessionRow:
        row = figures(self.state, self.session, self.version)
        return replace(row, is_deleted=True) if self.is_deleted else row


@dataclass(frozen=True)
class SessionOutputs:
    """What placing one event changed: its session, whether it was a replay, rows and moves."""

    session_id: str  # the session the incoming event belongs to
    duplicate: bool
    drafts: tuple[RowDraft, ...] = ()  # of every session the event changed
    moved: tuple[Moved, ...] = ()


def campaign_of(event: dict[str, Any]) -> Campaign | None:
    parts = (event.get("utm_source") or "", event.get("utm_medium") or "", event.get("utm_campaign") or "")
    return parts if any(parts) else None


@lru_cache(maxsize=4096)
def referrer_host(referrer: str | None) -> str | None:
    """Remembered per referrer: most traffic comes from a few of them."""
    if not referrer:
        return None
    return urlsplit(referrer).hostname


# What one visitor's state may weigh, encoded: half of the megabyte Kafka takes in one
# record by default, the rest left for encoding overhead this estimate does not see.
MAX_STATE_BYTES = 512 * 1024
# The brackets, commas, numbers and nulls of one encoded hit, beside its strings.
HIT_OVERHEAD_BYTES = 64
HIT_STRING_FIELDS = ("event_id", "type", "path", "referrer", "utm_source", "utm_medium", "utm_campaign")


def event_hit_bytes(event: dict[str, Any]) -> int:
    """At least what the hit of this event adds to its visitor's encoded state (the
    referrer's whole URL stands for its host)."""
    return HIT_OVERHEAD_BYTES + sum(len(value.encode()) for name in HIT_STRING_FIELDS if isinstance(value := event.get(name), str))


def hit_bytes(hit: Hit) -> int:
    return HIT_OVERHEAD_BYTES + sum(
        len(text.encode()) for text in (hit.event_id, hit.type, hit.path, hit.referrer_host, *(hit.campaign or ())) if text
    )


def forgotten_bytes(forgotten: dict[str, str]) -> int:
    return sum(len(event_id) + len(session_id) + 8 for event_id, session_id in forgotten.items())


def state_bytes(state: VisitorState) -> int:
    """About what the state weighs encoded, its hits and the ids of forgotten events,
    weighed whole: what its running weight is kept equal to."""
    return sum(hit_bytes(hit) for session in state.sessions for hit in session.hits) + forgotten_bytes(state.forgotten)


def hit_from_event(event: dict[str, Any], ts_ms: int) -> Hit:
    return Hit(
        ts_ms=ts_ms,
        event_id=event["event_id"],
        type=event["type"],
        path=event.get("path"),
        scroll_pct=event.get("scroll_pct"),
        revenue=event.get("revenue") if event["type"] == "purchase" else None,
        campaign=campaign_of(event),
        referrer_host=referrer_host(event.get("referrer")),
    )


def split_into_sessions(hits: list[Hit], rules: Rules) -> list[list[Hit]]:
    """Hits in time order, cut where the gap reaches the limit or a new campaign appears."""
    groups: list[list[Hit]] = []
    current_campaign: Campaign | None = None
    for hit in sorted(hits):
        starts_new = (
            not groups
            or hit.ts_ms - groups[-1][-1].ts_ms >= rules.gap_ms
            or (hit.campaign is not None and hit.campaign != current_campaign)
        )
        if starts_new:
            groups.append([hit])
            current_campaign = hit.campaign
        else:
            groups[-1].append(hit)
    return groups


def new_session_id(site_id: str, visitor: str, first_event_id: str, unavailable: set[str] = frozenset()) -> str:
    """An id derived from the session's first event, so a replay derives the same one; if
    that id is in use (the event first opened a session that lives on under it), the
    next derivation is taken."""
    attempt = 0
    while True:
        seed = first_event_id if attempt == 0 else f"{first_event_id}\x1f{attempt}"
        candidate = str(uuid.uuid5(SESSION_NAMESPACE, f"{site_id}\x1f{visitor}\x1f{seed}"))
        if candidate not in unavailable:
            return candidate
        attempt += 1


def figures(state: VisitorState, session: Session, version: int) -> SessionRow:
    hits = session.hits
    pages = [h for h in hits if h.type == "page_view"]
    clicks = sum(1 for h in hits if h.type == "click")
    scrolls = [h.scroll_pct for h in hits if h.scroll_pct is not None]
    purchases = [h for h in hits if h.type == "purchase"]
    campaign = hits[0].campaign or ("", "", "")
    with_path = [h for h in hits if h.path]
    entry = (pages or with_path or [None])[0]
    exit_ = (pages or with_path or [None])[-1]
    return SessionRow(
        site_id=state.site_id,
        session_id=session.session_id,
        anonymous_id=state.anonymous_id or "",
        user_id=state.user_id or "",
        started_at_ms=session.start_ms,
        ended_at_ms=session.end_ms,
        duration_s=(session.end_ms - session.start_ms) / 1000,
        events=len(hits),
        pageviews=len(pages),
        clicks=clicks,
        max_scroll_pct=max(scrolls, default=0.0),
        purchases=len(purchases),
        revenue=round(sum(h.revenue or 0.0 for h in purchases), 6),
        entry_path=entry.path or "" if entry else "",
        exit_path=exit_.path or "" if exit_ else "",
        is_bounce=len(hits) == len(pages) == 1,
        utm_source=campaign[0],
        utm_medium=campaign[1],
        utm_campaign=campaign[2],
        referrer_host=hits[0].referrer_host or "",
        version=version,
    )


def _reassign(state: VisitorState, groups: list[list[Hit]]) -> tuple[list[Session], set[str]]:
    """Give each new group a session id: the id of the old session holding its earliest
    already-placed hit, unless an earlier group took it; otherwise a fresh id derived from
    its first event. Returns the sessions and the ids dropped."""
    old_versions = {s.session_id: s.version for s in state.sessions}
    taken: set[str] = set()
    sessions: list[Session] = []
    for group in groups:
        inherited = next((state.placed[h.event_id] for h in group if h.event_id in state.placed), None)
        if inherited is None or inherited in taken:
            session_id = new_session_id(state.site_id, state.visitor, group[0].event_id, taken | set(old_versions))
        else:
            session_id = inherited
        taken.add(session_id)
        sessions.append(Session(session_id, group, old_versions.get(session_id, 0)))
    return sessions, set(old_versions) - taken


def placed_in(sessions: list[Session]) -> dict[str, str]:
    return {h.event_id: s.session_id for s in sessions for h in s.hits}


@dataclass(frozen=True)
class Placement:
    """What placing one new hit changed: the visitor's sessions afterwards, the rows and
    moves to publish, and the last version used."""

    sessions: list[Session]
    placed: dict[str, str]
    drafts: list[RowDraft]
    moved: list[Moved]
    seq: int


def _extends_or_opens(state: VisitorState, hit: Hit, rules: Rules) -> Placement:
    """The common case, a hit later than every retained one: it joins the latest session or
    opens a new one, and nothing else changes. Gives what re-splitting would, in O(1)."""
    seq = state.seq + 1
    latest = state.sessions[-1] if state.sessions else None
    opens = (
        latest is None
        or hit.ts_ms - latest.end_ms >= rules.gap_ms
        or (hit.campaign is not None and hit.campaign != latest.hits[0].campaign)
    )
    if opens:
        taken = {s.session_id for s in state.sessions}
        session = Session(new_session_id(state.site_id, state.visitor, hit.event_id, taken), [hit], seq)
        sessions = [*state.sessions, session]
    else:
        session = Session(latest.session_id, [*latest.hits, hit], seq)
        sessions = [*state.sessions[:-1], session]
    placed = {**state.placed, hit.event_id: session.session_id}
    return Placement(sessions, placed, [RowDraft(state, session, seq)], [], seq)


def _resplit(state: VisitorState, hit: Hit, rules: Rules) -> Placement:
    """A late hit: cut all retained hits into sessions again and publish every session that
    changed, every event that moved and every session that ceased to exist."""
    groups = split_into_sessions([*(h for s in state.sessions for h in s.hits), hit], rules)
    sessions, dropped = _reassign(state, groups)
    previous = {s.session_id: s for s in state.sessions}
    seq = state.seq
    drafts: list[RowDraft] = []
    moved: list[Moved] = []
    for session in sessions:
        before = previous.get(session.session_id)
        if before is None or before.hits != session.hits:
            seq += 1
            session.version = seq
            drafts.append(RowDraft(state, session, seq))
        moved_ids = tuple(
            h.event_id for h in session.hits if state.placed.get(h.event_id, session.session_id) != session.session_id
        )
        if moved_ids:
            moved.append(Moved(moved_ids, session.session_id))
    for session_id in sorted(dropped):
        seq += 1
        drafts.append(RowDraft(state, previous[session_id], seq, is_deleted=True))
    return Placement(sessions, placed_in(sessions), drafts, moved, seq)


def _retain(state: VisitorState, placement: Placement, rules: Rules, weight: int) -> VisitorState:
    """The state after a placement, which weighs `weight`: sessions too old to change any
    more are forgotten, their events remembered by id only, within a bound."""
    horizon = state.watermark_ms - rules.gap_ms - rules.lateness_ms
    kept = [s for s in placement.sessions if s.end_ms > horizon]
    placed, forgotten = placement.placed, state.forgotten
    if len(kept) < len(placement.sessions):
        left = [s for s in placement.sessions if s.end_ms <= horizon]
        placed = placed_in(kept)
        forgotten = dict(list({**forgotten, **placed_in(left)}.items())[-FORGOTTEN_LIMIT:])
        weight += forgotten_bytes(forgotten) - forgotten_bytes(state.forgotten) - sum(hit_bytes(h) for s in left for h in s.hits)
    return VisitorState(
        state.site_id, state.visitor, state.anonymous_id, state.user_id, kept, placement.seq, state.watermark_ms,
        placed, forgotten, weight=weight,
    )


def apply(state: VisitorState, event: dict[str, Any], ts_ms: int, rules: Rules) -> tuple[VisitorState, SessionOutputs]:
    """Place one event; return the new state and what changed."""
    event_id = event["event_id"]
    seen = state.placed.get(event_id) or state.forgotten.get(event_id)
    if seen is not None:
        return state, SessionOutputs(seen, duplicate=True)

    # Built field by field: dataclasses.replace is slow on this hot path.
    state = VisitorState(
        state.site_id, state.visitor, state.anonymous_id or event.get("anonymous_id"),
        event.get("user_id") or state.user_id, state.sessions, state.seq, max(state.watermark_ms, ts_ms),
        state.placed, state.forgotten, weight=state.weight,
    )
    hit = hit_from_event(event, ts_ms)
    in_order = not state.sessions or hit > state.sessions[-1].hits[-1]
    placement = (_extends_or_opens if in_order else _resplit)(state, hit, rules)
    home = placement.placed[event_id]
    return _retain(state, placement, rules, state.weight + hit_bytes(hit)), SessionOutputs(home, False, tuple(placement.drafts), tuple(placement.moved))
