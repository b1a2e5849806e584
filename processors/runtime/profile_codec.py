"""Customer states to and from the JSON that the profiles changelog stores, so that a
worker taking over a partition recovers its customers' analytics (processors.runtime.table_codec)."""

from __future__ import annotations

from typing import Any

from processors.analytics.analyse import CustomerState
from processors.analytics.funnels import FunnelProgress
from processors.analytics.profiles import Acquisition, CustomerProfile, ProductStats, Stamped
from processors.analytics.surveys import Answer
from processors.runtime.table_codec import JsonCodec

CODEC_NAME = "footfall-customer"


def _stamped(stamped: Stamped) -> list[Any]:
    return [stamped.value, stamped.ts_ms, stamped.event_id]


def dump_profile(p: CustomerProfile) -> dict[str, Any]:
    return {
        "site": p.site_id,
        "visitor": p.visitor,
        "seen": [p.first_seen_ms, p.last_seen_ms],
        "counts": [p.events, p.sessions, p.page_views, p.engaged_ms, p.max_scroll_pct],
        "bought": [p.purchases, p.revenue, p.first_purchase_ms, p.last_purchase_ms],
        "cart": [p.cart_adds, p.last_cart_ms],
        "products": {k: [s.added, s.purchased, s.revenue] for k, s in p.products.items()},
        "latest": {k: _stamped(s) for k, s in p.latest.items()},
        "acquisition": None if p.acquisition is None else [
            [p.acquisition.value.source, p.acquisition.value.medium, p.acquisition.value.campaign],
            p.acquisition.ts_ms, p.acquisition.event_id,
        ],
        "surveys": {k: [a.survey, a.score, a.ts_ms, a.event_id, a.comment] for k, a in p.surveys.items()},
        "orders": sorted(p.order_ids),
        "days": sorted(p.purchase_days.items()),
        "recent_sessions": list(p.recent_sessions),
        "recent_ids": list(p.recent_ids),
    }


def load_profile(d: dict[str, Any]) -> CustomerProfile:
    acquisition = d["acquisition"]
    return CustomerProfile(
        d["site"], d["visitor"], *d["seen"], *d["counts"], *d["bought"], *d["cart"],
        products={k: ProductStats(*v) for k, v in d["products"].items()},
        latest={k: Stamped(*v) for k, v in d["latest"].items()},
        acquisition=None if acquisition is None else Stamped(Acquisition(*acquisition[0]), acquisition[1], acquisition[2]),
        surveys={k: Answer(*v) for k, v in d["surveys"].items()},
        order_ids=frozenset(d["orders"]),
        # States saved before purchase days were kept have none: no lifetime value figures
        # for such a customer until their next purchase, or a replay, rebuilds them.
        purchase_days={day: spend for day, spend in d.get("days", ())},
        recent_sessions=tuple(d["recent_sessions"]),
        recent_ids=tuple(d["recent_ids"]),
    )


def dump(state: CustomerState) -> dict[str, Any]:
    return {
        "profile": dump_profile(state.profile),
        "members": sorted(state.members),
        "clock": state.clock_ms,
        "next": state.next_check_ms,
        "funnels": {
            name: [[list(e) for e in p.entries], list(p.reached_ms), p.watermark_ms, p.version]
            for name, p in state.funnels.items()
        },
        "seq": state.seq,
        "customer_id": state.customer_id,
        "seen": state.seen_ms,
    }


def load(d: dict[str, Any]) -> CustomerState:
    return CustomerState(
        profile=load_profile(d["profile"]),
        members=frozenset(d["members"]),
        clock_ms=d["clock"],
        next_check_ms=d["next"],
        funnels={
            name: FunnelProgress(tuple(tuple(e) for e in entries), tuple(reached), watermark, version)
            for name, (entries, reached, watermark, version) in d["funnels"].items()
        },
        seq=d["seq"],
        customer_id=d["customer_id"],
        seen_ms=d.get("seen"),  # absent in states saved before it was kept
    )


CODEC = JsonCodec(CODEC_NAME, dump, load)
