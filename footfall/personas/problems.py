"""Personas' problems: the site's survey comments grouped into themes once (the feedback
themes' grouping, footfall.feedback.themes), and each persona's problems the themes its
members' comments fall in, those with most detractors first."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from footfall.feedback.model import Comment, Theme, ThemeSettings
from footfall.feedback.themes import find_themes
from footfall.personas.model import CustomerFacts, Problem
from schemas.surveys import DETRACTOR, band


class SiteThemes:
    """The themes of all the customers' comments, and which theme each comment is in (by the
    comment object itself: the customers' own, which the personas hand back)."""

    def __init__(self, customers: Sequence[CustomerFacts], settings: ThemeSettings = ThemeSettings()):
        comments = sorted((comment for facts in customers for comment in facts.comments), key=lambda comment: comment.at)
        self.themes: tuple[Theme, ...] = ()
        self.theme_of: dict[int, int] = {}
        if comments:
            found = find_themes(comments, (comments[0].at, comments[-1].at), settings)
            self.themes = found.themes
            self.theme_of = {id(comments[position]): number for number, theme in enumerate(found.themes) for position in theme.positions}

    def problems(self, comments: Sequence[Comment], limit: int) -> tuple[Problem, ...]:
        """The themes these comments fall in, most detractors first, then the most comments."""
        raised: Counter[int] = Counter()
        detractors: Counter[int] = Counter()
        for comment in comments:
            number = self.theme_of.get(id(comment))
            if number is not None:
                raised[number] += 1
                detractors[number] += band(comment.survey, comment.score) == DETRACTOR
        found = [Problem(self.themes[number].key_words, count, detractors[number]) for number, count in raised.items()]
        found.sort(key=lambda problem: (-problem.detractors, -problem.comments, problem.key_words))
        return tuple(found[:limit])
