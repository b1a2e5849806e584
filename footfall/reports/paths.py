"""User paths: the page sequences sessions follow after a start page or before a goal, and
where a funnel's visitors went instead of its next step.

All the work is ClickHouse's: each session's page views become an array ordered by time
(reloads of the same page collapsed), the array is cut at the anchor page, and only the
aggregated, bounded rows come back. Reads go through a `query` callable (a warehouse's, or
a backend's in tests); every value from a user or the data is a quoted literal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from infra.clickhouse.warehouse import Query, Rows
from processors.analytics.funnels import MAX_STEPS as FUNNEL_STEPS
from schemas.tables import DATABASE
from sinks.rows import clickhouse_text, quote

MIN_STEPS, MAX_STEPS = 1, 10
MAX_PAGE_CHARS = 4096  # an anchor page longer than any path worth asking for is refused
SHOWN_CHARS = 256  # the characters of a path that come back; the full path is what is compared
TOP_SEQUENCES = 10
TOP_PAGES = 6  # pages kept per step for the picture; the rest are "other"
TOP_INSTEAD = 10
MAX_FUNNEL_ROWS = FUNNEL_STEPS * TOP_INSTEAD
SESSION_PAGES = 1000  # a session's first page views considered: bounds a crawler's endless session


class Direction(str, Enum):
    """After a start page (`from`), or before a goal (`to`); `entry` starts at each session's first page."""

    from_ = "from"
    to = "to"
    entry = "entry"


@dataclass(frozen=True)
class PathAsk:
    """What `footfall paths` was asked: checked here, so no bad value reaches a query."""

    direction: Direction
    page: str | None
    steps: int = 3

    def __post_init__(self) -> None:
        if not MIN_STEPS <= self.steps <= MAX_STEPS:
            raise ValueError(f"--steps takes {MIN_STEPS} to {MAX_STEPS}, got {self.steps}")
        if (self.page is None) != (self.direction is Direction.entry):
            raise ValueError("a page to start from or go to is needed, and only then")
        if self.page is not None and not 1 <= len(self.page) <= MAX_PAGE_CHARS:
            raise ValueError(f"the page must be 1 to {MAX_PAGE_CHARS} characters, got {len(self.page)}")


def ask(start: str | None, goal: str | None, steps: int) -> PathAsk:
    """The request from the command's --from and --to, of which exactly one is given."""
    if (start is None) == (goal is None):
        raise ValueError("give exactly one of --from PATH and --to PATH")
    return PathAsk(Direction.from_ if start is not None else Direction.to, start if start is not None else goal, steps)


def page_views_where(site: str, since: datetime | None, count_bots: bool) -> str:
    """The page views of one site that count, from `since` on."""
    conditions = [f"site_id = {quote(site)}", "type = 'page_view'"]
    if not count_bots:
        conditions.append("bot = 0")
    if since is not None:
        conditions.append(f"ts >= toDateTime64({quote(clickhouse_text(since))}, 3, 'UTC')")
    return " AND ".join(conditions)


def session_pages(where: str) -> str:
    """Each session's pages in time order, consecutive repeats (reloads) collapsed."""
    return f"""
    SELECT arrayMap(view -> view.3, groupArraySorted({SESSION_PAGES})((ts, event_id, path))) AS views,
           arrayFilter((page, i) -> i = 1 OR page != views[i - 1], views, arrayEnumerate(views)) AS pages
    FROM {DATABASE}.events FINAL
    WHERE {where}
    GROUP BY site_id, session_id"""


def cut(path: PathAsk) -> str:
    """The part of a session's pages that counts, read away from the anchor: position 1 is
    the anchor, 2 the page after it (`from`) or before it (`to`), and so on. A shorter
    array is a session that ended (or, before a goal, began) within the steps."""
    span = path.steps + 1
    if path.direction is Direction.entry:
        return f"arraySlice(pages, 1, {span})"
    at = f"indexOf(pages, {quote(path.page or '')})"
    if path.direction is Direction.from_:
        return f"if({at} = 0, [], arraySlice(pages, {at}, {span}))"
    return f"if({at} = 0, [], arrayReverse(arraySlice(pages, greatest(1, {at} - {path.steps}), least({at}, {span}))))"


def walks(path: PathAsk, where: str) -> str:
    """One row per session that reached the anchor: its cut pages as `walk`."""
    return f"""
    SELECT {cut(path)} AS walk
    FROM ({session_pages(where)})
    WHERE notEmpty(walk)"""


def shown_pages(array: str) -> str:
    return f"arrayMap(page -> substringUTF8(page, 1, {SHOWN_CHARS}), {array})"


def sequences_sql(path: PathAsk, where: str) -> str:
    """The most common walks, with how many sessions took each and the sessions in all."""
    return f"""
SELECT {shown_pages('walk')} AS pages, count() AS sessions, sum(sessions) OVER () AS sessions_in_all
FROM ({walks(path, where)})
GROUP BY walk
ORDER BY sessions DESC, walk
LIMIT {TOP_SEQUENCES}"""


