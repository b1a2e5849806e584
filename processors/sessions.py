"""Sessionisation as a pure function: (visitor state, event) → (visitor state, outputs).

A session is one visitor's events, ordered by event time, with gaps under the site's
inactivity limit (30 minutes by default); an event carrying a campaign other than the
session's starts a new one. Events may arrive out of order: the visitor's recent
sessions are kept with a compact record of each event ("hits"), so a late event is
placed where its time says and the affected sessions are recomputed. That can merge two
sessions (a late event bridges their gap) or split one (a late campaign change), so the
outputs say which events moved to which session and which sessions ceased to exist.

Everything here is deterministic: replaying the same events over the same state gives the
same ids, versions and figures, which is what makes a crash and replay exact.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

Campaign = tuple[str, str, str]

SESSION_NAMESPACE = uuid.UUID("6f0c3c55-2a3e-4b8e-9a59-5f1f6f7d1c2e")


@dataclass(frozen=True)
class Rules:
    """Per-site sessionisation settings, in milliseconds."""

    gap_ms: int = 30 * 60 * 1000
    lateness_ms: int = 5 * 60 * 1000


@dataclass(frozen=True, order=True)
class Hit:
    """What sessionisation needs to remember of one event."""

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
    site_id: str
    visitor: str
    anonymous_id: str | None = None
    user_id: str | None = None
    sessions: list[Session] = field(default_factory=list)
    # Versions of every session row this visitor ever emitted come from one counter, so a
    # row written later always has a higher version, whatever happened in between.
    seq: int = 0
    watermark_ms: int = 0
    # (event_id, session_id) of the latest events placed, newest last: a replay after a
    # crash re-delivers recent events, which must not count twice even once their session
    # has been closed and forgotten.
    recent: list[tuple[str, str]] = field(default_factory=list)


RECENT_LIMIT = 512


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
class Outputs:
    session_id: str  # the session the incoming event belongs to
    duplicate: bool
    sessions: tuple[SessionRow, ...] = ()
    moved: tuple[Moved, ...] = ()


def campaign_of(event: dict[str, Any]) -> Campaign | None:
    parts = (event.get("utm_source") or "", event.get("utm_medium") or "", event.get("utm_campaign") or "")
    return parts if any(parts) else None


def referrer_host(referrer: str | None) -> str | None:
    if not referrer:
        return None
    return urlsplit(referrer).hostname


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


def _reassign(state: VisitorState, groups: list[list[Hit]]) -> tuple[list[Session], dict[str, str], set[str]]:
    """Give each new group a session id: the id of the old session holding its earliest
    already-placed hit, unless an earlier group took it; otherwise a fresh id derived from
    its first event. Returns the sessions, each hit's old session, and the ids dropped."""
    old_of: dict[str, str] = {h.event_id: s.session_id for s in state.sessions for h in s.hits}
    old_versions = {s.session_id: s.version for s in state.sessions}
    taken: set[str] = set()
    sessions: list[Session] = []
    for group in groups:
        inherited = next((old_of[h.event_id] for h in group if h.event_id in old_of), None)
        if inherited is None or inherited in taken:
            session_id = new_session_id(state.site_id, state.visitor, group[0].event_id, taken | set(old_versions))
        else:
            session_id = inherited
        taken.add(session_id)
        sessions.append(Session(session_id, group, old_versions.get(session_id, 0)))
    dropped = set(old_versions) - taken
    return sessions, old_of, dropped


def current_session_of(state: VisitorState, event_id: str) -> str | None:
    """The session an already-placed event is in now, or None for an event not seen."""
    for session in state.sessions:
        if any(h.event_id == event_id for h in session.hits):
            return session.session_id
    return next((session_id for seen, session_id in reversed(state.recent) if seen == event_id), None)


def apply(state: VisitorState, event: dict[str, Any], ts_ms: int, rules: Rules) -> tuple[VisitorState, Outputs]:
    """Place one event; return the new state and what changed."""
    placed = current_session_of(state, event["event_id"])
    if placed is not None:
        return state, Outputs(placed, duplicate=True)

    state = replace(
        state,
        anonymous_id=state.anonymous_id or event.get("anonymous_id"),
        user_id=event.get("user_id") or state.user_id,
        watermark_ms=max(state.watermark_ms, ts_ms),
    )
    hit = hit_from_event(event, ts_ms)
    retained = [h for s in state.sessions for h in s.hits]
    groups = split_into_sessions([*retained, hit], rules)
    sessions, old_of, dropped = _reassign(state, groups)

    previous = {s.session_id: s for s in state.sessions}
    seq = state.seq
    rows: list[SessionRow] = []
    moved: list[Moved] = []
    for session in sessions:
        before = previous.get(session.session_id)
        if before is None or before.hits != session.hits:
            seq += 1
            session.version = seq
            rows.append(figures(state, session, seq))
        moved_ids = tuple(h.event_id for h in session.hits if h.event_id in old_of and old_of[h.event_id] != session.session_id)
        if moved_ids:
            moved.append(Moved(moved_ids, session.session_id))
    for session_id in sorted(dropped):
        seq += 1
        gone = previous[session_id]
        rows.append(replace(figures(state, gone, seq), is_deleted=True))

    home = next(s.session_id for s in sessions if hit in s.hits)
    retained_sessions = [s for s in sessions if state.watermark_ms - s.end_ms < rules.gap_ms + rules.lateness_ms]
    recent = [*state.recent, (hit.event_id, home)][-RECENT_LIMIT:]
    new_state = replace(state, sessions=retained_sessions, seq=seq, recent=recent)
    return new_state, Outputs(home, duplicate=False, sessions=tuple(rows), moved=tuple(moved))
