"""Feedback themes: comments in English, Russian and Vietnamese grouped by the words that
carry their meaning, the bands, the trend, and the comments a hostile sender could send."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from footfall.feedback.model import Comment, ThemeSettings
from footfall.feedback.themes import find_themes, halves, words
from schemas.surveys import COMMENT_MAX_CHARS, DETRACTOR, PASSIVE, PROMOTER, band

START = datetime(2024, 5, 6, tzinfo=UTC)
PERIOD = (START, START + timedelta(days=28))

# Six themes, two per language, each with the score its writers gave.
GROUPS = {
    "late delivery": (3, ["Delivery was late again", "The delivery took two weeks, far too late",
                          "Late delivery, the parcel arrived after a week", "My delivery was late and the courier was rude",
                          "Slow delivery, the order came late"]),
    "high prices": (8, ["The price is too high", "Prices are too expensive for me", "Too expensive, the price doubled",
                        "Great quality but the price is high", "The price is higher than in other shops"]),
    "доставка": (2, ["Доставка опоздала на неделю", "Очень долгая доставка", "Доставка заняла две недели",
                     "Курьер опоздал, доставка медленная", "Доставка снова опоздала"]),
    "поддержка": (4, ["Поддержка не отвечает", "Служба поддержки не помогла", "Поддержка отвечает очень медленно",
                      "Написал в поддержку, никто не ответил", "Поддержка не ответила на письмо"]),
    "giao hàng": (6, ["Giao hàng quá chậm", "Giao hàng chậm, đợi hai tuần", "Giao hàng trễ một tuần",
                      "Shipper giao hàng chậm quá", "Giao hàng lâu quá"]),
    "chất lượng": (10, ["Chất lượng sản phẩm rất tốt", "Sản phẩm chất lượng tốt", "Chất lượng tốt, sẽ mua lại",
                        "Sản phẩm tốt, chất lượng cao", "Rất hài lòng với chất lượng"]),
}
GROUP_OF = {text: name for name, (_, texts) in GROUPS.items() for text in texts}


def comments() -> list[Comment]:
    return [Comment(text, "nps", score, START + timedelta(days=5 * number))
            for score, texts in GROUPS.values() for number, text in enumerate(texts)]


def test_comments_in_three_languages_are_grouped_by_their_meaning_bearing_words() -> None:
    found = find_themes(comments(), PERIOD)
    # Every theme holds one group's comments; the prices' comments may split by wording.
    groups = [{GROUP_OF[text] for text in theme.examples} for theme in found.themes]
    assert all(len(group) == 1 for group in groups), groups
    assert {name for group in groups for name in group} == set(GROUPS)
    key_words = {next(iter(group)): theme.key_words for group, theme in zip(groups, found.themes)}
    assert "delivery" in key_words["late delivery"] and "late" in key_words["late delivery"]
    assert "доставка" in key_words["доставка"]
    assert "поддержка" in key_words["поддержка"]
    assert "giao hàng" in key_words["giao hàng"]
    assert "chất lượng" in key_words["chất lượng"]
    assert found.comments == 30 and found.unthemed == found.wordless == 0
    assert found.criterion.endswith("themes") and "silhouette" in found.criterion


def test_a_theme_shows_its_share_of_each_band_and_its_trend() -> None:
    found = find_themes(comments(), PERIOD)
    quality = next(theme for theme in found.themes if "chất lượng" in theme.key_words)
    assert dict(quality.bands) == {PROMOTER: 5}
    assert found.share(quality, PROMOTER) == 1.0 and found.share(quality, DETRACTOR) == 0.0
    assert found.band_totals == {DETRACTOR: 20, PASSIVE: 5, PROMOTER: 5}
    # Days 0, 5, 10 before the middle (day 14), days 15 and 20 after it.
    assert (quality.first_half, quality.second_half) == (3, 2)


def test_the_same_comments_give_the_same_themes() -> None:
    assert find_themes(comments(), PERIOD) == find_themes(comments(), PERIOD)


def test_key_words_leave_out_words_every_theme_uses() -> None:
    filler = [Comment(f"{text} okay", "nps", 5, START) for text in GROUP_OF]
    found = find_themes(filler, PERIOD)
    assert all("okay" not in theme.key_words for theme in found.themes)


@pytest.mark.parametrize(("survey", "score", "expected"), [
    ("nps", 0, DETRACTOR), ("nps", 6, DETRACTOR), ("nps", 7, PASSIVE), ("nps", 8, PASSIVE), ("nps", 9, PROMOTER), ("nps", 10, PROMOTER),
    ("csat", 1, DETRACTOR), ("csat", 2, DETRACTOR), ("csat", 3, PASSIVE), ("csat", 4, PROMOTER), ("csat", 5, PROMOTER),
    ("ces", 1, DETRACTOR), ("ces", 3, DETRACTOR), ("ces", 4, PASSIVE), ("ces", 5, PROMOTER), ("ces", 7, PROMOTER),
])
def test_every_surveys_scores_fall_in_three_bands(survey: str, score: int, expected: str) -> None:
    assert band(survey, score) == expected


def test_the_trend_counts_each_half_of_the_period_the_middle_in_the_second() -> None:
    middle = START + timedelta(days=14)
    assert halves([START, middle - timedelta(seconds=1), middle, PERIOD[1]], PERIOD) == (2, 2)
    assert halves([], PERIOD) == (0, 0)


def test_no_comments_and_comments_without_words_give_no_theme() -> None:
    assert find_themes([], PERIOD).themes == ()
    wordless = [Comment(text, "csat", 1, START) for text in ("", "   ", "👍👍👍", "!!! ???", "12345", "😡 … 😡", "a")]
    found = find_themes(wordless, PERIOD)
    assert found.themes == () and found.wordless == len(wordless) and found.comments == 0


def test_one_comment_and_identical_comments_are_one_theme() -> None:
    one = find_themes([Comment("Доставка опоздала", "nps", 2, START)], PERIOD)
    assert len(one.themes) == 1 and one.themes[0].comments == 1 and one.criterion.startswith("one theme")
    assert one.themes[0].key_words == ("доставка опоздала",)  # a pair as high as its words stands for them
    same = find_themes([Comment("Too expensive!", "nps", 3, START)] * 50, PERIOD)
    assert len(same.themes) == 1 and same.themes[0].comments == 50 and same.themes[0].examples == ("Too expensive!",)


def test_a_100_kb_comment_is_read_up_to_the_bound() -> None:
    huge = Comment("delivery late " * 8000, "nps", 1, START)
    assert len(huge.text) > 100_000 and len(words(huge.text)) <= COMMENT_MAX_CHARS // 2
    found = find_themes([huge, *comments()], PERIOD)
    assert found.comments == 31
    assert all(len(example) <= COMMENT_MAX_CHARS for theme in found.themes for example in theme.examples)


def test_words_are_letters_of_any_script_case_folded() -> None:
    assert words("Giao HÀNG chậm!! Доставка, DELIVERY 😡 42 x") == ["giao", "hàng", "chậm", "доставка", "delivery"]
    # Decomposed Vietnamese (a letter and its combining marks) reads as the composed word.
    assert words("ha\u0300ng") == ["hàng"]


def test_the_range_of_themes_tried_must_start_at_two() -> None:
    with pytest.raises(ValueError):
        ThemeSettings(min_themes=1)
    with pytest.raises(ValueError):
        ThemeSettings(min_themes=5, max_themes=3)


def test_each_theme_names_its_comments_by_their_place_in_the_input() -> None:
    given = [Comment("👍👍", "nps", 10, START), *comments(), Comment("!!!", "nps", 1, START)]
    found = find_themes(given, PERIOD)
    placed = [position for theme in found.themes for position in theme.positions]
    assert len(placed) == len(set(placed)) == found.comments and 0 not in placed and len(given) - 1 not in placed
    for theme in found.themes:
        assert {GROUP_OF[given[position].text] for position in theme.positions} == {GROUP_OF[theme.examples[0]]}
