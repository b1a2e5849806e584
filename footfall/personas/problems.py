"""A persona's problems: its members' survey comments grouped into themes (the feedback
themes' grouping, footfall.feedback.themes), the themes with most detractors first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from footfall.feedback.model import Comment, ThemeSettings
from footfall.feedback.themes import find_themes
from footfall.personas.model import Problem
from schemas.surveys import DETRACTOR


def problems_of(comments: Sequence[Comment], limit: int) -> tuple[Problem, ...]:
    """The themes the comments raise, most detractors first, then the largest."""
    if not comments:
        return ()
    times = [comment.at for comment in comments]
    period: tuple[datetime, datetime] = (min(times), max(times))
    themes = find_themes(sorted(comments, key=lambda comment: comment.at), period, ThemeSettings())
    found = [Problem(theme.key_words, theme.comments, theme.bands.get(DETRACTOR, 0)) for theme in themes.themes]
    found.sort(key=lambda problem: (-problem.detractors, -problem.comments, problem.key_words))
    return tuple(found[:limit])
