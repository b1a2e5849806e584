"""The shapes of feedback themes: the comments grouped, the settings, the themes found.

Apart from the grouping itself (footfall.feedback.themes), so that reading comments and
printing themes do not load scikit-learn.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from schemas.surveys import DETRACTOR, PASSIVE, PROMOTER

BANDS = (DETRACTOR, PASSIVE, PROMOTER)


@dataclass(frozen=True)
class Comment:
    """One survey answer's comment, with the score that places it in a band."""

    text: str
    survey: str
    score: int
    at: datetime


@dataclass(frozen=True)
class ThemeSettings:
    """How themes are found: the range of theme counts tried, what is shown of each, and the
    corpus share above which a word is a stop word."""

    min_themes: int = 2
    max_themes: int = 8
    key_words: int = 5
    examples: int = 3
    max_df: float = 0.5

    def __post_init__(self) -> None:
        if not 2 <= self.min_themes <= self.max_themes:
            raise ValueError(f"the themes tried must be a range from 2 up, got {self.min_themes} to {self.max_themes}")


@dataclass(frozen=True)
class Theme:
    """A group of comments: its key words, size, bands, trend and a few examples."""

    key_words: tuple[str, ...]
    comments: int
    # The theme's comments in each band (detractor, passive, promoter).
    bands: Mapping[str, int]
    # Comments in the first and the second half of the period.
    first_half: int
    second_half: int
    examples: tuple[str, ...]
    # Which of the comments grouped are the theme's, by their place in the input, so a
    # reader can tell whose comments raise it (personas count their members').
    positions: tuple[int, ...] = ()


@dataclass(frozen=True)
class Themes:
    """The themes of a set of comments, largest first, and how their number was chosen."""

    themes: tuple[Theme, ...]
    # Comments in a theme; comments whose every word is a stop word or used by no other
    # comment; comments with no word at all (emoji, punctuation).
    comments: int
    unthemed: int
    wordless: int
    criterion: str
    band_totals: Mapping[str, int] = field(default_factory=dict)

    def share(self, theme: Theme, band_name: str) -> float | None:
        """The share of the band's comments that raise the theme, None for an empty band."""
        total = self.band_totals.get(band_name, 0)
        return theme.bands.get(band_name, 0) / total if total else None