def links_sql(path: PathAsk, where: str, top_pages: int = TOP_PAGES) -> str:
    """Sessions per step (up to the last but one), page and the page one step further away
    (NULL `next` and `ended` = 1: the session ended, or began, there). Pages outside a step's most common
    `top_pages` come back as NULL (`other`), so the rows stay few."""
    return f"""
WITH walked AS ({walks(path, where)}),
kept AS
(
    SELECT step, page
    FROM (SELECT step, walk[step] AS page, count() AS sessions FROM walked ARRAY JOIN arrayEnumerate(walk) AS step GROUP BY step, page)
    ORDER BY sessions DESC, page
    LIMIT {int(top_pages)} BY step
),
labelled AS
(
    SELECT step, walk[step] AS page, (step, page) IN (SELECT step, page FROM kept) AS page_kept,
           step < length(walk) AS goes_on, walk[step + 1] AS next,
           (step + 1, next) IN (SELECT step, page FROM kept) AS next_kept
    FROM walked ARRAY JOIN arrayEnumerate(walk) AS step
    WHERE step <= {path.steps}
)
SELECT step, if(page_kept, substringUTF8(page, 1, {SHOWN_CHARS}), NULL) AS page,
       if(goes_on AND next_kept, substringUTF8(next, 1, {SHOWN_CHARS}), NULL) AS next,
       toUInt8(NOT goes_on) AS ended, count() AS sessions
FROM labelled
GROUP BY step, page, next, ended
ORDER BY step, sessions DESC, page, next
LIMIT {(MAX_STEPS + 1) * (top_pages + 1) * (top_pages + 2)}"""


@dataclass(frozen=True)
class Walk:
    """A sequence read away from the anchor, and how many sessions took it."""

    pages: tuple[str, ...]
    sessions: int


@dataclass(frozen=True)
class Link:
    """Sessions at `step` on `page` (None: other pages) that went on to `next` (None: other
    pages, or nowhere when `ended`)."""

    step: int
    page: str | None
    next: str | None
    ended: bool
    sessions: int


@dataclass(frozen=True)
class Paths:
    """What `footfall paths` shows: the ask, the top walks, the sessions in all and the links."""

    ask: PathAsk
    sessions: int
    walks: tuple[Walk, ...]
    links: tuple[Link, ...]

    def reached(self) -> list[int]:
        """Sessions at each step from the anchor (index 0 is the anchor itself)."""
        counts = [0] * (self.ask.steps + 1)
        for link in self.links:
            counts[link.step - 1] += link.sessions
            if link.step == self.ask.steps and not link.ended:
                counts[link.step] += link.sessions
        return counts

    def ended(self) -> list[int]:
        """Sessions that ended (or, before a goal, began) at each step but the last, where
        a session that went on is not followed further."""
        counts = [0] * self.ask.steps
        for link in self.links:
            if link.ended:
                counts[link.step - 1] += link.sessions
        return counts


def read_links(query: Query, path: PathAsk, where: str) -> tuple[Link, ...]:
    """`where`: the page views that count (page_views_where, or the report's scope)."""
    return tuple(Link(int(r["step"]), r["page"], r["next"], bool(r["ended"]), int(r["sessions"])) for r in query(links_sql(path, where)))


def read_paths(query: Query, path: PathAsk, where: str) -> Paths:
    sequences = query(sequences_sql(path, where))
    return Paths(
        ask=path,
        sessions=int(sequences[0]["sessions_in_all"]) if sequences else 0,
        walks=tuple(Walk(tuple(row["pages"]), int(row["sessions"])) for row in sequences),
        links=read_links(query, path, where),
    )


def instead_sql(site: str, funnel: str, last_step: int, step: int | None, since: datetime | None, count_bots: bool) -> str:
    """For visitors whose progress in `funnel` stopped at a step before `last_step`, the
    page they viewed next, in the session of the event that reached it, that is not the
    page that event happened on; NULL `next`: the session ended first."""
    levels = f"level = {int(step)}" if step is not None else f"level BETWEEN 1 AND {int(last_step) - 1}"
    since_cond = f" AND step_at[level] >= toDateTime64({quote(clickhouse_text(since))}, 3, 'UTC')" if since else ""
    bots = "" if count_bots else " AND bot = 0"
    return f"""
WITH stopped AS
(
    SELECT anonymous_id, level, step_at[level] AS at
    FROM {DATABASE}.funnel_progress FINAL
    WHERE site_id = {quote(site)} AND funnel = {quote(funnel)} AND {levels}{since_cond}
),
seen AS
(
    SELECT anonymous_id, arraySort(groupArray((ts, event_id, session_id, path, type = 'page_view'))) AS events
    FROM {DATABASE}.events FINAL
    WHERE site_id = {quote(site)}{bots} AND anonymous_id IN (SELECT anonymous_id FROM stopped)
    GROUP BY anonymous_id
),
went AS
(
    SELECT level, events, arrayLastIndex(e -> e.1 <= at, events) AS here,
           arrayFirstIndex((e, i) -> i > here AND e.5 AND e.3 = events[here].3 AND e.4 != events[here].4,
                           events, arrayEnumerate(events)) AS there
    FROM stopped INNER JOIN seen USING (anonymous_id)
    WHERE here > 0
)
SELECT level AS step, if(there = 0, NULL, substringUTF8(events[there].4, 1, {SHOWN_CHARS})) AS next, count() AS visitors,
       sum(visitors) OVER (PARTITION BY step) AS stopped
FROM went
GROUP BY step, next
ORDER BY step, visitors DESC, next
LIMIT {TOP_INSTEAD} BY step
LIMIT {MAX_FUNNEL_ROWS}"""


def read_instead(query: Query, site: str, funnel: str, last_step: int, step: int | None,
                 since: datetime | None = None, count_bots: bool = False) -> Rows:
    return query(instead_sql(site, funnel, last_step, step, since, count_bots))
