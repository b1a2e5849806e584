"""The survey comments `footfall feedback` and the report group: read in ClickHouse, which
hands over the comments alone (with their survey, score and time), never the events."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from footfall.feedback.model import Comment
from footfall.reports.queries import Scope, in_scale
from infra.clickhouse.warehouse import Query
from schemas.surveys import SURVEY_EVENT
from schemas.tables import DATABASE
from sinks.rows import quote

# The most recent comments a site's themes are found in: grouping costs memory and time
# in proportion to them, and the latest are the ones a review acts on.
MAX_COMMENTS = 20_000


def comments_sql(scope: Scope, survey: str | None, limit: int = MAX_COMMENTS) -> str:
    """Each site's latest `limit` answers with a comment, on their survey's scale, with
    the visitor who gave it (personas find their members' comments by it)."""
    chosen = f" AND survey = {quote(survey)}" if survey else ""
    return f"""
SELECT site_id, JSONExtractString(properties, 'survey') AS survey, JSONExtractInt(properties, 'score') AS score,
       comment, toUnixTimestamp64Milli(ts) AS at_ms, if(anonymous_id != '', anonymous_id, user_id) AS visitor
FROM {DATABASE}.events FINAL
WHERE type = 'track' AND name = {quote(SURVEY_EVENT)} AND comment != '' AND {scope.events_filter} AND {scope.from_('ts')}
  AND ({in_scale()}){chosen}
ORDER BY site_id, ts DESC, event_id
LIMIT {int(limit)} BY site_id"""


def read_comments(query: Query, scope: Scope, survey: str | None) -> Mapping[str, list[Comment]]:
    """Site → its comments, oldest first."""
    by_site: dict[str, list[Comment]] = {}
    for row in query(comments_sql(scope, survey)):
        at = datetime.fromtimestamp(int(row["at_ms"]) / 1000, UTC)
        by_site.setdefault(row["site_id"], []).append(Comment(row["comment"], row["survey"], int(row["score"]), at))
    return {site: sorted(comments, key=lambda comment: comment.at) for site, comments in sorted(by_site.items())}
