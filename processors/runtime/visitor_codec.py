"""Visitor states to and from the JSON that the visitors changelog stores, so that a
worker taking over a partition recovers its visitors' sessions (processors.runtime.table_codec)."""

from __future__ import annotations

from typing import Any

from processors.sessionisation.sessions import Hit, Session, VisitorState, placed_in, state_bytes
from processors.runtime.table_codec import JsonCodec

CODEC_NAME = "footfall-visitor"


def dump(state: VisitorState) -> dict[str, Any]:
    return {
        "site": state.site_id,
        "visitor": state.visitor,
        "anon": state.anonymous_id,
        "user": state.user_id,
        "seq": state.seq,
        "wm": state.watermark_ms,
        "forgotten": list(state.forgotten.items()),
        "seen": state.seen_ms,
        "sessions": [
            {
                "id": s.session_id,
                "v": s.version,
                "hits": [
                    [h.ts_ms, h.event_id, h.type, h.path, h.scroll_pct, h.revenue,
                     list(h.campaign) if h.campaign else None, h.referrer_host]
                    for h in s.hits
                ],
            }
            for s in state.sessions
        ],
    }


def load(data: dict[str, Any]) -> VisitorState:
    sessions = [
        Session(
            session_id=s["id"],
            version=s["v"],
            hits=[Hit(h[0], h[1], h[2], h[3], h[4], h[5], tuple(h[6]) if h[6] else None, h[7]) for h in s["hits"]],
        )
        for s in data["sessions"]
    ]
    state = VisitorState(
        site_id=data["site"],
        visitor=data["visitor"],
        anonymous_id=data["anon"],
        user_id=data["user"],
        seq=data["seq"],
        watermark_ms=data["wm"],
        sessions=sessions,
        placed=placed_in(sessions),
        forgotten=dict(data["forgotten"]),
        seen_ms=data.get("seen"),  # absent in states saved before it was kept
    )
    state.weight = state_bytes(state)
    return state


CODEC = JsonCodec(CODEC_NAME, dump, load)
