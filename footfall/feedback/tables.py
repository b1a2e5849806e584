"""Themes as readable tables: one for the themes, one for their example comments.

The comments are what people typed, so every cell is shown as text, never markup, and an
example is clipped to a line or two."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text

from footfall.feedback.model import BANDS, Theme, Themes
from footfall.reports.sections import table, titled

EXAMPLE_CHARS = 160
COLUMNS = ("theme", "key words", "comments", "share", "detractors", "passives", "promoters", "trend (1st → 2nd half)")


def clipped(text: str, limit: int = EXAMPLE_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def band_share(themes: Themes, theme: Theme, band_name: str) -> str:
    share = themes.share(theme, band_name)
    return "–" if share is None else f"{100 * share:.0f}% ({theme.bands.get(band_name, 0)})"


def trend(theme: Theme) -> str:
    arrow = "↑" if theme.second_half > theme.first_half else "↓" if theme.second_half < theme.first_half else "="
    return f"{theme.first_half} → {theme.second_half} {arrow}"


def themes_tables(themes: Themes) -> RenderableType:
    """The themes table and the examples beneath it."""
    rows = [
        [str(number), ", ".join(theme.key_words) or "–", f"{theme.comments:,}", f"{100 * theme.comments / themes.comments:.0f}%",
         *(band_share(themes, theme, band_name) for band_name in BANDS), trend(theme)]
        for number, theme in enumerate(themes.themes, 1)
    ]
    left_out = []
    if themes.unthemed:
        left_out.append(f"{themes.unthemed:,} sharing no word with the others")
    if themes.wordless:
        left_out.append(f"{themes.wordless:,} without a word (emoji, punctuation)")
    caption = (f"{themes.comments:,} comments; {themes.criterion}; detractors/passives/promoters: the share of each "
               "band's comments in the theme" + (f"; left out: {', '.join(left_out)}" if left_out else ""))
    examples = table(("theme", "example comments"),
                     [[str(number), "\n".join(f"“{clipped(text)}”" for text in theme.examples)]
                      for number, theme in enumerate(themes.themes, 1)])
    return Group(table(COLUMNS, rows, caption), examples)


def site_themes(site: str, themes: Themes, heading: str) -> RenderableType:
    """A site's themes under a title, or why there are none."""
    title = f"Feedback themes of {site}, {heading}"
    if not themes.themes:
        return titled(title, Text(f"  no comment with words to group ({themes.wordless:,} without a word)", style="dim"))
    return titled(title, themes_tables(themes))
