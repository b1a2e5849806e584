"""The rows of `footfall paths` and the report's Paths section: the steps with their
drop-offs, the most common sequences, and where a funnel's visitors went instead. Plain
strings only (footfall/reports/sections.py makes the tables, whose cells are shown
literally, whatever a path holds); long paths are cut for the eye, not for the counts."""

from __future__ import annotations

from footfall.reports.paths import Direction, Link, PathAsk, Paths, Walk
from infra.clickhouse.warehouse import Rows

SHOWN_PAGE = 48  # characters of a path in a table cell
ARROW = " → "


def clip(page: str, width: int = SHOWN_PAGE) -> str:
    """A path cut to `width` characters, an ellipsis saying it was."""
    return page if len(page) <= width else page[: width - 1] + "…"


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "–"


def stopped_word(ask: PathAsk) -> str:
    return "began" if ask.direction is Direction.to else "ended"


def step_columns(ask: PathAsk) -> tuple[str, ...]:
    word = stopped_word(ask)
    return ("step", "sessions", "of all", f"{word} here", f"{word} of step")


SEQUENCE_COLUMNS = ("pages", "sessions", "share")
ENTRY_COLUMNS = ("entry page", "sessions", "ended there", "then most often", "sessions then")
INSTEAD_COLUMNS = ("stopped at step", "went to instead", "visitors", "of stopped")


def walk_text(walk: Walk, ask: PathAsk) -> str:
    """A walk in time order, saying where the session ended (or began) within the steps."""
    pages = [clip(page) for page in walk.pages]
    short = len(walk.pages) < ask.steps + 1
    if ask.direction is Direction.to:
        return ("(began) " if short else "") + ARROW.join(reversed(pages))
    return ARROW.join(pages) + (" (ended)" if short else "")


def step_label(ask: PathAsk, depth: int) -> str:
    if depth == 0:
        return {Direction.from_: "start", Direction.to: "goal", Direction.entry: "entry"}[ask.direction]
    return f"{'-' if ask.direction is Direction.to else '+'}{depth}"


def step_rows(paths: Paths) -> list[list[str]]:
    """Per step from the anchor: sessions there, and how many of them stopped there (the
    last step's are not followed further)."""
    reached, stopped = paths.reached(), paths.ended()
    rows = []
    for depth, sessions in enumerate(reached):
        known = depth < len(stopped)
        rows.append([
            step_label(paths.ask, depth), f"{sessions:,}", percent(sessions, reached[0]),
            f"{stopped[depth]:,}" if known else "–", percent(stopped[depth], sessions) if known else "–",
        ])
    return rows


def sequence_rows(paths: Paths) -> list[list[str]]:
    return [[walk_text(walk, paths.ask), f"{walk.sessions:,}", percent(walk.sessions, paths.sessions)] for walk in paths.walks]


def instead_rows(rows: Rows) -> list[list[str]]:
    """Per step the visitors stopped at: where they went next, most common first."""
    return [
        [str(row["step"]), "(session ended)" if row["next"] is None else clip(row["next"]), f"{row['visitors']:,}",
         percent(row["visitors"], row["stopped"])]
        for row in rows
    ]


def entry_rows(links: tuple[Link, ...], limit: int) -> list[list[str]]:
    """The `limit` commonest entry pages (links from each session's first page): their
    sessions, how many ended there, and the commonest page viewed next."""
    entries: dict[str, list[Link]] = {}
    for link in links:
        if link.step == 1 and link.page is not None:
            entries.setdefault(link.page, []).append(link)
    rows = []
    for page, out in sorted(entries.items(), key=lambda item: (-sum(link.sessions for link in item[1]), item[0]))[:limit]:
        sessions = sum(link.sessions for link in out)
        ended = sum(link.sessions for link in out if link.ended)
        onward = sorted((link for link in out if link.next is not None), key=lambda link: (-link.sessions, link.next or ""))
        then = [clip(onward[0].next or ""), f"{onward[0].sessions:,}"] if onward else ["–", "–"]
        rows.append([clip(page), f"{sessions:,}", f"{ended:,} ({percent(ended, sessions)})", *then])
    return rows
