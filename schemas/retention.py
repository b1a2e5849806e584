"""Which time each table's rows age by, for the retention (a TTL) configured for the table.

Each is the time a row says something about a person or a site: when the event happened
(so a backfill older than its retention goes at the first merge), when the session began,
when a person's row last changed. Tables that are partitioned by month age by their
partition's time, so whole parts expire together and merges drop them cheaply. A TTL needs
a Date or a DateTime, hence toDateTime around the millisecond times.
"""

from __future__ import annotations

from schemas.rollups import ROLLUPS

AGED_BY: dict[str, str] = {
    "events": "toDateTime(ts)",
    "sessions": "toDateTime(started_at)",
    "invalid_events": "toDateTime(received_at)",
    "rejected_rows": "toDateTime(rejected_at)",
    "segment_changes": "toDateTime(at)",
    # Current members: the time of their last entry, or of leaving for a row deleted then.
    "segment_membership": "toDateTime(since)",
    "customers": "toDateTime(updated_at)",
    # The last step the visitor reached in the funnel.
    "funnel_progress": "toDateTime(arrayMax(step_at))",
    "campaign_costs": "day",
    "clv_models": "toDateTime(fitted_at)",
    "personas": "toDateTime(fitted_at)",
    "customer_personas": "toDateTime(fitted_at)",
    **{rollup.table: "hour" for rollup in ROLLUPS},
    "erasure_audit": "toDateTime(requested_at)",
}
